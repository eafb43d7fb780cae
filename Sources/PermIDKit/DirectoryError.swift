/// Every way a directory request can fail, one case per problem type of PROTOCOL-v1 §5.
///
/// The core raises these; the HTTP layer only maps them to `application/problem+json`
/// with ``slug``, ``status``, ``title`` and ``detail``.
public enum DirectoryError: Error, Hashable, Sendable {
    /// The body is not JSON, or its members have the wrong names, types or ranges.
    case malformedJSON(String)
    /// A PermID that is not a public key in one of the accepted binary forms.
    case invalidPermID(String)
    /// A PermID that parses but is not the canonical encoding; carries the canonical text form.
    case nonCanonicalPermID(canonical: String)
    /// A well-formed public key of a kind the directory does not accept (RSA, other curves, explicit parameters).
    case unsupportedKey(String)
    /// The body's `permid` differs from the one in the path.
    case permIDMismatch(path: String, body: String)
    /// The signature scheme is unknown or not allowed for this key type.
    case unsupportedScheme(String)
    /// The signature is not base64url or has the wrong length for the key.
    case invalidSignature(String)
    /// An endpoint is malformed, duplicated, or never valid (unspecified, multicast, broadcast, IPv4-mapped).
    case invalidEndpoint(String)
    /// A sealed record's boxes are malformed: not 1 to 64 of them, one not base64url, or one not 1 to 512 bytes (FRIENDS-v1 part B).
    case invalidSealed(String)
    /// `issued_at` is further from the server's clock than the allowed skew.
    case clockSkew(issuedAt: UInt64, now: UInt64, allowed: UInt64)
    /// `issued_at` is not before `expires_at`.
    case invalidValidity(issuedAt: UInt64, expiresAt: UInt64)
    /// `expires_at` is later than `issued_at` plus the maximum TTL.
    case ttlTooLong(ttl: UInt64, maximum: UInt64)
    /// `expires_at` is not in the future.
    case expired(expiresAt: UInt64, now: UInt64)
    /// The signature does not verify over the record's message.
    case badSignature
    /// Under the `source` policy, an endpoint's address is not the request's source address.
    case endpointNotSource(endpoint: String, source: String)
    /// Under the `any` policy, an endpoint is not globally reachable (an IANA special-purpose block such as
    /// loopback, private, link-local or documentation) and the operator does not allow those.
    case endpointNotAllowed(String)
    /// The record's `seq` is not greater than the stored one.
    case staleSeq(sent: UInt64, stored: UInt64)
    /// Nothing is stored (or the stored record expired) for this PermID, or the path is unknown.
    case notFound(String)
    /// The method is not defined for this resource; carries the methods that are.
    case methodNotAllowed(allowed: [String])
    /// A query parameter or a lookup request is out of its documented range.
    case invalidRequest(String)
    /// The request body is larger than the limit for this endpoint.
    case bodyTooLarge(limit: Int)
    /// The request body is not `application/json`.
    case unsupportedMediaType(String)
    /// A rate limit was hit; retry after the given number of seconds.
    case rateLimited(retryAfter: Int)
    /// The store cannot serve now (disk full, database locked or read-only).
    case serviceUnavailable(String)
    /// A real fault in the server; the detail never includes internals.
    case internalError
}

extension DirectoryError {
    /// The stable last segment of the problem `type` URI.
    public var slug: String {
        switch self {
        case .malformedJSON: "malformed-json"
        case .invalidPermID: "invalid-permid"
        case .nonCanonicalPermID: "non-canonical-permid"
        case .unsupportedKey: "unsupported-key"
        case .permIDMismatch: "permid-mismatch"
        case .unsupportedScheme: "unsupported-scheme"
        case .invalidSignature: "invalid-signature"
        case .invalidEndpoint: "invalid-endpoint"
        case .invalidSealed: "invalid-sealed"
        case .clockSkew: "clock-skew"
        case .invalidValidity: "invalid-validity"
        case .ttlTooLong: "ttl-too-long"
        case .expired: "expired"
        case .badSignature: "bad-signature"
        case .endpointNotSource: "endpoint-not-source"
        case .endpointNotAllowed: "endpoint-not-allowed"
        case .staleSeq: "stale-seq"
        case .notFound: "not-found"
        case .methodNotAllowed: "method-not-allowed"
        case .invalidRequest: "invalid-request"
        case .bodyTooLarge: "body-too-large"
        case .unsupportedMediaType: "unsupported-media-type"
        case .rateLimited: "rate-limited"
        case .serviceUnavailable: "service-unavailable"
        case .internalError: "internal-error"
        }
    }

