internal import CSSL
import PermIDKit

/// A fresh self-signed X.509 v3 certificate carrying a PermIDProof (FRIENDS-v1 part C): what one side
/// of the handshake presents.
///
/// Owns one OpenSSL `X509` and the certificate's `EVP_PKEY`, freed in `deinit`.
public final class HandshakeCertificate: @unchecked Sendable {
    // @unchecked Sendable: both handles are written only in init; afterwards OpenSSL only reads them
    // (SSL_use_certificate takes its own reference).

    /// The kind of the certificate's fresh key.
    public enum KeyKind: Sendable {
        case ed25519
        case p256
    }

    /// How long a certificate is valid: from an hour before it was made (clock skew) to a day after.
    public static let validity: (before: Int, after: Int) = (3_600, 86_400)

    let certificate: OpaquePointer
    let key: OpaquePointer
    /// The proof the certificate carries.
    public let proof: PermIDProof

    deinit {
        X509_free(certificate)
        EVP_PKEY_free(key)
    }

    /// Makes a fresh key of `kind` and a certificate for it whose PermIDProof is signed by `identity`.
    ///
    /// - Throws: ``HandshakeError/certificate(_:)``.
    public init(proving identity: PrivateKey, kind: KeyKind = .ed25519) throws(HandshakeError) {
        let key = try Self.generateKey(kind)
        let proof: PermIDProof
        do throws(HandshakeError) {
            proof = try PermIDProof(signing: try Self.subjectPublicKeyInfo(key), with: identity)
        } catch {
            EVP_PKEY_free(key)
            throw error
        }
        guard let certificate = X509_new() else {
            EVP_PKEY_free(key)
            throw .certificate("X509_new: \(TLSErrors.drain())")
        }
        self.key = key
        self.certificate = certificate
        self.proof = proof
        // Fully initialised: deinit frees both handles if building fails.
        try build(kind)
    }

    /// The certificate's DER encoding.
    public var der: [UInt8] {
        let length = i2d_X509(certificate, nil)
        guard length > 0 else { TLSErrors.drain(); return [] }
        var output = [UInt8](repeating: 0, count: Int(length))
        output.withUnsafeMutableBufferPointer { buffer in
            var cursor = buffer.baseAddress
            _ = i2d_X509(certificate, &cursor)
        }
        return output
    }

    // MARK: - Building

    private func build(_ kind: KeyKind) throws(HandshakeError) {
        guard X509_set_version(certificate, 2) == 1,
              ASN1_INTEGER_set_uint64(X509_get_serialNumber(certificate), UInt64.random(in: 1...UInt64(Int64.max))) == 1,
              X509_gmtime_adj(X509_getm_notBefore(certificate), -Self.validity.before) != nil,
              X509_gmtime_adj(X509_getm_notAfter(certificate), Self.validity.after) != nil,
              let name = X509_get_subject_name(certificate),
              X509_NAME_add_entry_by_txt(name, "CN", V_ASN1_UTF8STRING, "permid", -1, -1, 0) == 1,
              X509_set_issuer_name(certificate, name) == 1,
              X509_set_pubkey(certificate, key) == 1
        else { throw .certificate(TLSErrors.drain()) }
        try addProofExtension()
        let digest = kind == .ed25519 ? nil : EVP_sha256()
        guard X509_sign(certificate, key, digest) > 0 else { throw .certificate("X509_sign: \(TLSErrors.drain())") }
    }

    private func addProofExtension() throws(HandshakeError) {
        guard let object = OBJ_txt2obj(PermIDProof.extensionOID, 1) else { throw .certificate(TLSErrors.drain()) }
        defer { ASN1_OBJECT_free(object) }
        guard let value = ASN1_OCTET_STRING_new() else { throw .certificate(TLSErrors.drain()) }
        defer { ASN1_OCTET_STRING_free(value) }
        let der = proof.der
        guard ASN1_OCTET_STRING_set(value, der, Int32(der.count)) == 1,
              let ext = X509_EXTENSION_create_by_OBJ(nil, object, 0, value)
        else { throw .certificate(TLSErrors.drain()) }
        defer { X509_EXTENSION_free(ext) }
        guard X509_add_ext(certificate, ext, -1) == 1 else { throw .certificate(TLSErrors.drain()) }
    }

    private static func generateKey(_ kind: KeyKind) throws(HandshakeError) -> OpaquePointer {
        guard let context = EVP_PKEY_CTX_new_from_name(nil, kind == .ed25519 ? "ED25519" : "EC", nil) else {
            throw .certificate(TLSErrors.drain())
        }
        defer { EVP_PKEY_CTX_free(context) }
        guard EVP_PKEY_keygen_init(context) == 1,
              kind == .ed25519 || EVP_PKEY_CTX_set_group_name(context, "prime256v1") == 1
        else { throw .certificate(TLSErrors.drain()) }
        var generated: OpaquePointer?
        guard EVP_PKEY_generate(context, &generated) == 1, let key = generated else {
            throw .certificate(TLSErrors.drain())
        }
        return key
    }

    /// The DER SubjectPublicKeyInfo of a key.
    static func subjectPublicKeyInfo(_ key: OpaquePointer) throws(HandshakeError) -> [UInt8] {
        let length = i2d_PUBKEY(key, nil)
        guard length > 0 else { throw .certificate(TLSErrors.drain()) }
        var output = [UInt8](repeating: 0, count: Int(length))
        let written = output.withUnsafeMutableBufferPointer { buffer -> Int32 in
            var cursor = buffer.baseAddress
            return i2d_PUBKEY(key, &cursor)
        }
        guard written == length else { throw .certificate(TLSErrors.drain()) }
        return output
    }
}
