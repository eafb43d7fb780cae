/// Applies the rules of PROTOCOL-v1 §4 that need no store, in the protocol's order:
/// shape → PermID → scheme → signature length → endpoints (or sealed boxes) → freshness → signature.
///
/// Endpoint policy needs the request's source (``EndpointPolicy``) and the sequence rule needs
/// the store; both come after this.
public struct RecordValidator: Sendable {
    /// Which freshness rules apply.
    public enum Freshness: Sendable, Hashable {
        /// A live announcement: `issued_at` within ± the clock skew, validity, TTL, not expired.
        case announcement
        /// An exported record being imported: as an announcement, but of the skew only the bound on the future applies.
        case importing
        /// A client checking a record it was served for the PermID it asked for: the record must be
        /// for `expected` (byte for byte), with a valid interval, and not expired. A directory serving
        /// a valid record of another PermID is caught here, not left to the caller.
        case resolving(expected: PermID)
        /// A record checked on its own, for no PermID in particular (`permid verify`): what it proves
        /// is its own PermID's statement. Valid interval and not expired.
        case standalone
    }

    /// The allowed distance in seconds between `issued_at` and the clock.
    public var clockSkew: UInt64
    /// The longest allowed `expires_at − issued_at` in seconds.
    public var maxTTL: UInt64

    /// Makes a validator, by default with the protocol's bounds (``ProtocolConstants``).
    public init(clockSkew: UInt64 = ProtocolConstants.clockSkew, maxTTL: UInt64 = ProtocolConstants.maxTTL) {
        self.clockSkew = clockSkew
        self.maxTTL = maxTTL
    }

    /// Validates the body of `PUT /v1/peers/{permid}`.
    ///
    /// - Parameters:
    ///   - body: the request body, at most the announcement limit.
    ///   - pathPermID: the `{permid}` path segment.
    ///   - now: the server's clock, Unix seconds.
    /// - Throws: the ``DirectoryError`` of the first rule that fails.
    public func validateAnnouncement(body: [UInt8], pathPermID: String, now: UInt64) throws(DirectoryError) -> SignedRecord {
        let fields = try RecordFields.decode(json: body)
        let key = try PublicKey(announced: pathPermID)
        do throws(DirectoryError) {
            // Compared as bytes: Swift's String == treats canonically equivalent text as equal
            // (U+212A KELVIN SIGN equals "K"), and the protocol asks for the same text exactly.
            if let bodyPermID = fields.permID, !bodyPermID.utf8.elementsEqual(pathPermID.utf8) {
                throw .permIDMismatch(path: pathPermID, body: bodyPermID)
            }
            return try validate(fields, key: key, now: now, freshness: .announcement)
        } catch {
            // The PermID rule comes before every later one: an invalid key is what gets reported.
            try key.checkDeferredPoint()
            throw error
        }
    }

    /// Validates a stand-alone record, whose `permid` member is required (import, offline verification).
    public func validateRecord(json: [UInt8], now: UInt64, freshness: Freshness) throws(DirectoryError) -> SignedRecord {
        try validateRecord(try RecordFields.decode(json: json), now: now, freshness: freshness)
    }

    /// Validates a stand-alone record already decoded to fields.
    public func validateRecord(_ fields: RecordFields, now: UInt64, freshness: Freshness) throws(DirectoryError) -> SignedRecord {
        guard let permID = fields.permID else { throw .malformedJSON("missing member \"permid\"") }
        if case .resolving(let expected) = freshness, !permID.utf8.elementsEqual(expected.text.utf8) {
            throw .invalidPermID("the record is for another PermID than the one asked for")
        }
        return try validate(fields, key: try PublicKey(text: permID), now: now, freshness: freshness)
    }

