internal import CSodium

/// Why a key could not be blinded (FRIENDS-v1 part A).
public enum BlindingError: Error, Hashable, Sendable {
    /// The key type has no blinding: the binary curves (sect163k1, sect233k1, sect409k1, sect571k1).
    case unsupportedKeyType(KeyType)
    /// The blinding factor h is 0 for this PermID and epoch (probability about 2^−250; never seen).
    case zeroFactor
    /// The key cannot be blinded although its type can: an Ed25519 point outside the prime-order
    /// subgroup (no key made from a seed is), or a private key whose seed or scalar cannot be read.
    case unusableKey(String)
    /// libsodium or OpenSSL failed.
    case cryptoFailure(String)
}

extension BlindingError: CustomStringConvertible {
    /// One line for humans.
    public var description: String {
        switch self {
        case .unsupportedKeyType(let type):
            "\(type.name) keys cannot be blinded: only Ed25519, LibNaCLPK:, p256, p384 and secp256k1 keys can"
        case .zeroFactor: "the blinding factor is 0 for this PermID and epoch"
        case .unusableKey(let why): "the key cannot be blinded: \(why)"
        case .cryptoFailure(let why): "blinding failed: \(why)"
        }
    }
}

/// The blinding factor h of one long-term PermID in one epoch, in the scalar encoding of its key type:
/// 32 bytes little-endian for Ed25519 (as RFC 8032 encodes scalars), big-endian and as long as the
/// group order for EC.
public struct BlindingFactor: Hashable, Sendable {
    /// The scalar h, 0 < h < the group order.
    public let scalar: [UInt8]
    /// The epoch it belongs to.
    public let epoch: UInt64
}

/// Per-epoch blinded PermIDs (FRIENDS-v1 part A): the factor h, the epoch, the byte layout of the input.
public enum Blinding {
    /// The domain-separation tag that starts the blinding input: ASCII "PERMID-DIRECTORY/1 BLIND" ‖ 0x00.
    public static let tag = Array("PERMID-DIRECTORY/1 BLIND".utf8) + [0]
    /// The tag of the Ed25519 blinded nonce prefix: ASCII "PERMID-DIRECTORY/1 BLIND-PREFIX" ‖ 0x00.
    public static let prefixTag = Array("PERMID-DIRECTORY/1 BLIND-PREFIX".utf8) + [0]

    /// The epoch a Unix time falls in: ⌊unixTime / period⌋.
    public static func epoch(at unixTime: UInt64) -> UInt64 { unixTime / ProtocolConstants.blindingPeriod }

    /// The latest `expires_at` a record announced under epoch `epoch`'s blinded PermID may carry:
    /// the end of the epoch plus ``ProtocolConstants/blindedRecordGrace``.
    public static func latestExpiry(epoch: UInt64) -> UInt64 {
        let (next, wrapped) = epoch.addingReportingOverflow(1)
        let (end, overflow) = next.multipliedReportingOverflow(by: ProtocolConstants.blindingPeriod)
        let (latest, past) = end.addingReportingOverflow(ProtocolConstants.blindedRecordGrace)
        return wrapped || overflow || past ? .max : latest
    }

    /// The hashed input: tag ‖ u16 len(P) ‖ P ‖ u64 period ‖ u64 epoch, integers big-endian.
    public static func input(permID: PermID, epoch: UInt64) -> [UInt8] {
        var output = tag
        output.reserveCapacity(tag.count + 2 + permID.bytes.count + 16)
        output.append(UInt8(permID.bytes.count >> 8))
        output.append(UInt8(permID.bytes.count & 0xFF))
        output += permID.bytes
        output += bigEndian(ProtocolConstants.blindingPeriod)
        output += bigEndian(epoch)
        return output
    }

    /// The blinding factor h of `permID` in `epoch`: SHA-512 of ``input(permID:epoch:)``, read little-endian
    /// mod ℓ for Ed25519 and `LibNaCLPK:` keys, big-endian mod n for EC keys.
    ///
    /// - Throws: ``BlindingError/unsupportedKeyType(_:)`` for the binary curves, ``BlindingError/zeroFactor``.
    public static func factor(permID: PermID, epoch: UInt64) throws(BlindingError) -> BlindingFactor {
        let digest = sha512(input(permID: permID, epoch: epoch))
        let scalar: [UInt8]
        switch permID.keyType {
        case .ed25519, .libnacl:
            scalar = Ed25519Arithmetic.reduce(digest)
        case .ec(let curve):
            guard let group = ECGroups.shared.group(curve) else { throw .unsupportedKeyType(permID.keyType) }
            scalar = try group.reduce(bigEndian: digest)
        }
        guard scalar.contains(where: { $0 != 0 }) else { throw .zeroFactor }
        return BlindingFactor(scalar: scalar, epoch: epoch)
    }

    // MARK: - Helpers

    static func bigEndian(_ value: UInt64) -> [UInt8] {
        stride(from: 56, through: 0, by: -8).map { UInt8(truncatingIfNeeded: value >> UInt64($0)) }
    }

    /// SHA-512 of the concatenated parts (libsodium).
    static func sha512(_ parts: [UInt8]...) -> [UInt8] {
        Ed25519Arithmetic.ensureSodiumInitialized()
        var state = crypto_hash_sha512_state()
        crypto_hash_sha512_init(&state)
        for part in parts {
            part.withUnsafeBufferPointer { buffer in
                guard let base = buffer.baseAddress, !buffer.isEmpty else { return }
                _ = crypto_hash_sha512_update(&state, base, UInt64(buffer.count))
            }
        }
        var digest = [UInt8](repeating: 0, count: 64)
        crypto_hash_sha512_final(&state, &digest)
        return digest
    }
}
