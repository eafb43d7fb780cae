internal import CCrypto

/// An elliptic curve accepted for EC PermIDs (PROTOCOL-v1 §1).
public enum Curve: String, CaseIterable, Hashable, Sendable {
    case p256 = "prime256v1"
    case p384 = "secp384r1"
    case secp256k1
    case sect163k1
    case sect233k1
    case sect409k1
    case sect571k1

    /// The curve's degree in bits (OpenSSL `EC_GROUP_get_degree`).
    public var degree: Int {
        switch self {
        case .p256, .secp256k1: 256
        case .p384: 384
        case .sect163k1: 163
        case .sect233k1: 233
        case .sect409k1: 409
        case .sect571k1: 571
        }
    }

    /// Bytes in each of r and s of a raw signature: ⌈degree / 8⌉.
    public var fieldBytes: Int { (degree + 7) / 8 }

    /// The curve's cofactor: a point on a curve with cofactor 1 is always in the prime-order group.
    var cofactor: Int {
        switch self {
        case .p256, .p384, .secp256k1: 1
        case .sect163k1: 2
        case .sect233k1, .sect409k1, .sect571k1: 4
        }
    }

    /// The OpenSSL group name, as `OSSL_PKEY_PARAM_GROUP_NAME` reports it.
    var openSSLName: String { rawValue }

    /// Finds the curve for an OpenSSL group name.
    init?(openSSLName: String) {
        self.init(rawValue: openSSLName)
    }
}

/// The kind of public key behind a PermID.
public enum KeyType: Hashable, Sendable {
    /// An Ed25519 SubjectPublicKeyInfo (RFC 8410).
    case ed25519
    /// IPv8/Tribler's dual key `LibNaCLPK:` ‖ X25519 ‖ Ed25519; signatures use the Ed25519 half.
    case libnacl
    /// An EC SubjectPublicKeyInfo on a named curve, uncompressed point.
    case ec(Curve)

    /// Every key type the directory accepts.
    public static let all: [KeyType] = [.ed25519, .libnacl] + Curve.allCases.map { .ec($0) }

    /// A short name used in the CLI and logs: `ed25519`, `libnacl`, or the curve's short name.
    public var name: String {
        switch self {
        case .ed25519: "ed25519"
        case .libnacl: "libnacl"
        case .ec(.p256): "p256"
        case .ec(.p384): "p384"
        case .ec(let curve): curve.rawValue
        }
    }

    /// Parses a short name as produced by ``name``.
    public init?(name: String) {
        guard let match = KeyType.all.first(where: { $0.name == name }) else { return nil }
        self = match
    }

    /// The signature schemes this key type may use.
    public var allowedSchemes: [SignatureScheme] {
        switch self {
        case .ed25519, .libnacl: [.ed25519]
        case .ec: [.ecdsaSHA256, .ecdsaSHA1]
        }
    }

    /// The scheme a signer of this type uses unless told otherwise: `ed25519` for Edwards keys,
    /// `ecdsa-sha1` on the binary curves (as IPv8 signs), `ecdsa-sha256` on the prime curves.
    public var defaultScheme: SignatureScheme {
        switch self {
        case .ed25519, .libnacl: .ed25519
        case .ec(.sect163k1), .ec(.sect233k1), .ec(.sect409k1), .ec(.sect571k1): .ecdsaSHA1
        case .ec: .ecdsaSHA256
        }
    }

    /// The exact raw signature length in bytes.
    public var signatureLength: Int {
        switch self {
        case .ed25519, .libnacl: 64
        case .ec(let curve): 2 * curve.fieldBytes
        }
    }
}

/// A signature scheme of PROTOCOL-v1 §2.
public enum SignatureScheme: String, CaseIterable, Hashable, Sendable {
    case ed25519
    case ecdsaSHA256 = "ecdsa-sha256"
    case ecdsaSHA1 = "ecdsa-sha1"

    /// The scheme's code in the signed message.
    public var code: UInt8 {
        switch self {
        case .ed25519: 1
        case .ecdsaSHA256: 2
        case .ecdsaSHA1: 3
        }
    }

    /// Finds the scheme for a code in a signed message.
    public init?(code: UInt8) {
        guard let match = SignatureScheme.allCases.first(where: { $0.code == code }) else { return nil }
        self = match
    }
}
