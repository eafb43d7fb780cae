extension KeyType {
    /// Whether keys of this type can be blinded: Ed25519, `LibNaCLPK:`, p256, p384 and secp256k1.
    public var isBlindable: Bool {
        switch self {
        case .ed25519, .libnacl: true
        case .ec(let curve): ECGroups.blindable.contains(curve)
        }
    }

    /// The scheme records under a blinded PermID of this type use: `ed25519` or `ecdsa-sha256`.
    public var blindedScheme: SignatureScheme {
        switch self {
        case .ed25519, .libnacl: .ed25519
        case .ec: .ecdsaSHA256
        }
    }
}
