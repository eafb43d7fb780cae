internal import CCrypto

/// Why a private key could not be made, read, written or used.
public enum KeyError: Error, Hashable, Sendable {
    /// The bytes are not a private key in any supported format.
    case unreadable(String)
    /// The key is well-formed but of a kind permid does not support.
    case unsupported(String)
    /// The key cannot be written in the requested format.
    case notExportable(String)
    /// OpenSSL failed to generate or sign.
    case cryptoFailure(String)
}

/// A private key that can sign records: Ed25519, EC on an accepted curve, or IPv8's dual curve25519 key.
///
/// Owns one OpenSSL `EVP_PKEY` (the signing key), freed in `deinit`.
public final class PrivateKey: @unchecked Sendable {
    // @unchecked Sendable: the EVP_PKEY is written only in init; signing only reads it, which OpenSSL
    // documents as safe from several threads.
    private let key: OpaquePointer
    /// For a `LibNaCLSK:` key, the X25519 secret that comes first in IPv8's form; `nil` otherwise.
    let libnaclCryptSecret: [UInt8]?
    /// The PermID of the matching public key.
    public let permID: PermID

    /// The ASCII prefix of IPv8's dual curve25519 private key.
    public static let libnaclPrefix = Array("LibNaCLSK:".utf8)

    deinit { EVP_PKEY_free(key) }

    /// Takes ownership of `key`, freeing it if the key is not usable as a PermID.
    private init(key: OpaquePointer, libnaclCryptSecret: [UInt8]? = nil) throws(KeyError) {
        do {
            permID = try Self.permID(of: key, libnaclCryptSecret: libnaclCryptSecret)
        } catch {
            EVP_PKEY_free(key)
            throw error
        }
        self.key = key
        self.libnaclCryptSecret = libnaclCryptSecret
    }

    // MARK: - Making keys

    /// Generates a fresh key of the given type.
    public static func generate(_ type: KeyType) throws(KeyError) -> PrivateKey {
        let algorithm: String
        switch type {
        case .libnacl:
            var material = [UInt8](repeating: 0, count: 64)
            guard RAND_bytes(&material, 64) == 1 else { throw .cryptoFailure(OpenSSL.drainErrors()) }
            return try PrivateKey(ipv8Binary: libnaclPrefix + material)
        case .ed25519: algorithm = "ED25519"
        case .ec: algorithm = "EC"
        }
        guard let context = EVP_PKEY_CTX_new_from_name(nil, algorithm, nil) else {
            throw .cryptoFailure(OpenSSL.drainErrors())
        }
        defer { EVP_PKEY_CTX_free(context) }
        guard EVP_PKEY_keygen_init(context) == 1 else { throw .cryptoFailure(OpenSSL.drainErrors()) }
        if case .ec(let curve) = type, EVP_PKEY_CTX_set_group_name(context, curve.openSSLName) != 1 {
            throw .cryptoFailure(OpenSSL.drainErrors())
        }
        var generated: OpaquePointer?
        guard EVP_PKEY_generate(context, &generated) == 1, let key = generated else {
            throw .cryptoFailure(OpenSSL.drainErrors())
        }
        return try PrivateKey(key: key)
    }

    /// Reads a key file's contents in any supported format: PKCS#8 or SEC1 (`EC PRIVATE KEY`) PEM,
    /// or IPv8's `key_to_bin()` bytes (`LibNaCLSK:` ‖ 64 bytes, or SEC1 DER `ECPrivateKey`).
    public convenience init(fileContents: [UInt8]) throws(KeyError) {
        if fileContents.starts(with: Array("-----BEGIN".utf8)) {
            try self.init(pem: fileContents)
        } else {
            try self.init(ipv8Binary: fileContents)
        }
    }