    /// Runs the steps after the PermID: scheme, signature length, endpoints or boxes, freshness, signature.
    public func validate(_ fields: RecordFields, key: PublicKey, now: UInt64, freshness: Freshness) throws(DirectoryError) -> SignedRecord {
        let keyType = key.permID.keyType
        guard let scheme = SignatureScheme(rawValue: fields.sigAlg) else {
            throw .unsupportedScheme("unknown sig_alg \"\(fields.sigAlg)\"; known: \(SignatureScheme.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard keyType.allowedSchemes.contains(scheme) else {
            throw .unsupportedScheme("\(keyType.name) PermIDs cannot use \(scheme.rawValue)")
        }
        guard let signature = Base64URL.decode(fields.signature) else {
            throw .invalidSignature("\"signature\" is not unpadded base64url")
        }
        guard signature.count == keyType.signatureLength else {
            throw .invalidSignature("\(keyType.name) signatures have \(keyType.signatureLength) bytes, got \(signature.count)")
        }
        let content: RecordContent
        switch fields.content {
        case .endpoints(let endpoints): content = .endpoints(try Self.endpoints(endpoints))
        case .sealed(let boxes): content = .sealed(try Self.boxes(boxes))
        }
        try checkFreshness(issuedAt: fields.issuedAt, expiresAt: fields.expiresAt, now: now, freshness: freshness)
        let record = SignedRecord(
            permID: key.permID, scheme: scheme, seq: fields.seq, issuedAt: fields.issuedAt,
            expiresAt: fields.expiresAt, content: content, signature: signature)
        guard key.verify(signature: signature, message: record.message, scheme: scheme) else { throw .badSignature }
        return record
    }

    /// Parses and checks endpoints: at most 8, real addresses, ports 1–65535, distinct.
    static func endpoints(_ fields: [RecordFields.EndpointFields]) throws(DirectoryError) -> [Endpoint] {
        guard fields.count <= SignedRecord.maxEndpoints else {
            throw .invalidEndpoint("at most \(SignedRecord.maxEndpoints) endpoints, got \(fields.count)")
        }
        var endpoints = [Endpoint]()
        for (index, field) in fields.enumerated() {
            let name = "endpoints[\(index)]"
            guard let address = IPAddress(field.ip) else {
                throw .invalidEndpoint("\(name).ip \"\(field.ip)\" is not an IPv4 or IPv6 address")
            }
            if address.isIPv4Mapped {
                throw .invalidEndpoint("\(name).ip \(field.ip) is IPv4-mapped; write it as \(address.unmapped)")
            }
            let classification = address.classification
            if classification.scope == .forbidden {
                throw .invalidEndpoint("\(name).ip \(address) is never an endpoint: \(classification)")
            }
            guard (1...65535).contains(field.port) else {
                throw .invalidEndpoint("\(name).port must be 1 to 65535")
            }
            let endpoint = Endpoint(address: address, port: UInt16(field.port))
            guard !endpoints.contains(endpoint) else { throw .invalidEndpoint("\(name) \(endpoint) is listed twice") }
            endpoints.append(endpoint)
        }
        return endpoints
    }

    /// Decodes and checks a sealed record's boxes: 1 to 64, each unpadded base64url of 1 to 512 bytes (FRIENDS-v1 part B).
    static func boxes(_ fields: [String]) throws(DirectoryError) -> [[UInt8]] {
        let counts = ProtocolConstants.sealedBoxCounts, sizes = ProtocolConstants.sealedBoxSizes
        guard counts.contains(fields.count) else {
            throw .invalidSealed("a sealed record has \(counts.lowerBound) to \(counts.upperBound) boxes, got \(fields.count)")
        }
        var boxes = [[UInt8]]()
        boxes.reserveCapacity(fields.count)
        for (index, field) in fields.enumerated() {
            guard let box = Base64URL.decode(field) else { throw .invalidSealed("sealed[\(index)] is not unpadded base64url") }
            guard sizes.contains(box.count) else {
                throw .invalidSealed("sealed[\(index)] has \(box.count) bytes; a box has \(sizes.lowerBound) to \(sizes.upperBound)")
            }
            boxes.append(box)
        }
        return boxes
    }

    /// The freshness rules of PROTOCOL-v1 §4.2, in its order.
    func checkFreshness(issuedAt: UInt64, expiresAt: UInt64, now: UInt64, freshness: Freshness) throws(DirectoryError) {
        switch freshness {
        case .announcement:
            guard max(issuedAt, now) - min(issuedAt, now) <= clockSkew else {
                throw .clockSkew(issuedAt: issuedAt, now: now, allowed: clockSkew)
            }
        case .importing:
            guard issuedAt <= now + clockSkew else { throw .clockSkew(issuedAt: issuedAt, now: now, allowed: clockSkew) }
        case .resolving, .standalone:
            break
        }
        guard issuedAt < expiresAt else { throw .invalidValidity(issuedAt: issuedAt, expiresAt: expiresAt) }
        switch freshness {
        case .announcement, .importing:
            guard expiresAt - issuedAt <= maxTTL else { throw .ttlTooLong(ttl: expiresAt - issuedAt, maximum: maxTTL) }
        case .resolving, .standalone:
            break
        }
        guard expiresAt > now else { throw .expired(expiresAt: expiresAt, now: now) }
    }
}
