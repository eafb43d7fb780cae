internal import CCrypto

/// The canonical DER SubjectPublicKeyInfo layouts of the accepted key types: a fixed prefix per
/// type followed by the raw key (Ed25519) or the uncompressed point 0x04 ‖ X ‖ Y (EC).
enum SubjectPublicKeyInfo {
    /// SEQUENCE { SEQUENCE { OID 1.3.101.112 }, BIT STRING (0 unused bits) } of RFC 8410.
    static let ed25519Prefix: [UInt8] = [0x30, 0x2A, 0x30, 0x05, 0x06, 0x03, 0x2B, 0x65, 0x70, 0x03, 0x21, 0x00]

    private static let ecPublicKeyOID: [UInt8] = [0x06, 0x07, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01]

    private static func curveOID(_ curve: Curve) -> [UInt8] {
        switch curve {
        case .p256: [0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07]
        case .p384: [0x06, 0x05, 0x2B, 0x81, 0x04, 0x00, 0x22]
        case .secp256k1: [0x06, 0x05, 0x2B, 0x81, 0x04, 0x00, 0x0A]
        case .sect163k1: [0x06, 0x05, 0x2B, 0x81, 0x04, 0x00, 0x01]
        case .sect233k1: [0x06, 0x05, 0x2B, 0x81, 0x04, 0x00, 0x1A]
        case .sect409k1: [0x06, 0x05, 0x2B, 0x81, 0x04, 0x00, 0x24]
        case .sect571k1: [0x06, 0x05, 0x2B, 0x81, 0x04, 0x00, 0x26]
        }
    }

    private static let prefixes: [Curve: [UInt8]] = Dictionary(uniqueKeysWithValues: Curve.allCases.map { curve in
        let algorithm = DER.sequence(ecPublicKeyOID + curveOID(curve))
        let pointLength = 1 + 2 * curve.fieldBytes
        let bitStringHeader = [0x03] + DER.length(pointLength + 1) + [0x00]
        let total = algorithm.count + bitStringHeader.count + pointLength
        return (curve, [0x30] + DER.length(total) + algorithm + bitStringHeader)
    })

    /// The bytes before the point 0x04 ‖ X ‖ Y in the canonical SPKI of a key on `curve`.
    static func prefix(_ curve: Curve) -> [UInt8] { prefixes[curve]! }

    /// The curve whose canonical uncompressed SPKI layout `bytes` has, if any (the point itself is not checked).
    static func curve(ofCanonical bytes: [UInt8]) -> Curve? {
        for (curve, prefix) in prefixes
        where bytes.count == prefix.count + 1 + 2 * curve.fieldBytes && bytes.starts(with: prefix) && bytes[prefix.count] == 0x04 {
            return curve
        }
        return nil
    }

    /// An EC public key from an uncompressed point; OpenSSL rejects points not on the curve. Caller frees.
    static func ecKey(curve: Curve, point: [UInt8]) -> OpaquePointer? {
        guard let key = CurveTemplates.shared.newKey(curve) else { OpenSSL.drainErrors(); return nil }
        guard EVP_PKEY_set1_encoded_public_key(key, point, point.count) == 1 else {
            OpenSSL.drainErrors()
            EVP_PKEY_free(key)
            return nil
        }
        return key
    }

}

/// The message digests of the ECDSA schemes, fetched from OpenSSL once; fetched algorithm objects are
/// immutable and safe to share between threads.
final class MessageDigest: @unchecked Sendable {
    // @unchecked Sendable: the EVP_MD pointers are set once in init and never changed; OpenSSL allows
    // concurrent use of a fetched EVP_MD.
    private let sha1: OpaquePointer
    private let sha256: OpaquePointer

    private static let shared = MessageDigest()

    private init() {
        guard let sha1 = EVP_MD_fetch(nil, "SHA1", nil), let sha256 = EVP_MD_fetch(nil, "SHA256", nil) else {
            fatalError("OpenSSL has no SHA-1/SHA-256 implementation: \(OpenSSL.drainErrors())")
        }
        self.sha1 = sha1
        self.sha256 = sha256
    }

    /// The digest a scheme signs over, or `nil` for Ed25519, which hashes internally.
    static func `for`(_ scheme: SignatureScheme) -> OpaquePointer? {
        switch scheme {
        case .ed25519: nil
        case .ecdsaSHA256: shared.sha256
        case .ecdsaSHA1: shared.sha1
        }
    }
}

/// One parameters-only key per accepted curve, made once. Duplicating one and setting the point costs
/// a quarter of building a key from its group name, which rebuilds the curve's group every time.
final class CurveTemplates: @unchecked Sendable {
    // @unchecked Sendable: the templates are made in init and then only read (EVP_PKEY_dup), which
    // OpenSSL allows from several threads.
    private let templates: [Curve: OpaquePointer]

    static let shared = CurveTemplates()

    private init() {
        var templates = [Curve: OpaquePointer]()
        for curve in Curve.allCases {
            guard let context = EVP_PKEY_CTX_new_from_name(nil, "EC", nil) else { continue }
            defer { EVP_PKEY_CTX_free(context) }
            var template: OpaquePointer?
            if EVP_PKEY_paramgen_init(context) == 1, EVP_PKEY_CTX_set_group_name(context, curve.openSSLName) == 1,
               EVP_PKEY_paramgen(context, &template) == 1, let template {
                templates[curve] = template
            }
        }
        OpenSSL.drainErrors()
        self.templates = templates
    }

    /// A new key holding only `curve`'s parameters, or `nil` if OpenSSL lacks the curve. Caller frees.
    func newKey(_ curve: Curve) -> OpaquePointer? {
        templates[curve].flatMap { EVP_PKEY_dup($0) }
    }
}
