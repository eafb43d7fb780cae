/// The directory's resources, recognised from a request path (still percent-encoded).
public enum Route: Hashable, Sendable {
    case peer(String)
    case lookup
    case peers
    case whoami
    case stats
    case health
    case metrics
    case openAPI
    case unknown

    /// Recognises a path. Extra, empty or dot segments match nothing.
    public init(path: String) {
        let segments = path.split(separator: "/", omittingEmptySubsequences: false)
        switch segments.count {
        case 2 where segments[0].isEmpty:
            switch segments[1] {
            case "healthz": self = .health
            case "metrics": self = .metrics
            case "openapi.yaml": self = .openAPI
            default: self = .unknown
            }
        case 3 where segments[0].isEmpty && segments[1] == "v1":
            switch segments[2] {
            case "peers": self = .peers
            case "whoami": self = .whoami
            case "stats": self = .stats
            default: self = .unknown
            }
        case 4 where segments[0].isEmpty && segments[1] == "v1" && segments[2] == "peers" && !segments[3].isEmpty:
            self = segments[3] == "lookup" ? .lookup : .peer(String(segments[3]))
        default:
            self = .unknown
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
        case .metrics: "/metrics"
        case .openAPI: "/openapi.yaml"
        case .unknown: "unknown"
        }
    }

    /// The methods this resource answers; HEAD is answered wherever GET is.
    public var allowedMethods: [String] {
        switch self {
        case .peer: ["GET", "HEAD", "PUT"]
        case .lookup: ["POST"]
        case .unknown: []
        default: ["GET", "HEAD"]
        }
    }
}
