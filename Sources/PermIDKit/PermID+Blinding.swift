extension PermID {
    /// Whether keys of this PermID's type can be blinded (every type but the binary curves).
    public var isBlindable: Bool { keyType.isBlindable }

    /// The blinded PermID of this long-term PermID in `epoch` (FRIENDS-v1 part A): the Ed25519 SPKI of
    /// A' = [h]A for Ed25519 and `LibNaCLPK:` keys (A its Ed25519 half), the uncompressed SPKI of
    /// Q' = [h]Q on the same curve for EC keys.
    ///
    /// - Throws: ``BlindingError/unsupportedKeyType(_:)`` for the binary curves, ``BlindingError/zeroFactor``,
    ///   ``BlindingError/unusableKey(_:)`` for an Ed25519 point outside the prime-order subgroup.
    public func blinded(epoch: UInt64) throws(BlindingError) -> PermID {
        let factor = try Blinding.factor(permID: self, epoch: epoch)
        switch keyType {
        case .ed25519, .libnacl:
            let point = Array(bytes.suffix(32))
            guard let blinded = Ed25519Arithmetic.multiply(point: point, by: factor.scalar) else {
                throw .unusableKey("the Ed25519 point is not in the prime-order subgroup")
            }
            return PermID(validatedBytes: SubjectPublicKeyInfo.ed25519Prefix + blinded, keyType: .ed25519)
        case .ec(let curve):
            guard let group = ECGroups.shared.group(curve) else { throw .unsupportedKeyType(keyType) }
            let prefix = SubjectPublicKeyInfo.prefix(curve)
            let blinded = try group.multiply(point: Array(bytes[prefix.count...]), by: factor.scalar)
            return PermID(validatedBytes: prefix + blinded, keyType: keyType)
        }
    }
}
