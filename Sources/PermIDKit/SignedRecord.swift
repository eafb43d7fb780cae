/// What a record says about where its PermID is: endpoints in clear (PROTOCOL-v1 §3), or sealed
/// boxes only chosen friends can open (FRIENDS-v1 part B). The directory cannot read the boxes.
public enum RecordContent: Hashable, Sendable {
    /// Distinct endpoints, at most 8; none is a withdrawal.
    case endpoints([Endpoint])
    /// 1 to 64 boxes of 1 to 512 bytes each, opaque to everyone but the friend each is sealed to.
    case sealed([[UInt8]])

    /// The boxes in the signed message's layout after the count byte: (u16 length ‖ bytes) each.
    public static func encode(boxes: [[UInt8]]) -> [UInt8] {
        var output = [UInt8]()
        output.reserveCapacity(boxes.reduce(0) { $0 + 2 + $1.count })
        for box in boxes {
            output.append(UInt8(box.count >> 8))
            output.append(UInt8(box.count & 0xFF))
            output += box
        }
        return output
    }

    /// Decodes what ``encode(boxes:)`` wrote; `nil` if the bytes are not such a list of 1 to 64 boxes of 1 to 512 bytes.
    public static func decode(boxes bytes: [UInt8]) -> [[UInt8]]? {
        var boxes = [[UInt8]]()
        var index = 0
        while index < bytes.count {
            guard index + 2 <= bytes.count else { return nil }
            let length = Int(bytes[index]) << 8 | Int(bytes[index + 1])
            guard ProtocolConstants.sealedBoxSizes.contains(length), index + 2 + length <= bytes.count else { return nil }
            boxes.append(Array(bytes[(index + 2)..<(index + 2 + length)]))
            index += 2 + length
        }
        return ProtocolConstants.sealedBoxCounts.contains(boxes.count) ? boxes : nil
    }
}

/// An announcement: "PermID P is reachable at these endpoints (or: behind these sealed boxes), version
/// `seq`, valid from `issuedAt` until `expiresAt`", with the owner's signature over ``message``
/// (PROTOCOL-v1 §3, FRIENDS-v1 part B).
public struct SignedRecord: Hashable, Sendable {
    /// The owner.
    public let permID: PermID
    /// The signature scheme.
    public let scheme: SignatureScheme
    /// The version, 1 ... 2^53 − 1, strictly increasing per PermID, shared by open and sealed records.
    public let seq: UInt64
    /// Unix time in seconds from which the record is valid.
    public let issuedAt: UInt64
    /// Unix time in seconds at which the record expires (it is valid while now < expiresAt).
    public let expiresAt: UInt64
    /// The endpoints in clear, or the sealed boxes.
    public let content: RecordContent
    /// The raw signature over ``message``.
    public let signature: [UInt8]

    /// The largest allowed `seq` (and time value): 2^53 − 1, exact in every JSON implementation.
    public static let maxSafeInteger: UInt64 = (1 << 53) - 1
    /// The most endpoints a record may carry.
    public static let maxEndpoints = 8
    /// The domain-separation tag that starts every signed message of an open record.
    public static let tag = Array("PERMID-DIRECTORY/1 ANNOUNCE".utf8) + [0]
    /// The domain-separation tag that starts every signed message of a sealed record (FRIENDS-v1 part B).
    public static let sealedTag = Array("PERMID-DIRECTORY/1 SEALED".utf8) + [0]

    /// Makes a record from fields that are already valid; see ``RecordValidator`` for untrusted input.
    public init(
        permID: PermID, scheme: SignatureScheme, seq: UInt64, issuedAt: UInt64, expiresAt: UInt64,
        content: RecordContent, signature: [UInt8]
    ) {
        self.permID = permID
        self.scheme = scheme
        self.seq = seq
        self.issuedAt = issuedAt
        self.expiresAt = expiresAt
        self.content = content
        self.signature = signature
    }

