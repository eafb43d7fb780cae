import PermIDKit

/// What the directory needs of one HTTP request, read from libmicrohttpd once.
public struct HTTPRequest: Sendable {
    /// The method, from a closed set.
    public var method: HTTPMethod
    /// The path as sent, still percent-encoded.
    public var path: String
    /// Query arguments by name (first occurrence), still percent-encoded.
    public var query: [String: String]
    /// Header values by lowercase name, for the few headers the directory reads.
    public var headers: [String: String]
    /// The request body (bounded by the route's limit before it gets here).
    public var body: [UInt8]
    /// The direct peer's address (IPv4-mapped IPv6 already unmapped).
    public var peerAddress: IPAddress
    /// The direct peer's port.
    public var peerPort: UInt16

    /// Makes a request value.
    public init(
        method: HTTPMethod, path: String, query: [String: String] = [:], headers: [String: String] = [:],
        body: [UInt8] = [], peerAddress: IPAddress, peerPort: UInt16
    ) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.peerAddress = peerAddress
        self.peerPort = peerPort
    }

    /// The headers the directory reads; only these are copied out of libmicrohttpd.
    public static let headerNames = ["content-type", "content-length", "if-none-match", "forwarded", "x-forwarded-for"]
    /// The query arguments the directory reads.
    public static let queryNames = ["limit", "cursor", "ip", "wait"]
}

/// A response ready to send.
public struct HTTPResponse: Sendable {
    /// The status code.
    public var status: Int
    /// Header fields in order.
    public var headers: [(String, String)]
    /// The body (omitted on the wire for HEAD by libmicrohttpd, Content-Length kept).
    public var body: ResponseBytes
    /// The problem's slug when this answers a ``DirectoryError``, for the completion report.
    public var problem: String?

    /// Makes a response.
    public init(status: Int, headers: [(String, String)] = [], body: ResponseBytes = .empty, problem: String? = nil) {
        self.status = status
        self.headers = headers
        self.body = body
        self.problem = problem
    }

    /// A JSON response.
    public static func json(_ status: Int, _ body: [UInt8], headers: [(String, String)] = []) -> HTTPResponse {
        HTTPResponse(status: status, headers: [("Content-Type", "application/json")] + headers, body: ResponseBytes(body))
    }

    /// The problem+json response for an error (RFC 9457), the one place errors become responses.
    public static func problem(_ error: DirectoryError) -> HTTPResponse {
        var writer = JSONWriter()
        writer.beginObject()
        writer.string("type", problemTypeBase + error.slug)
        writer.string("title", error.title)
        writer.number("status", error.status)
        writer.string("detail", error.detail)
        var headers = [("Content-Type", "application/problem+json")]
        switch error {
        case .staleSeq(_, let stored): writer.number("stored_seq", stored)
        case .nonCanonicalPermID(let canonical): writer.string("canonical_permid", canonical)
        case .methodNotAllowed(let allowed): headers.append(("Allow", allowed.joined(separator: ", ")))
        case .rateLimited(let retryAfter):
            writer.number("retry_after", retryAfter)
            headers.append(("Retry-After", String(retryAfter)))
        default: break
        }
        writer.endObject()
        return HTTPResponse(status: error.status, headers: headers, body: ResponseBytes(writer.bytes), problem: error.slug)
    }

    /// The prefix of every problem `type` URI; the problem's slug follows it.
    public static let problemTypeBase = "https://permid.dev/problems/"
}

/// Response bytes handed to libmicrohttpd without a copy: allocated once, freed when the last holder
/// (a cached record, or a libmicrohttpd response still being sent) lets go.
public final class ResponseBytes: @unchecked Sendable {
    // @unchecked Sendable: the buffer is written once in init and only read afterwards.
    let buffer: UnsafeMutableRawBufferPointer

    /// Copies `bytes` into a buffer of their own.
    public init(_ bytes: some Collection<UInt8>) {
        buffer = .allocate(byteCount: bytes.count, alignment: 1)
        buffer.copyBytes(from: bytes)
    }

    deinit { buffer.deallocate() }

    /// The number of bytes.
    public var count: Int { buffer.count }

    /// A copy of the bytes, for tests and logs.
    public var bytes: [UInt8] { Array(buffer) }

    /// No bytes.
    public static let empty = ResponseBytes([UInt8]())
}
