// libFuzzer target: PermID parsing from its binary form (PublicKey(bytes:)): the canonical
// fast paths, OpenSSL's d2i_PUBKEY, the Ed25519 point check and the LibNaCLPK: form.
//
// Compiled together with Sources/PermIDKit/*.swift into one executable (see fuzz/run.sh).
// Properties, each checked with a trap so libFuzzer reports a violation as a crash:
//   1. PublicKey(bytes:) never crashes and is deterministic (same PermID, or the same error);
//      PublicKey(text:) of the base64url form behaves the same;
//   2. if it succeeds: the PermID holds exactly the input bytes, PublicKey(bytes: permID.bytes)
//      succeeds with the same PermID, and PermID(canonicalLayout:) of the bytes equals it;
//   3. if it throws .nonCanonicalPermID(canonical): the canonical text is another encoding (not
//      the input), it parses successfully, and that key is in canonical layout;
//   4. verify() with a signature made of input bytes does not crash for any scheme
//      (exercises the raw → DER ECDSA conversion); its result is not checked.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPermIDDER(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = Array(UnsafeBufferPointer(start: data, count: size))

    let result = parseKey(input)
    require(permIDOrError(result) == permIDOrError(parseKey(input)), "PublicKey(bytes:) is not deterministic")
    require(permIDOrError(result) == permIDOrError(parseText(Base64URL.encode(input))),
            "PublicKey(text:) and PublicKey(bytes:) disagree")

    switch result {
    case .success(let key):
        require(key.permID.bytes == input, "the PermID does not hold the input bytes")
        require(Base64URL.decode(key.permID.text) == input, "the PermID's text does not decode to its bytes")
        guard case .success(let again) = parseKey(key.permID.bytes) else {
            fatalError("a parsed PermID's own bytes do not parse")
        }
        require(again.permID == key.permID, "re-parsing a PermID gives a different PermID")
        guard let layout = PermID(canonicalLayout: input) else {
            fatalError("an accepted PermID is not in canonical layout (keyType \(key.permID.keyType))")
        }
        require(layout == key.permID, "PermID(canonicalLayout:) gives \(layout.keyType), the parser \(key.permID.keyType)")
        let signatureLength = key.permID.keyType.signatureLength
        var signature = [UInt8]()
        while signature.count < signatureLength { signature += input.isEmpty ? [0] : input }
        signature = Array(signature.prefix(signatureLength))
        for scheme in SignatureScheme.allCases {
            _ = key.verify(signature: signature, message: input, scheme: scheme)
            _ = key.verify(signature: Array(signature.dropLast()), message: input, scheme: scheme)
        }

    case .failure(.nonCanonicalPermID(let canonical)):
        guard let canonicalBytes = Base64URL.decode(canonical) else {
            fatalError("the canonical PermID \(canonical) is not base64url")
        }
        require(canonicalBytes != input, "nonCanonicalPermID names the input itself as canonical")
        switch parseText(canonical) {
        case .success(let key):
            require(key.permID.bytes == canonicalBytes, "the canonical PermID parses to other bytes")
            require(PermID(canonicalLayout: canonicalBytes) == key.permID,
                    "the canonical PermID is not in canonical layout")
        case .failure(let error):
            fatalError("the canonical PermID \(canonical) does not parse: \(error)")
        }

    case .failure(let error):
        switch error {
        case .invalidPermID, .unsupportedKey: break
        default: fatalError("PublicKey(bytes:) threw an unexpected error: \(error)")
        }
    }
    return 0
}

private func parseKey(_ bytes: [UInt8]) -> Result<PublicKey, DirectoryError> {
    do { return .success(try PublicKey(bytes: bytes)) } catch { return .failure(error) }
}

private func parseText(_ text: String) -> Result<PublicKey, DirectoryError> {
    do { return .success(try PublicKey(text: text)) } catch { return .failure(error) }
}

private func permIDOrError(_ result: Result<PublicKey, DirectoryError>) -> Result<PermID, DirectoryError> {
    result.map(\.permID)
}

/// Traps with the message even in -O builds (precondition drops it), so the fuzzer log says which property failed.
private func require(_ condition: Bool, _ message: @autoclosure () -> String, file: StaticString = #file, line: UInt = #line) {
    if !condition { fatalError(message(), file: file, line: line) }
}
