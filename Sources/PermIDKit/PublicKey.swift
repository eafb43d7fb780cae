internal import CCrypto

/// A validated public key parsed once from a PermID's binary form, able to verify signatures.
///
/// Owns one OpenSSL `EVP_PKEY` for an EC key, freed in `deinit`. An Ed25519 key has none: libsodium
/// verifies it, and the rare signature OpenSSL must decide gets a key made for that call.
public final class PublicKey: @unchecked Sendable {
    // @unchecked Sendable: the EVP_PKEY is written only in init and then only read;
    // OpenSSL documents concurrent read-only use of a key (verification) as thread-safe.
    private let key: OpaquePointer?
    /// The PermID this key was parsed from.
    public let permID: PermID
    /// Whether this Ed25519 key's curve-point check was left to verification (``init(announced:)``).
    private let pointCheckDeferred: Bool

    deinit { if let key { EVP_PKEY_free(key) } }

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
    public convenience init(bytes: [UInt8]) throws(DirectoryError) {
        try self.init(bytes: bytes, deferringPointCheck: false)
    }

    /// Parses a PermID's text form to verify one announcement with: every check of
    /// ``init(text:)`` except, for an Ed25519 key, the curve-point check, which costs a third of a
    /// verification. A signature libsodium verifies proves the point valid (libsodium refuses keys
    /// that are non-canonical, of small order or off the curve, as this type does), so the check
    /// runs only when that verification does not succeed, and ``checkDeferredPoint()`` runs it for
    /// a caller that stops before verifying: an invalid key is still reported as one, before any
    /// later rule.
    convenience init(announced text: String) throws(DirectoryError) {
        guard let bytes = Base64URL.decode(text) else {
            throw .invalidPermID("PermID is not unpadded base64url")
        }
        try self.init(bytes: bytes, deferringPointCheck: true)
    }

    private init(bytes: [UInt8], deferringPointCheck: Bool) throws(DirectoryError) {
        if bytes.starts(with: PermID.libnaclPrefix) {
            permID = try Self.parseLibNaCL(bytes)
            key = nil
        } else if let parsed = try Self.parseCanonicalSubjectPublicKeyInfo(bytes) {
            (key, permID) = parsed
        } else {
            (key, permID) = try Self.parseSubjectPublicKeyInfo(bytes)
        }
        pointCheckDeferred = deferringPointCheck && key == nil
        if key == nil, !deferringPointCheck { try checkEd25519Point() }
    }

    /// Runs the Ed25519 curve-point check that ``init(announced:)`` deferred (nothing for other keys).
    ///
    /// - Throws: ``DirectoryError/invalidPermID(_:)`` when the key is not a valid point.
    func checkDeferredPoint() throws(DirectoryError) {
        if pointCheckDeferred { try checkEd25519Point() }
    }

    private func checkEd25519Point() throws(DirectoryError) {
        guard Ed25519Point.isValidEncoding(Array(permID.bytes.suffix(32))) else {
            throw .invalidPermID("the Ed25519 public key is not a valid curve point")
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
            guard Ed25519Point.isSmallOrderEncoding(signature.prefix(32)), (try? checkDeferredPoint()) != nil else { return false }
            guard let ed25519 = Self.openSSLEd25519Key(permID.bytes.suffix(32)) else { return false }
            defer { EVP_PKEY_free(ed25519) }
            return verifiedByOpenSSL(ed25519, signature: signature, message: message, scheme: scheme)
        }
        guard let key else { return false }
        return verifiedByOpenSSL(key, signature: signature, message: message, scheme: scheme)
    }

    private func verifiedByOpenSSL(_ key: OpaquePointer, signature: [UInt8], message: [UInt8], scheme: SignatureScheme) -> Bool {
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

    /// The PermID of a `LibNaCLPK:` key of the right length; its Ed25519 point is checked by the caller.
    private static func parseLibNaCL(_ bytes: [UInt8]) throws(DirectoryError) -> PermID {
        guard bytes.count == PermID.libnaclPrefix.count + 64 else {
            throw .invalidPermID("a LibNaCLPK: key has exactly 64 key bytes, got \(bytes.count - PermID.libnaclPrefix.count)")
        }
        return PermID(validatedBytes: bytes, keyType: .libnacl)
    }

    /// An OpenSSL key for 32 raw Ed25519 key bytes, owned by the caller; nil if OpenSSL refuses it.
    private static func openSSLEd25519Key(_ raw: some Collection<UInt8>) -> OpaquePointer? {
        let key = Array(raw).withUnsafeBufferPointer {
            EVP_PKEY_new_raw_public_key_ex(nil, "ED25519", nil, $0.baseAddress, 32)
        }
        if key == nil { OpenSSL.drainErrors() }
        return key
    }

    /// The fast path for the canonical encodings, which are a fixed prefix per key type followed by the
    /// key bytes. Returns `nil` for anything else, which the general DER parser then classifies.
    /// (OpenSSL 3's generic `d2i_PUBKEY` decoder costs more than a signature verification.)
    /// An Ed25519 key comes back without an OpenSSL key; its point is checked by the caller.
    private static func parseCanonicalSubjectPublicKeyInfo(_ bytes: [UInt8]) throws(DirectoryError) -> (OpaquePointer?, PermID)? {
        if bytes.count == SubjectPublicKeyInfo.ed25519Prefix.count + 32, bytes.starts(with: SubjectPublicKeyInfo.ed25519Prefix) {
            return (nil, PermID(validatedBytes: bytes, keyType: .ed25519))
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

    /// The general DER path; like the fast path, it returns no OpenSSL key for Ed25519.
    private static func parseSubjectPublicKeyInfo(_ bytes: [UInt8]) throws(DirectoryError) -> (OpaquePointer?, PermID) {
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
            let permID = PermID(validatedBytes: bytes, keyType: keyType)
            guard keyType != .ed25519 else { EVP_PKEY_free(key); return (nil, permID) }
            return (key, permID)
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
