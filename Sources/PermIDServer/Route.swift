/// The directory's resources, recognised from a request path (still percent-encoded).
public enum Route: Hashable, Sendable {
    case peer(String)
    case lookup
    case peers
    case whoami
    case stats
    case health
    case ready
    case metrics
    case openAPI
    case unknown

    /// Recognises a path. Extra, empty or dot segments match nothing. Works on the UTF-8 bytes: this
    /// runs for every request.
    public init(path: String) {
        var path = path
        self = path.withUTF8 { bytes in
            // The ranges of the first three segments after the leading "/", and how many there are
            // (counted, not collected: no array is made).
            guard bytes.first == UInt8(ascii: "/") else { return .unknown }
            var segments = (1..<1, 1..<1, 1..<1)
            var count = 0, start = 1
            for index in 1...bytes.count where index == bytes.count || bytes[index] == UInt8(ascii: "/") {
                switch count {
                case 0: segments.0 = start..<index
                case 1: segments.1 = start..<index
                case 2: segments.2 = start..<index
                default: return .unknown
                }
                count += 1
                start = index + 1
            }
            func equals(_ segment: Range<Int>, _ literal: StaticString) -> Bool {
                bytes[segment].elementsEqual(UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount))
            }
            switch count {
            case 1:
                if equals(segments.0, "healthz") { return .health }
                if equals(segments.0, "readyz") { return .ready }
                if equals(segments.0, "metrics") { return .metrics }
                if equals(segments.0, "openapi.yaml") { return .openAPI }
                return .unknown
            case 2 where equals(segments.0, "v1"):
                if equals(segments.1, "peers") { return .peers }
                if equals(segments.1, "whoami") { return .whoami }
                if equals(segments.1, "stats") { return .stats }
                return .unknown
            case 3 where equals(segments.0, "v1") && equals(segments.1, "peers") && !segments.2.isEmpty:
                if equals(segments.2, "lookup") { return .lookup }
                return .peer(String(decoding: bytes[segments.2], as: UTF8.self))
            default:
                return .unknown
            }
        }
    }

    /// The path template, for logs and metric labels (never the PermID itself).
    public var template: String {
        switch self {
        case .peer: "/v1/peers/{permid}"
        case .lookup: "/v1/peers/lookup"
        case .peers: "/v1/peers"
        case .whoami: "/v1/whoami"
        case .stats: "/v1/stats"
        case .health: "/healthz"
        case .ready: "/readyz"
        case .metrics: "/metrics"
        case .openAPI: "/openapi.yaml"
        case .unknown: "unknown"
        }
    }

    /// The methods this resource answers; HEAD is answered wherever GET is.
    public var allowedMethods: [HTTPMethod] {
        switch self {
        case .peer: [.get, .head, .put]
        case .lookup: [.post]
        case .unknown: []
        default: [.get, .head]
        }
    }
}