    /// The HTTP status code for this problem.
    public var status: Int {
        switch self {
        case .malformedJSON, .invalidPermID, .nonCanonicalPermID, .unsupportedKey, .permIDMismatch,
             .unsupportedScheme, .invalidSignature, .invalidEndpoint, .invalidSealed, .clockSkew, .invalidValidity,
             .ttlTooLong, .expired, .invalidRequest:
            400
        case .badSignature, .endpointNotSource, .endpointNotAllowed: 403
        case .notFound: 404
        case .methodNotAllowed: 405
        case .staleSeq: 409
        case .bodyTooLarge: 413
        case .unsupportedMediaType: 415
        case .rateLimited: 429
        case .internalError: 500
        case .serviceUnavailable: 503
        }
    }

    /// A short, stable human summary of the problem type.
    public var title: String {
        switch self {
        case .malformedJSON: "Malformed JSON"
        case .invalidPermID: "Invalid PermID"
        case .nonCanonicalPermID: "Non-canonical PermID"
        case .unsupportedKey: "Unsupported key type"
        case .permIDMismatch: "PermID mismatch"
        case .unsupportedScheme: "Unsupported signature scheme"
        case .invalidSignature: "Invalid signature encoding"
        case .invalidEndpoint: "Invalid endpoint"
        case .invalidSealed: "Invalid sealed boxes"
        case .clockSkew: "Clock skew too large"
        case .invalidValidity: "Invalid validity interval"
        case .ttlTooLong: "TTL too long"
        case .expired: "Record expired"
        case .badSignature: "Bad signature"
        case .endpointNotSource: "Endpoint is not the source address"
        case .endpointNotAllowed: "Endpoint not allowed by policy"
        case .staleSeq: "Stale sequence number"
        case .notFound: "Not found"
        case .methodNotAllowed: "Method not allowed"
        case .invalidRequest: "Invalid request"
        case .bodyTooLarge: "Body too large"
        case .unsupportedMediaType: "Unsupported media type"
        case .rateLimited: "Rate limited"
        case .serviceUnavailable: "Service unavailable"
        case .internalError: "Internal error"
        }
    }

    /// A human explanation naming the offending field or value.
    public var detail: String {
        switch self {
        case .malformedJSON(let why): why
        case .invalidPermID(let why): why
        case .nonCanonicalPermID(let canonical): "the PermID is not in canonical form; the canonical PermID is \(canonical)"
        case .unsupportedKey(let why): why
        case .permIDMismatch: "the body's permid differs from the PermID in the path"
        case .unsupportedScheme(let why): why
        case .invalidSignature(let why): why
        case .invalidEndpoint(let why): why
        case .invalidSealed(let why): why
        case .clockSkew(let issuedAt, let now, let allowed):
            "issued_at \(issuedAt) is more than \(allowed) s from the server's clock \(now)"
        case .invalidValidity(let issuedAt, let expiresAt):
            "issued_at \(issuedAt) must be before expires_at \(expiresAt)"
        case .ttlTooLong(let ttl, let maximum):
            "expires_at - issued_at is \(ttl) s, more than the maximum TTL of \(maximum) s"
        case .expired(let expiresAt, let now): "expires_at \(expiresAt) is not after the server's clock \(now)"
        case .badSignature: "signature does not verify over the record"
        case .endpointNotSource(let endpoint, let source):
            "endpoint address \(endpoint) is not the request's source address \(source)"
        case .endpointNotAllowed(let why): why
        case .staleSeq(let sent, let stored): "seq \(sent) is not greater than the stored seq \(stored)"
        case .notFound(let what): what
        case .methodNotAllowed(let allowed): "allowed methods: \(allowed.joined(separator: ", "))"
        case .invalidRequest(let why): why
        case .bodyTooLarge(let limit): "request body exceeds \(limit) bytes"
        case .unsupportedMediaType(let got): "request body must be application/json, got \(got)"
        case .rateLimited(let retryAfter): "too many requests; retry after \(retryAfter) s"
        case .serviceUnavailable(let why): why
        case .internalError: "the server failed to handle the request"
        }
    }
}
