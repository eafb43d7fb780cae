extension SignedRecord {
    /// Builds and signs a record under a blinded PermID, with the blinded key's scheme.
    ///
    /// - Throws: ``KeyError`` if signing fails.
    public static func sign(
        with key: BlindedPrivateKey, seq: UInt64, issuedAt: UInt64, expiresAt: UInt64, content: RecordContent
    ) throws(KeyError) -> SignedRecord {
        let message = Self.message(
            permID: key.permID, scheme: key.scheme, seq: seq, issuedAt: issuedAt, expiresAt: expiresAt, content: content)
        return SignedRecord(
            permID: key.permID, scheme: key.scheme, seq: seq, issuedAt: issuedAt, expiresAt: expiresAt,
            content: content, signature: try key.sign(message))
    }

    /// Builds and signs an open record under a blinded PermID.
    ///
    /// - Throws: ``KeyError`` if signing fails.
    public static func sign(
        with key: BlindedPrivateKey, seq: UInt64, issuedAt: UInt64, expiresAt: UInt64, endpoints: [Endpoint]
    ) throws(KeyError) -> SignedRecord {
        try sign(with: key, seq: seq, issuedAt: issuedAt, expiresAt: expiresAt, content: .endpoints(endpoints))
    }
}
