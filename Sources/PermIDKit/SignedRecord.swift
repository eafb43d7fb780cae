/// An announcement: "PermID P is reachable at these endpoints, version `seq`, valid from `issuedAt`
/// until `expiresAt`", with the owner's signature over ``message`` (PROTOCOL-v1 §3).
public struct SignedRecord: Hashable, Sendable {
    /// The owner.
    public let permID: PermID
    /// The signature scheme.
    public let scheme: SignatureScheme
    /// The version, 1 ... 2^53 − 1, strictly increasing per PermID.
    public let seq: UInt64
    /// Unix time in seconds from which the record is valid.
    public let issuedAt: UInt64
    /// Unix time in seconds at which the record expires (it is valid while now < expiresAt).
    public let expiresAt: UInt64
    /// Distinct endpoints, at most 8; none is a withdrawal.
    public let endpoints: [Endpoint]
    /// The raw signature over ``message``.
    public let signature: [UInt8]

    /// The largest allowed `seq` (and time value): 2^53 − 1, exact in every JSON implementation.
    public static let maxSafeInteger: UInt64 = (1 << 53) - 1
    /// The most endpoints a record may carry.
    public static let maxEndpoints = 8
    /// The domain-separation tag that starts every signed message.
    public static let tag = Array("PERMID-DIRECTORY/1 ANNOUNCE".utf8) + [0]

    /// Makes a record from fields that are already valid; see ``RecordValidator`` for untrusted input.
    public init(
        permID: PermID, scheme: SignatureScheme, seq: UInt64, issuedAt: UInt64, expiresAt: UInt64,
        endpoints: [Endpoint], signature: [UInt8]
    ) {
        self.permID = permID
        self.scheme = scheme
        self.seq = seq
        self.issuedAt = issuedAt
        self.expiresAt = expiresAt
        self.endpoints = endpoints
        self.signature = signature
    }

    /// Whether the record says "not reachable" (no endpoints).
    public var isWithdrawal: Bool { endpoints.isEmpty }

    /// The exact bytes the owner signs.
    public var message: [UInt8] {
        Self.message(permID: permID, scheme: scheme, seq: seq, issuedAt: issuedAt, expiresAt: expiresAt, endpoints: endpoints)
    }

    /// Builds the signed message of PROTOCOL-v1 §3 from its fields.
    public static func message(
        permID: PermID, scheme: SignatureScheme, seq: UInt64, issuedAt: UInt64, expiresAt: UInt64, endpoints: [Endpoint]
    ) -> [UInt8] {
        var output = tag
        output.reserveCapacity(tag.count + 3 + permID.bytes.count + 25 + endpoints.count * 19)
        output.append(scheme.code)
        output.append(UInt8(permID.bytes.count >> 8))
        output.append(UInt8(permID.bytes.count & 0xFF))
        output += permID.bytes
        for value in [seq, issuedAt, expiresAt] {
            for shift in stride(from: 56, through: 0, by: -8) { output.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
        }
        output.append(UInt8(endpoints.count))
        output += Endpoint.encode(endpoints)
        return output
    }

    /// Builds and signs a record with `key`.
    ///
    /// - Throws: ``KeyError`` if the key cannot sign with `scheme`.
    public static func sign(
        with key: PrivateKey, scheme: SignatureScheme? = nil, seq: UInt64, issuedAt: UInt64, expiresAt: UInt64,
        endpoints: [Endpoint]
    ) throws(KeyError) -> SignedRecord {
        let scheme = scheme ?? key.permID.keyType.defaultScheme
        let message = Self.message(
            permID: key.permID, scheme: scheme, seq: seq, issuedAt: issuedAt, expiresAt: expiresAt, endpoints: endpoints)
        let signature = try key.sign(message, scheme: scheme)
        return SignedRecord(
            permID: key.permID, scheme: scheme, seq: seq, issuedAt: issuedAt, expiresAt: expiresAt,
            endpoints: endpoints, signature: signature)
    }
}
