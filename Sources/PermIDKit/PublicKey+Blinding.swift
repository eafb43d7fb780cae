extension PublicKey {
    /// The blinded public key of this long-term key in `epoch`; see ``PermID/blinded(epoch:)``.
    ///
    /// - Throws: ``BlindingError``.
    public func blinded(epoch: UInt64) throws(BlindingError) -> PublicKey {
        let permID = try permID.blinded(epoch: epoch)
        do {
            return try PublicKey(bytes: permID.bytes)
        } catch {
            throw .cryptoFailure("the blinded key is not a valid PermID: \(error.detail)")
        }
    }
}
