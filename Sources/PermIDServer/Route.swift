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
            let segments = bytes.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
            guard segments.count >= 2, segments[0].isEmpty else { return .unknown }
            func equals(_ segment: Slice<UnsafeBufferPointer<UInt8>>, _ literal: StaticString) -> Bool {
                segment.elementsEqual(UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount))
            }
            switch segments.count {
            case 2:
                if equals(segments[1], "healthz") { return .health }
                if equals(segments[1], "readyz") { return .ready }
                if equals(segments[1], "metrics") { return .metrics }
                if equals(segments[1], "openapi.yaml") { return .openAPI }
                return .unknown
            case 3 where equals(segments[1], "v1"):
                if equals(segments[2], "peers") { return .peers }
                if equals(segments[2], "whoami") { return .whoami }
                if equals(segments[2], "stats") { return .stats }
                return .unknown
            case 4 where equals(segments[1], "v1") && equals(segments[2], "peers") && !segments[3].isEmpty:
                if equals(segments[3], "lookup") { return .lookup }
                return .peer(String(decoding: segments[3], as: UTF8.self))
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
