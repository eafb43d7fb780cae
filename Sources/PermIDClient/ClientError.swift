/// Why a PermIDClient call failed. Every case carries printable text (control characters removed).
public enum ClientError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The directory could not be reached, or sent no HTTP answer.
    case unreachable(server: String, reason: String)
    /// The directory answered with an error status (see ``DirectoryRefusal``).
    case refused(DirectoryRefusal)
    /// The directory's answer is not understood, or asks for something this client refuses to follow
    /// (a seq more than a day ahead, a clock more than an hour off).
    case untrustworthyAnswer(String)
    /// The directory's batch answer cannot be checked at all, so no record in it can be trusted.
    case unverifiable(String)
    /// A local file problem: a key, seq state, keyring or friends file that cannot be read, written or trusted.
    case local(String)
    /// A value given by the caller is not acceptable: a server URL, a key or friend name, a PermID.
    case invalidArgument(String)

    /// One line describing the failure.
    public var description: String {
        switch self {
        case .unreachable(let server, let reason): "cannot reach the directory at \(server): \(reason)"
        case .refused(let refusal): "the directory answered \(refusal.status) \(refusal.slug): \(refusal.detail)"
        case .untrustworthyAnswer(let text), .unverifiable(let text), .local(let text), .invalidArgument(let text): text
        }
    }
}

/// A directory's error answer: its HTTP status, problem slug and detail, and how long it asked to wait.
public struct DirectoryRefusal: Hashable, Sendable {
    /// The HTTP status.
    public let status: Int
    /// The last path segment of the problem's `type` (`stale-seq`, `rate-limited` …), else `http-STATUS`.
    public let slug: String
    /// The problem's `detail`, else its `title`, else `HTTP STATUS`; printable.
    public let detail: String
    /// The `stored_seq` of a 409, when it is an integer that fits 64 bits.
    public let storedSeq: UInt64?
    /// Seconds to wait before retrying, only on 429 and 503 and only within ``DirectoryRefusal/retryAfterBounds``.
    public let retryAfter: Double?

    /// The shortest and longest wait a directory's `Retry-After` can ask for, in seconds.
    public static let retryAfterBounds: ClosedRange<Double> = 1...3_600
}
