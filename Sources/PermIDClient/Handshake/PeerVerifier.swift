internal import CSSL
import PermIDKit

/// Checks the peer's certificate as FRIENDS-v1 part C says, in its order, and returns the PermID it
/// proves. Called from the TLS verify callback, so a failure aborts the handshake with an alert.
enum PeerVerifier {
    /// Verifies the certificate chain a peer sent.
    ///
    /// - Parameters:
    ///   - certificate: the peer's leaf `X509`.
    ///   - chainLength: how many certificates the peer sent.
    ///   - policy: the expected PermID and the admission hook.
    /// - Throws: ``HandshakeError/peerRejected(_:)`` naming the first check that failed.
    static func verify(certificate: OpaquePointer, chainLength: Int, policy: PeerPolicy) throws(HandshakeError) -> PermID {
        guard chainLength == 1 else {
            throw .peerRejected("the peer sent \(chainLength) certificates; exactly one is allowed")
        }
        guard X509_get_version(certificate) == 2 else { throw .peerRejected("the certificate is not X.509 v3") }
        let spki = try subjectPublicKeyInfo(certificate)
        let keyType: KeyType
        do {
            keyType = try PublicKey(bytes: spki).permID.keyType
        } catch {
            throw .peerRejected("the certificate's key is not usable: \(error.detail)")
        }
        guard keyType == .ed25519 || keyType == .ec(.p256) else {
            throw .peerRejected("the certificate's key is \(keyType.name); Ed25519 or P-256 is required")
        }
        guard let subject = X509_get_subject_name(certificate), let issuer = X509_get_issuer_name(certificate),
              X509_NAME_cmp(subject, issuer) == 0,
              let key = X509_get0_pubkey(certificate), X509_verify(certificate, key) == 1
        else {
            TLSErrors.drain()
            throw .peerRejected("the certificate is not self-signed by its own key")
        }
        guard X509_cmp_current_time(X509_get0_notBefore(certificate)) < 0,
              X509_cmp_current_time(X509_get0_notAfter(certificate)) > 0
        else { throw .peerRejected("the certificate is not valid now (expired or not yet valid)") }
        let proof = try PermIDProof(der: try proofExtension(certificate))
        let permID = try proof.verify(subjectPublicKeyInfo: spki)
        if let expected = policy.expected, expected != permID {
            throw .peerRejected("the peer proved \(permID.text), not the expected \(expected.text)")
        }
        if let refusal = policy.admit(permID) { throw .peerRejected(refusal) }
        return permID
    }

    /// The value of the PermIDProof extension, which must be present exactly once.
    private static func proofExtension(_ certificate: OpaquePointer) throws(HandshakeError) -> [UInt8] {
        guard let object = OBJ_txt2obj(PermIDProof.extensionOID, 1) else { throw .certificate(TLSErrors.drain()) }
        defer { ASN1_OBJECT_free(object) }
        let index = X509_get_ext_by_OBJ(certificate, object, -1)
        guard index >= 0 else { throw .peerRejected("the certificate has no PermIDProof extension") }
        guard X509_get_ext_by_OBJ(certificate, object, index) < 0 else {
            throw .peerRejected("the certificate has the PermIDProof extension more than once")
        }
        guard let ext = X509_get_ext(certificate, index), let data = X509_EXTENSION_get_data(ext),
              let bytes = ASN1_STRING_get0_data(data)
        else { throw .peerRejected("the PermIDProof extension has no value") }
        let length = Int(ASN1_STRING_length(data))
        return Array(UnsafeBufferPointer(start: bytes, count: max(0, length)))
    }

    /// The certificate's DER SubjectPublicKeyInfo, as its bytes are signed by the proof.
    private static func subjectPublicKeyInfo(_ certificate: OpaquePointer) throws(HandshakeError) -> [UInt8] {
        guard let spki = X509_get_X509_PUBKEY(certificate) else { throw .peerRejected("the certificate has no key") }
        let length = i2d_X509_PUBKEY(spki, nil)
        guard length > 0 else { TLSErrors.drain(); throw .peerRejected("the certificate's key cannot be encoded") }
        var output = [UInt8](repeating: 0, count: Int(length))
        output.withUnsafeMutableBufferPointer { buffer in
            var cursor = buffer.baseAddress
            _ = i2d_X509_PUBKEY(spki, &cursor)
        }
        return output
    }
}
