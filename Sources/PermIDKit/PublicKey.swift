internal import CCrypto

/// A validated public key parsed once from a PermID's binary form, able to verify signatures.
///
/// Owns one OpenSSL `EVP_PKEY`, freed in `deinit`.
public final class PublicKey: @unchecked Sendable {
    // @unchecked Sendable: the EVP_PKEY is written only in init and then only read;
    // OpenSSL documents concurrent read-only use of a key (verification) as thread-safe.
    private let key: OpaquePointer
    /// The PermID this key was parsed from.
    public let permID: PermID

    deinit { EVP_PKEY_free(key) }

    /// Parses and validates a PermID's text form (base64url without padding).
    ///
    /// - Throws: ``DirectoryError/invalidPermID(_:)``, ``DirectoryError/nonCanonicalPermID(canonical:)``
    ///   or ``DirectoryError/unsupportedKey(_:)``.
    public convenience init(text: some StringProtocol) throws(DirectoryError) {
        guard let bytes = Base64URL.decode(text) else {
            throw .invalidPermID("PermID is not unpadded base64url")
        }
        try self.init(bytes: bytes)
    }

    /// Parses and validates a PermID's binary form: Ed25519 or named-curve EC SubjectPublicKeyInfo with an
    /// uncompressed point, or IPv8's `LibNaCLPK:` dual key.
    ///
    /// - Throws: ``DirectoryError/invalidPermID(_:)`` for bytes that are no valid key,
    ///   ``DirectoryError/nonCanonicalPermID(canonical:)`` for a valid key in another encoding,
    ///   ``DirectoryError/unsupportedKey(_:)`` for keys of other algorithms or curves.
    public init(bytes: [UInt8]) throws(DirectoryError) {
        if bytes.starts(with: PermID.libnaclPrefix) {
            (key, permID) = try Self.parseLibNaCL(bytes)
        } else if let parsed = try Self.parseCanonicalSubjectPublicKeyInfo(bytes) {
            (key, permID) = parsed
        } else {
            (key, permID) = try Self.parseSubjectPublicKeyInfo(bytes)
        }
    }

    /// Verifies a raw signature over a message. Returns `false` for any failure, including a scheme
    /// this key may not use or a wrong length; callers check those first to report them precisely.
    ///
    /// Ed25519 is verified by libsodium, some 1.6 times as fast as OpenSSL here. For a key this type
    /// accepted (canonical, not of small order) both check S < ℓ and that [S]B − [k]A encodes to R;
    /// libsodium alone also refuses an R of small order, which only the key's owner can make verify.
    /// OpenSSL decides that one case, so what verifies is exactly what OpenSSL verifies.
    public func verify(signature: [UInt8], message: [UInt8], scheme: SignatureScheme) -> Bool {
        guard permID.keyType.allowedSchemes.contains(scheme), signature.count == permID.keyType.signatureLength else { return false }
        if scheme == .ed25519 {
            let verified = signature.withUnsafeBytes { signature in
                message.withUnsafeBytes { message in
                    permID.bytes.withUnsafeBytes { permID in
                        Ed25519Arithmetic.verify(signature: signature, message: message, publicKey: UnsafeRawBufferPointer(rebasing: permID.suffix(32)))
                    }
                }
            }
            guard !verified else { return true }
            guard Ed25519Point.isSmallOrderEncoding(signature.prefix(32)) else { return false }
        }
        return verifiedByOpenSSL(signature: signature, message: message, scheme: scheme)
    }

    private func verifiedByOpenSSL(signature: [UInt8], message: [UInt8], scheme: SignatureScheme) -> Bool {
        guard let context = EVP_MD_CTX_new() else { return false }
        defer { EVP_MD_CTX_free(context) }
        guard EVP_DigestVerifyInit(context, nil, MessageDigest.for(scheme), nil, key) == 1 else {
            OpenSSL.drainErrors()
            return false
        }
        let encoded = scheme == .ed25519 ? signature : ECDSASignature.der(fromRaw: signature)
        let result = encoded.withUnsafeBytes { sig in
            message.withUnsafeBytes { msg in
                EVP_DigestVerify(
                    context,
                    sig.bindMemory(to: UInt8.self).baseAddress, sig.count,
                    msg.bindMemory(to: UInt8.self).baseAddress, msg.count)
            }
        }
        if result != 1 { OpenSSL.drainErrors() }
        return result == 1
    }

    // MARK: - Parsing

    private static func parseLibNaCL(_ bytes: [UInt8]) throws(DirectoryError) -> (OpaquePointer, PermID) {
        guard bytes.count == PermID.libnaclPrefix.count + 64 else {
            throw .invalidPermID("a LibNaCLPK: key has exactly 64 key bytes, got \(bytes.count - PermID.libnaclPrefix.count)")
        }
        let key = try ed25519Key(Array(bytes[(bytes.count - 32)...]))
        return (key, PermID(validatedBytes: bytes, keyType: .libnacl))
    }

    private static func ed25519Key(_ raw: [UInt8]) throws(DirectoryError) -> OpaquePointer {
        guard Ed25519Point.isValidEncoding(raw) else {
            throw .invalidPermID("the Ed25519 public key is not a valid curve point")
        }
        let key = raw.withUnsafeBufferPointer {
            EVP_PKEY_new_raw_public_key_ex(nil, "ED25519", nil, $0.baseAddress, 32)
        }
        guard let key else { throw .invalidPermID("invalid Ed25519 key: \(OpenSSL.drainErrors())") }
        return key
    }

