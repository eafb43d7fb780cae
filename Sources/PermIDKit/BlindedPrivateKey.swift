internal import CCrypto

/// A long-term private key blinded for one epoch (FRIENDS-v1 part A): it signs as its blinded PermID,
/// whose signatures verify as ordinary `ed25519` or `ecdsa-sha256` ones.
///
/// For EC keys, owns one OpenSSL `EVP_PKEY` holding d' = h·d mod n, freed in `deinit`.
public final class BlindedPrivateKey: @unchecked Sendable {
    // @unchecked Sendable: every property is set in init and never changed; signing only reads the
    // EVP_PKEY, which OpenSSL documents as safe from several threads.
    private enum Secret {
        /// a' = h·a mod ℓ (little-endian) and prefix' of FRIENDS-v1 part A.
        case ed25519(scalar: [UInt8], prefix: [UInt8])
        /// An EC key pair (d', Q').
        case ec(OpaquePointer, Curve)
    }

    private let secret: Secret
    /// The blinded PermID this key signs as.
    public let permID: PermID
    /// The long-term PermID it was blinded from.
    public let longTermPermID: PermID
    /// The epoch it belongs to.
    public let epoch: UInt64
    /// The scheme it signs with: `ed25519` or `ecdsa-sha256`.
    public var scheme: SignatureScheme { permID.keyType.blindedScheme }

    deinit {
        if case .ec(let key, _) = secret { EVP_PKEY_free(key) }
    }

    /// Blinds `key` for `epoch`.
    init(blinding key: PrivateKey, epoch: UInt64) throws(BlindingError) {
        let factor = try Blinding.factor(permID: key.permID, epoch: epoch)
        longTermPermID = key.permID
        self.epoch = epoch
        switch key.permID.keyType {
        case .ed25519, .libnacl:
            guard let seed = key.rawPrivateKey() else { throw .unusableKey("cannot read the Ed25519 seed") }
            let hash = Blinding.sha512(seed)
            var clamped = Array(hash[0..<32])
            clamped[0] &= 248
            clamped[31] &= 127
            clamped[31] |= 64
            let a = Ed25519Arithmetic.reduce(clamped + [UInt8](repeating: 0, count: 32))
            let scalar = Ed25519Arithmetic.multiply(factor.scalar, a)
            let prefix = Array(Blinding.sha512(Blinding.prefixTag, Array(hash[32..<64]), Blinding.bigEndian(epoch))[0..<32])
            guard let point = Ed25519Arithmetic.multiplyBase(by: scalar) else { throw .zeroFactor }
            secret = .ed25519(scalar: scalar, prefix: prefix)
            permID = PermID(validatedBytes: SubjectPublicKeyInfo.ed25519Prefix + point, keyType: .ed25519)
        case .ec(let curve):
            guard let group = ECGroups.shared.group(curve) else { throw .unsupportedKeyType(key.permID.keyType) }
            guard let d = key.ecPrivateScalar(width: group.scalarBytes) else {
                throw .unusableKey("cannot read the EC private scalar")
            }
            let blindedScalar = try group.multiply(factor.scalar, d)
            // Q' = [h]Q from the public key (public inputs: the faster variable-time path); equal to [d']G.
            let prefixLength = SubjectPublicKeyInfo.prefix(curve).count
            let point = try group.multiply(point: Array(key.permID.bytes[prefixLength...]), by: factor.scalar)
            secret = .ec(try Self.ecKey(curve: curve, scalar: blindedScalar, point: point), curve)
            permID = PermID(validatedBytes: SubjectPublicKeyInfo.prefix(curve) + point, keyType: .ec(curve))
        }
    }

