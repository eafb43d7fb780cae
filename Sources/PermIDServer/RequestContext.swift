import PermIDKit

/// What the server knows of a request before reading its body, made once on libmicrohttpd's first
/// call for it, and carried to the handler and to the completion report.
public struct RequestContext: Sendable {
    /// The method, from a closed set.
    public let method: HTTPMethod
    /// The resource, parsed once.
    public let route: Route
    /// The client: the direct peer, or the address a trusted proxy names (resolved once).
    public let source: SourceAddress
    /// The most body bytes this request may send.
    public let bodyLimit: Int
    /// When its request line arrived.
    public let started: ContinuousClock.Instant

    /// Makes a context.
    public init(method: HTTPMethod, route: Route, source: SourceAddress, bodyLimit: Int, started: ContinuousClock.Instant) {
        self.method = method
        self.route = route
        self.source = source
        self.bodyLimit = bodyLimit
        self.started = started
    }
}

/// A request's client address and, when known, port.
public struct SourceAddress: Hashable, Sendable {
    /// The address (IPv4-mapped IPv6 unmapped).
    public let address: IPAddress
    /// The port, when the direct peer is the client or a proxy named it.
    public let port: UInt16?

    /// Makes a source address.
    public init(address: IPAddress, port: UInt16?) {
        self.address = address
        self.port = port
    }
}
