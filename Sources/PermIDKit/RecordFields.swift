/// A record's JSON members after the shape check (PROTOCOL-v1 §4, first step) and before any
/// semantic check: right names and JSON types, integers in range, nothing unknown or repeated.
public struct RecordFields: Hashable, Sendable {
    /// One element of `endpoints`, as sent.
    public struct EndpointFields: Hashable, Sendable {
        /// The `ip` member, not yet parsed.
        public var ip: String
        /// The `port` member; −1 when negative and `Int64.max` when beyond 64 bits, so the endpoint
        /// step reports it as out of range.
        public var port: Int64
    }

    /// The `permid` member, optional in a PUT body.
    public var permID: String?
    /// The `sig_alg` member, not yet matched to a scheme.
    public var sigAlg: String
    /// The `seq` member, 1 ... 2^53 − 1.
    public var seq: UInt64
    /// The `issued_at` member, 0 ... 2^53 − 1.
    public var issuedAt: UInt64
    /// The `expires_at` member, 0 ... 2^53 − 1.
    public var expiresAt: UInt64
    /// What the record carries: exactly one of the members `endpoints` and `sealed` (FRIENDS-v1 part B).
    public enum Content: Hashable, Sendable {
        /// The `endpoints` member.
        case endpoints([EndpointFields])
        /// The `sealed` member: the boxes as sent, not yet decoded.
        case sealed([String])
    }

    /// The `endpoints` or the `sealed` member.
    public var content: Content
    /// The `signature` member, not yet decoded.
    public var signature: String

    /// Parses a JSON body strictly and checks its shape.
    ///
    /// - Throws: ``DirectoryError/malformedJSON(_:)`` naming the offending member.
    public static func decode(json: [UInt8]) throws(DirectoryError) -> RecordFields {
        let value: JSONValue
        do {
            value = try StrictJSONParser.parse(json)
        } catch {
            throw .malformedJSON("body is not valid JSON: \(error)")
        }
        return try decode(value)
    }

    /// Checks the shape of an already parsed JSON value.
    public static func decode(_ value: JSONValue) throws(DirectoryError) -> RecordFields {
        guard case .object(let members) = value else { throw .malformedJSON("the record must be a JSON object") }
        // One pass matching names against the known ones (no dictionary: every announcement runs this).
        var permIDValue, sigAlg, seqValue, issuedAt, expiresAt, endpoints, sealed, signature: JSONValue?
        for member in members {
            switch member.name {
            case "permid": permIDValue = member.value
            case "sig_alg": sigAlg = member.value
            case "seq": seqValue = member.value
            case "issued_at": issuedAt = member.value
            case "expires_at": expiresAt = member.value
            case "endpoints": endpoints = member.value
            case "sealed": sealed = member.value
            case "signature": signature = member.value
            default: throw .malformedJSON("unknown member \"\(member.name)\"")
            }
        }
        func required(_ value: JSONValue?, _ name: String) throws(DirectoryError) -> JSONValue {
            guard let value else { throw .malformedJSON("missing member \"\(name)\"") }
            return value
        }
        var permID: String?
        if let permIDValue { permID = try string(permIDValue, "permid") }
        let seq = try safeInteger(try required(seqValue, "seq"), "seq")
        guard seq >= 1 else { throw .malformedJSON("\"seq\" must be at least 1") }
        return RecordFields(
            permID: permID,
            sigAlg: try string(try required(sigAlg, "sig_alg"), "sig_alg"),
            seq: seq,
            issuedAt: try safeInteger(try required(issuedAt, "issued_at"), "issued_at"),
            expiresAt: try safeInteger(try required(expiresAt, "expires_at"), "expires_at"),
            content: try content(endpoints, sealed),
            signature: try string(try required(signature, "signature"), "signature"))
    }

    private static func content(_ endpoints: JSONValue?, _ sealed: JSONValue?) throws(DirectoryError) -> Content {
        switch (endpoints, sealed) {
        case (let endpoints?, nil): return .endpoints(try self.endpoints(endpoints))
        case (nil, let sealed?): return .sealed(try boxes(sealed))
        case (nil, nil): throw .malformedJSON("missing member \"endpoints\" (or \"sealed\")")
        case (_?, _?): throw .malformedJSON("a record carries \"endpoints\" or \"sealed\", not both")
        }
    }

    private static func boxes(_ value: JSONValue) throws(DirectoryError) -> [String] {
        guard case .array(let elements) = value else {
            throw .malformedJSON("\"sealed\" must be an array, got \(value.typeName)")
        }
        var output = [String]()
        for (index, element) in elements.enumerated() { output.append(try string(element, "sealed[\(index)]")) }
        return output
    }

    private static func endpoints(_ value: JSONValue) throws(DirectoryError) -> [EndpointFields] {
        guard case .array(let elements) = value else {
            throw .malformedJSON("\"endpoints\" must be an array, got \(value.typeName)")
        }
        var output = [EndpointFields]()
        for (index, element) in elements.enumerated() {
            func field() -> String { "endpoints[\(index)]" }
            guard case .object(let members) = element else { throw .malformedJSON("\"\(field())\" must be an object") }
            var ip: String?
            var port: Int64?
            for member in members {
                switch member.name {
                case "ip": ip = try string(member.value, "\(field()).ip")
                case "port": port = try clampedInteger(member.value, "\(field()).port")
                default: throw .malformedJSON("unknown member \"\(member.name)\" in \"\(field())\"")
                }
            }
            guard let ip else { throw .malformedJSON("missing member \"\(field()).ip\"") }
            guard let port else { throw .malformedJSON("missing member \"\(field()).port\"") }
            output.append(EndpointFields(ip: ip, port: port))
        }
        return output
    }

    // The member's name is an autoclosure in these checks: an element's name ("endpoints[0].ip") is
    // made only for an error message, not for every member of every announcement.
    private static func string(_ value: JSONValue, _ name: @autoclosure () -> String) throws(DirectoryError) -> String {
        guard case .string(let text) = value else { throw .malformedJSON("\"\(name())\" must be a string, got \(value.typeName)") }
        return text
    }

    /// The digits of a JSON integer (no fraction, no exponent), with its sign.
    private static func integerDigits(_ value: JSONValue, _ name: @autoclosure () -> String) throws(DirectoryError) -> (negative: Bool, digits: Substring) {
        guard case .number(let text) = value else { throw .malformedJSON("\"\(name())\" must be an integer, got \(value.typeName)") }
        guard !text.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }) else {
            throw .malformedJSON("\"\(name())\" must be an integer without fraction or exponent, got \(text)")
        }
        return text.hasPrefix("-") ? (true, text.dropFirst()) : (false, text[...])
    }

    private static func safeInteger(_ value: JSONValue, _ name: @autoclosure () -> String) throws(DirectoryError) -> UInt64 {
        let (negative, digits) = try integerDigits(value, name())
        guard !negative, let number = UInt64(digits), number <= SignedRecord.maxSafeInteger else {
            throw .malformedJSON("\"\(name())\" is out of range 0 ... 2^53 − 1")
        }
        return number
    }

    private static func clampedInteger(_ value: JSONValue, _ name: @autoclosure () -> String) throws(DirectoryError) -> Int64 {
        let (negative, digits) = try integerDigits(value, name())
        if negative { return digits.allSatisfy { $0 == "0" } ? 0 : -1 }
        return Int64(digits) ?? Int64.max
    }
}