    /// Signs a message as ``permID`` with ``scheme``, returning the raw signature of PROTOCOL-v1 §2.
    ///
    /// Ed25519: r = SHA-512(prefix' ‖ M) mod ℓ, R = [r]B, k = SHA-512(R ‖ A' ‖ M) mod ℓ, S = r + k·a' mod ℓ;
    /// deterministic. EC: ordinary ECDSA over SHA-256 with d'.
    ///
    /// - Throws: ``KeyError/cryptoFailure(_:)``.
    public func sign(_ message: [UInt8]) throws(KeyError) -> [UInt8] {
        switch secret {
        case .ed25519(let scalar, let prefix):
            let r = Ed25519Arithmetic.reduce(Blinding.sha512(prefix, message))
            guard let commitment = Ed25519Arithmetic.multiplyBase(by: r) else {
                throw .cryptoFailure("the Ed25519 nonce is 0")
            }
            let k = Ed25519Arithmetic.reduce(Blinding.sha512(commitment, Array(permID.bytes.suffix(32)), message))
            return commitment + Ed25519Arithmetic.add(r, Ed25519Arithmetic.multiply(k, scalar))
        case .ec(let key, let curve):
            guard let context = EVP_MD_CTX_new() else { throw .cryptoFailure(OpenSSL.drainErrors()) }
            defer { EVP_MD_CTX_free(context) }
            var length = 0
            guard EVP_DigestSignInit(context, nil, MessageDigest.for(.ecdsaSHA256), nil, key) == 1,
                  EVP_DigestSign(context, nil, &length, message, message.count) == 1
            else { throw .cryptoFailure(OpenSSL.drainErrors()) }
            var signature = [UInt8](repeating: 0, count: length)
            guard EVP_DigestSign(context, &signature, &length, message, message.count) == 1 else {
                throw .cryptoFailure(OpenSSL.drainErrors())
            }
            guard let raw = ECDSASignature.raw(fromDER: Array(signature[0..<length]), fieldBytes: curve.fieldBytes) else {
                throw .cryptoFailure("could not convert the ECDSA signature to raw form")
            }
            return raw
        }
    }

    /// An EC key pair from a big-endian scalar and its uncompressed public point (EVP_PKEY_fromdata). Caller frees.
    private static func ecKey(curve: Curve, scalar: [UInt8], point: [UInt8]) throws(BlindingError) -> OpaquePointer {
        // OSSL_PARAM integers are in native byte order.
        var native = [UInt8](scalar.reversed())
        if UInt32(1).bigEndian == 1 { native = scalar }
        var name = Array(curve.openSSLName.utf8CString)
        var publicPoint = point
        guard let context = EVP_PKEY_CTX_new_from_name(nil, "EC", nil) else { throw .cryptoFailure(OpenSSL.drainErrors()) }
        defer { EVP_PKEY_CTX_free(context) }
        // EVP_PKEY_KEYPAIR, a macro of macros that Swift does not import.
        let keyPair = OSSL_KEYMGMT_SELECT_DOMAIN_PARAMETERS | OSSL_KEYMGMT_SELECT_OTHER_PARAMETERS
            | OSSL_KEYMGMT_SELECT_PUBLIC_KEY | OSSL_KEYMGMT_SELECT_PRIVATE_KEY
        // OSSL_PARAM keeps pointers to its key names: C strings that live until the call returns.
        let keys: [String] = [OSSL_PKEY_PARAM_GROUP_NAME, OSSL_PKEY_PARAM_PRIV_KEY, OSSL_PKEY_PARAM_PUB_KEY]
        let names = keys.map { strdup($0) }
        defer { names.forEach { free($0) } }
        guard let groupKey = names[0], let privateKey = names[1], let publicKey = names[2] else {
            throw .cryptoFailure("out of memory")
        }
        var made: OpaquePointer?
        let ok = name.withUnsafeMutableBufferPointer { name in
            native.withUnsafeMutableBytes { native in
                publicPoint.withUnsafeMutableBytes { publicPoint in
                    var parameters = [
                        OSSL_PARAM_construct_utf8_string(groupKey, name.baseAddress, name.count - 1),
                        OSSL_PARAM_construct_BN(privateKey, native.bindMemory(to: UInt8.self).baseAddress, native.count),
                        OSSL_PARAM_construct_octet_string(publicKey, publicPoint.baseAddress, publicPoint.count),
                        OSSL_PARAM_construct_end(),
                    ]
                    return EVP_PKEY_fromdata_init(context) == 1
                        && EVP_PKEY_fromdata(context, &made, keyPair, &parameters) == 1
                }
            }
        }
        guard ok, let made else { throw .cryptoFailure(OpenSSL.drainErrors()) }
        return made
    }
}