    /// Reads a PEM private key: PKCS#8 `PRIVATE KEY` or SEC1 `EC PRIVATE KEY`. Encrypted keys are refused.
    public convenience init(pem: [UInt8]) throws(KeyError) {
        let parsed: OpaquePointer? = pem.withUnsafeBytes { buffer in
            guard let bio = BIO_new_mem_buf(buffer.baseAddress, Int32(buffer.count)) else { return nil }
            defer { BIO_free(bio) }
            return PEM_read_bio_PrivateKey(bio, nil, { _, _, _, _ in -1 }, nil)
        }
        guard let key = parsed else {
            throw .unreadable("not a PEM private key (or an encrypted one): \(OpenSSL.drainErrors())")
        }
        try self.init(key: key)
    }

    /// Reads IPv8's private `key_to_bin()` form: `LibNaCLSK:` ‖ X25519 secret (32) ‖ Ed25519 seed (32),
    /// or the DER `ECPrivateKey` (SEC1) of an EC key.
    public convenience init(ipv8Binary bytes: [UInt8]) throws(KeyError) {
        if bytes.starts(with: Self.libnaclPrefix) {
            guard bytes.count == Self.libnaclPrefix.count + 64 else {
                throw .unreadable("a LibNaCLSK: key has exactly 64 key bytes")
            }
            let cryptSecret = Array(bytes[10..<42])
            let seed = Array(bytes[42..<74])
            guard let key = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nil, seed, 32) else {
                throw .unreadable(OpenSSL.drainErrors())
            }
            try self.init(key: key, libnaclCryptSecret: cryptSecret)
            return
        }
        let parsed: OpaquePointer? = bytes.withUnsafeBufferPointer { buffer in
            var cursor = buffer.baseAddress
            return d2i_PrivateKey(EVP_PKEY_EC, nil, &cursor, buffer.count)
        }
        guard let key = parsed else {
            throw .unreadable("not a LibNaCLSK: key, SEC1 DER EC key or PEM: \(OpenSSL.drainErrors())")
        }
        try self.init(key: key)
    }

    // MARK: - Writing keys

    /// PKCS#8 PEM of the key. Fails for IPv8 dual keys, whose X25519 half PKCS#8 cannot carry.
    public func pkcs8PEM() throws(KeyError) -> String {
        guard libnaclCryptSecret == nil else {
            throw .notExportable("an IPv8 LibNaCLSK: key is kept in its own binary form")
        }
        guard let bio = BIO_new(BIO_s_mem()) else { throw .cryptoFailure(OpenSSL.drainErrors()) }
        defer { BIO_free(bio) }
        guard PEM_write_bio_PKCS8PrivateKey(bio, key, nil, nil, 0, nil, nil) == 1 else {
            throw .cryptoFailure(OpenSSL.drainErrors())
        }
        var data: UnsafeMutablePointer<CChar>?
        let length = BIO_ctrl(bio, BIO_CTRL_INFO, 0, &data)
        guard let data, length > 0 else { throw .cryptoFailure("empty PEM output") }
        return String(decoding: UnsafeRawBufferPointer(start: data, count: length), as: UTF8.self)
    }

    /// IPv8's private `key_to_bin()` form: `LibNaCLSK:` ‖ 64 bytes, or SEC1 DER for EC keys.
    public func ipv8Binary() throws(KeyError) -> [UInt8] {
        switch permID.keyType {
        case .libnacl:
            guard let cryptSecret = libnaclCryptSecret, let seed = rawPrivateKey() else {
                throw .cryptoFailure(OpenSSL.drainErrors())
            }
            return Self.libnaclPrefix + cryptSecret + seed
        case .ed25519:
            throw .notExportable("IPv8 has no binary form for a plain Ed25519 key")
        case .ec:
            let length = i2d_PrivateKey(key, nil)
            guard length > 0 else { throw .cryptoFailure(OpenSSL.drainErrors()) }
            var output = [UInt8](repeating: 0, count: Int(length))
            let written = output.withUnsafeMutableBufferPointer { buffer -> Int32 in
                var cursor = buffer.baseAddress
                return i2d_PrivateKey(key, &cursor)
            }
            guard written == length else { throw .cryptoFailure(OpenSSL.drainErrors()) }
            return output
        }
    }

    // MARK: - Signing

    /// Signs a message with a scheme this key may use, returning the raw signature of PROTOCOL-v1 §2.
    public func sign(_ message: [UInt8], scheme: SignatureScheme) throws(KeyError) -> [UInt8] {
        guard permID.keyType.allowedSchemes.contains(scheme) else {
            throw .unsupported("a \(permID.keyType.name) key cannot sign with \(scheme.rawValue)")
        }
        guard let context = EVP_MD_CTX_new() else { throw .cryptoFailure(OpenSSL.drainErrors()) }
        defer { EVP_MD_CTX_free(context) }
        var length = 0
        guard EVP_DigestSignInit(context, nil, MessageDigest.for(scheme), nil, key) == 1,
              EVP_DigestSign(context, nil, &length, message, message.count) == 1
        else { throw .cryptoFailure(OpenSSL.drainErrors()) }
        var signature = [UInt8](repeating: 0, count: length)
        guard EVP_DigestSign(context, &signature, &length, message, message.count) == 1 else {
            throw .cryptoFailure(OpenSSL.drainErrors())
        }
        signature.removeSubrange(length...)
        guard case .ec(let curve) = permID.keyType else { return signature }
        guard let raw = ECDSASignature.raw(fromDER: signature, fieldBytes: curve.fieldBytes) else {
            throw .cryptoFailure("could not convert the ECDSA signature to raw form")
        }
        return raw
    }

    // MARK: - Helpers

    /// The 32-byte seed of an Ed25519 key (for a `LibNaCLSK:` key, its Ed25519 half); `nil` for EC keys.
    func rawPrivateKey() -> [UInt8]? {
        var length = 32
        var output = [UInt8](repeating: 0, count: 32)
        guard EVP_PKEY_get_raw_private_key(key, &output, &length) == 1, length == 32 else { return nil }
        return output
    }

    /// The private scalar d of an EC key, big-endian in `width` bytes; `nil` for Ed25519 keys.
    func ecPrivateScalar(width: Int) -> [UInt8]? {
        var value: OpaquePointer?
        guard EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_PRIV_KEY, &value) == 1, let value else {
            OpenSSL.drainErrors()
            return nil
        }
        defer { BN_clear_free(value) }
        var output = [UInt8](repeating: 0, count: width)
        return BN_bn2binpad(value, &output, Int32(width)) == width ? output : nil
    }

    private static func permID(of key: OpaquePointer, libnaclCryptSecret: [UInt8]?) throws(KeyError) -> PermID {
        if let cryptSecret = libnaclCryptSecret {
            guard let crypt = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, nil, cryptSecret, 32) else {
                throw .unreadable(OpenSSL.drainErrors())
            }
            defer { EVP_PKEY_free(crypt) }
            guard let cryptPublic = OpenSSL.rawPublicKey(crypt), let verifyKey = OpenSSL.rawPublicKey(key) else {
                throw .unreadable("cannot derive the LibNaCLPK: public key")
            }
            return PermID(validatedBytes: PermID.libnaclPrefix + cryptPublic + verifyKey, keyType: .libnacl)
        }
        let baseID = EVP_PKEY_get_base_id(key)
        guard baseID == EVP_PKEY_ED25519 || baseID == EVP_PKEY_EC else {
            throw .unsupported("only Ed25519 and EC private keys are supported")
        }
        if baseID == EVP_PKEY_EC {
            _ = EVP_PKEY_set_utf8_string_param(key, OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT, "uncompressed")
        }
        guard let spki = OpenSSL.subjectPublicKeyInfo(key) else {
            throw .unreadable("cannot encode the public key")
        }
        do {
            return try PublicKey(bytes: spki).permID
        } catch {
            throw .unsupported("the key's public half is not a valid PermID: \(error.detail)")
        }
    }
}
