extension PrivateKey {
    /// This long-term key blinded for `epoch` (FRIENDS-v1 part A); its ``BlindedPrivateKey/permID`` equals
    /// `permID.blinded(epoch:)`.
    ///
    /// - Throws: ``BlindingError/unsupportedKeyType(_:)`` for the binary curves, ``BlindingError/zeroFactor``.
    public func blinded(epoch: UInt64) throws(BlindingError) -> BlindedPrivateKey {
        try BlindedPrivateKey(blinding: self, epoch: epoch)
    }
}