    /// The fast path for the canonical encodings, which are a fixed prefix per key type followed by the
    /// key bytes. Returns `nil` for anything else, which the general DER parser then classifies.
    /// (OpenSSL 3's generic `d2i_PUBKEY` decoder costs more than a signature verification.)
    private static func parseCanonicalSubjectPublicKeyInfo(_ bytes: [UInt8]) throws(DirectoryError) -> (OpaquePointer, PermID)? {
        if bytes.count == SubjectPublicKeyInfo.ed25519Prefix.count + 32, bytes.starts(with: SubjectPublicKeyInfo.ed25519Prefix) {
            let key = try ed25519Key(Array(bytes[SubjectPublicKeyInfo.ed25519Prefix.count...]))
            return (key, PermID(validatedBytes: bytes, keyType: .ed25519))
        }
        guard let curve = SubjectPublicKeyInfo.curve(ofCanonical: bytes) else { return nil }
        let point = Array(bytes[SubjectPublicKeyInfo.prefix(curve).count...])
        guard let key = SubjectPublicKeyInfo.ecKey(curve: curve, point: point) else { return nil }
        if curve.cofactor > 1 {
            guard let context = EVP_PKEY_CTX_new_from_pkey(nil, key, nil) else { EVP_PKEY_free(key); throw .internalError }
            defer { EVP_PKEY_CTX_free(context) }
            guard EVP_PKEY_public_check(context) == 1 else {
                OpenSSL.drainErrors()
                EVP_PKEY_free(key)
                throw .invalidPermID("the EC public key is not a valid point of \(curve.rawValue)'s group")
            }
        }
        return (key, PermID(validatedBytes: bytes, keyType: .ec(curve)))
    }

    private static func parseSubjectPublicKeyInfo(_ bytes: [UInt8]) throws(DirectoryError) -> (OpaquePointer, PermID) {
        var consumed = 0
        let parsed: OpaquePointer? = bytes.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress, buffer.count > 0 else { return nil }
            var cursor: UnsafePointer<UInt8>? = base
            let key = d2i_PUBKEY(nil, &cursor, buffer.count)
            if let cursor { consumed = cursor - base }
            return key
        }
        guard let key = parsed else {
            OpenSSL.drainErrors()
            throw .invalidPermID("PermID is not a valid public key (DER SubjectPublicKeyInfo or LibNaCLPK:)")
        }
        do throws(DirectoryError) {
            let keyType = try validatedType(key)
            if keyType != .ed25519 {
                _ = EVP_PKEY_set_utf8_string_param(key, OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT, "uncompressed")
            }
            guard let canonical = OpenSSL.subjectPublicKeyInfo(key) else { throw .internalError }
            if canonical != bytes || consumed != bytes.count {
                throw .nonCanonicalPermID(canonical: Base64URL.encode(canonical))
            }
            return (key, PermID(validatedBytes: bytes, keyType: keyType))
        } catch {
            EVP_PKEY_free(key)
            throw error
        }
    }

    /// The key's type after checking algorithm, curve, parameter encoding and point.
    private static func validatedType(_ key: OpaquePointer) throws(DirectoryError) -> KeyType {
        let baseID = EVP_PKEY_get_base_id(key)
        if baseID == EVP_PKEY_ED25519 {
            guard let raw = OpenSSL.rawPublicKey(key), Ed25519Point.isValidEncoding(raw) else {
                throw .invalidPermID("the Ed25519 public key is not a valid curve point")
            }
            return .ed25519
        }
        guard baseID == EVP_PKEY_EC else {
            let name = OBJ_nid2sn(baseID).map { String(cString: $0) } ?? "unknown"
            throw .unsupportedKey("\(name) keys are not accepted; use Ed25519 or EC on a listed named curve")
        }
        guard OpenSSL.stringParameter(key, OSSL_PKEY_PARAM_EC_ENCODING) == OSSL_PKEY_EC_ENCODING_GROUP else {
            throw .unsupportedKey("EC keys with explicit curve parameters are not accepted; use a named curve")
        }
        let groupName = OpenSSL.stringParameter(key, OSSL_PKEY_PARAM_GROUP_NAME) ?? "unknown"
        guard let curve = Curve(openSSLName: groupName) else {
            throw .unsupportedKey("curve \(groupName) is not accepted")
        }
        guard let context = EVP_PKEY_CTX_new_from_pkey(nil, key, nil) else { throw .internalError }
        defer { EVP_PKEY_CTX_free(context) }
        // On cofactor-1 curves every on-curve point other than infinity is in the group: the quick
        // check suffices. On the binary Koblitz curves (cofactor 2 or 4) also check n·Q = O.
        let valid = curve.cofactor == 1 ? EVP_PKEY_public_check_quick(context) : EVP_PKEY_public_check(context)
        guard valid == 1 else {
            OpenSSL.drainErrors()
            throw .invalidPermID("the EC public key is not a valid point of \(groupName)'s group")
        }
        return .ec(curve)
    }
}