    /// Makes an open record from fields that are already valid.
    public init(
        permID: PermID, scheme: SignatureScheme, seq: UInt64, issuedAt: UInt64, expiresAt: UInt64,
        endpoints: [Endpoint], signature: [UInt8]
    ) {
        self.init(
            permID: permID, scheme: scheme, seq: seq, issuedAt: issuedAt, expiresAt: expiresAt,
            content: .endpoints(endpoints), signature: signature)
    }

    /// The endpoints in clear; none for a withdrawal, and none for a sealed record (see ``sealedBoxes``).
    public var endpoints: [Endpoint] {
        if case .endpoints(let endpoints) = content { return endpoints }
        return []
    }

    /// The boxes of a sealed record; `nil` for an open one.
    public var sealedBoxes: [[UInt8]]? {
        if case .sealed(let boxes) = content { return boxes }
        return nil
    }

    /// Whether the record says "not reachable": an open record with no endpoints.
    public var isWithdrawal: Bool { content == .endpoints([]) }

    /// The exact bytes the owner signs.
    public var message: [UInt8] {
        Self.message(permID: permID, scheme: scheme, seq: seq, issuedAt: issuedAt, expiresAt: expiresAt, content: content)
    }

    /// Builds the signed message of PROTOCOL-v1 §3 (open) or FRIENDS-v1 part B (sealed) from its fields.
    public static func message(
        permID: PermID, scheme: SignatureScheme, seq: UInt64, issuedAt: UInt64, expiresAt: UInt64, content: RecordContent
    ) -> [UInt8] {
        let tag: [UInt8]
        let count: Int
        let body: [UInt8]
        switch content {
        case .endpoints(let endpoints): (tag, count, body) = (Self.tag, endpoints.count, Endpoint.encode(endpoints))
        case .sealed(let boxes): (tag, count, body) = (Self.sealedTag, boxes.count, RecordContent.encode(boxes: boxes))
        }
        var output = tag
        output.reserveCapacity(tag.count + 3 + permID.bytes.count + 25 + body.count)
        output.append(scheme.code)
        output.append(UInt8(permID.bytes.count >> 8))
        output.append(UInt8(permID.bytes.count & 0xFF))
        output += permID.bytes
        for value in [seq, issuedAt, expiresAt] {
            for shift in stride(from: 56, through: 0, by: -8) { output.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
        }
        output.append(UInt8(count))
        output += body
        return output
    }

    /// Builds the signed message of an open record (PROTOCOL-v1 §3).
    public static func message(
        permID: PermID, scheme: SignatureScheme, seq: UInt64, issuedAt: UInt64, expiresAt: UInt64, endpoints: [Endpoint]
    ) -> [UInt8] {
        message(permID: permID, scheme: scheme, seq: seq, issuedAt: issuedAt, expiresAt: expiresAt, content: .endpoints(endpoints))
    }

    /// Builds and signs a record with `key`.
    ///
    /// - Throws: ``KeyError`` if the key cannot sign with `scheme`.
    public static func sign(
        with key: PrivateKey, scheme: SignatureScheme? = nil, seq: UInt64, issuedAt: UInt64, expiresAt: UInt64,
        content: RecordContent
    ) throws(KeyError) -> SignedRecord {
        let scheme = scheme ?? key.permID.keyType.defaultScheme
        let message = Self.message(
            permID: key.permID, scheme: scheme, seq: seq, issuedAt: issuedAt, expiresAt: expiresAt, content: content)
        let signature = try key.sign(message, scheme: scheme)
        return SignedRecord(
            permID: key.permID, scheme: scheme, seq: seq, issuedAt: issuedAt, expiresAt: expiresAt,
            content: content, signature: signature)
    }

    /// Builds and signs an open record with `key`.
    ///
    /// - Throws: ``KeyError`` if the key cannot sign with `scheme`.
    public static func sign(
        with key: PrivateKey, scheme: SignatureScheme? = nil, seq: UInt64, issuedAt: UInt64, expiresAt: UInt64,
        endpoints: [Endpoint]
    ) throws(KeyError) -> SignedRecord {
        try sign(with: key, scheme: scheme, seq: seq, issuedAt: issuedAt, expiresAt: expiresAt, content: .endpoints(endpoints))
    }
}
