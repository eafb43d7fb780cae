internal import CSSL
import PermIDKit
#if canImport(Glibc)
import Glibc
#endif

/// The PermID TLS handshake (FRIENDS-v1 part C): connect to a peer, or listen for peers, and learn the
/// PermID each proved.
public enum PermIDTLS {
    /// Seconds a handshake may take before it is given up.
    public static let handshakeTimeout: Double = 10

    /// Connects to `host:port` and runs the handshake as the client, proving `identity`.
    ///
    /// - Parameters:
    ///   - policy: the PermID the server must prove, if any, and the admission hook.
    /// - Throws: ``HandshakeError/peerRejected(_:)`` when the server's proof fails (nothing was sent),
    ///   ``HandshakeError/tls(_:)`` or ``HandshakeError/network(_:)`` otherwise.
    public static func connect(host: String, port: UInt16, identity: PrivateKey, policy: PeerPolicy = PeerPolicy(),
                               timeout: Double = handshakeTimeout) throws(HandshakeError) -> AuthenticatedStream {
        let context = try TLSContext(server: false)
        let socket = try Sockets.connect(host: host, port: port)
        return try AuthenticatedStream.handshake(socket: socket, context: context, server: false, identity: identity,
                                                 policy: policy, timeout: timeout)
    }
}

/// Accepts connections and runs the handshake as the server on each, with a fresh certificate.
///
/// Owns the listening socket, closed in `deinit`.
public final class PermIDListener: @unchecked Sendable {
    // @unchecked Sendable: accept() is meant to be called from one thread; the fields are immutable.
    private let socket: Int32
    private let context: TLSContext
    private let identity: PrivateKey
    private let policy: PeerPolicy
    /// The port the listener is bound to (useful after asking for port 0).
    public let port: UInt16

    deinit { Glibc.close(socket) }

    /// Listens on `host:port` (every address when `host` is `nil`).
    ///
    /// - Throws: ``HandshakeError/network(_:)`` when the address cannot be used.
    public init(host: String?, port: UInt16, identity: PrivateKey, policy: PeerPolicy = PeerPolicy()) throws(HandshakeError) {
        context = try TLSContext(server: true)
        (socket, self.port) = try Sockets.listen(host: host, port: port)
        self.identity = identity
        self.policy = policy
    }

    /// Waits for the next connection and runs the handshake.
    ///
    /// - Throws: ``HandshakeError/peerRejected(_:)`` when the client's proof fails or the policy refuses
    ///   it (the client got an alert), other cases for TLS or network failures. The listener stays usable.
    public func accept() throws(HandshakeError) -> AuthenticatedStream {
        var connection: Int32
        repeat {
            connection = Glibc.accept(socket, nil, nil)
        } while connection < 0 && errno == EINTR
        guard connection >= 0 else { throw .network("accept: \(String(cString: strerror(errno)))") }
        return try AuthenticatedStream.handshake(socket: connection, context: context, server: true, identity: identity,
                                                 policy: policy, timeout: PermIDTLS.handshakeTimeout)
    }
}
