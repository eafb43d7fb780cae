internal import CSSL
import PermIDKit
#if canImport(Glibc)
import Glibc
#endif

/// One `SSL` and its socket. Owns both: frees the `SSL` and closes the socket in `deinit`.
final class TLSSession {
    let ssl: OpaquePointer
    let socket: Int32

    deinit {
        SSL_free(ssl)
        Glibc.close(socket)
    }

    /// Takes ownership of the socket; closes it if the `SSL` cannot be made.
    init(socket: Int32, context: TLSContext) throws(HandshakeError) {
        guard let ssl = SSL_new(context.context) else {
            Glibc.close(socket)
            throw .tls("SSL_new: \(TLSErrors.drain())")
        }
        self.ssl = ssl
        self.socket = socket
    }
}

/// A TLS connection whose peer proved its PermID (FRIENDS-v1 part C).
///
/// Closing the stream (or dropping it) ends the connection; ``close()`` first sends close_notify.
public final class AuthenticatedStream: @unchecked Sendable {
    // @unchecked Sendable: the SSL is used by one thread at a time (the caller's); the stream only
    // guarantees a single owner of the handles.
    private let session: TLSSession
    private var closed = false
    /// The PermID the peer proved.
    public let peer: PermID

    var ssl: OpaquePointer { session.ssl }
    var socket: Int32 { session.socket }

    private init(session: TLSSession, peer: PermID) {
        self.session = session
        self.peer = peer
    }

    /// Runs the handshake on a connected socket (taking ownership of it) as client or server.
    static func handshake(socket: Int32, context: TLSContext, server: Bool, identity: PrivateKey,
                          policy: PeerPolicy, timeout: Double) throws(HandshakeError) -> AuthenticatedStream {
        let stream = try TLSSession(socket: socket, context: context)
        let certificate = try HandshakeCertificate(proving: identity)
        guard SSL_use_certificate(stream.ssl, certificate.certificate) == 1,
              SSL_use_PrivateKey(stream.ssl, certificate.key) == 1,
              server || SSL_set_alpn_protos(stream.ssl, TLSContext.alpn, UInt32(TLSContext.alpn.count)) == 0,
              SSL_set_fd(stream.ssl, socket) == 1
        else { throw .tls(TLSErrors.drain()) }
        let state = HandshakeState(policy: policy)
        Sockets.setTimeout(socket, seconds: timeout)
        let result = withExtendedLifetime(state) {
            SSL_set_ex_data(stream.ssl, 0, Unmanaged.passUnretained(state).toOpaque())
            defer { SSL_set_ex_data(stream.ssl, 0, nil) }
            return server ? SSL_accept(stream.ssl) : SSL_connect(stream.ssl)
        }
        guard result == 1 else {
            let failure = Self.failure(stream.ssl, result, during: "handshake")
            throw state.rejection ?? failure
        }
        Sockets.setTimeout(socket, seconds: 0)
        guard let peer = state.peer else { throw .tls("the handshake finished without the peer's proof") }
        var selected: UnsafePointer<UInt8>?
        var selectedLength: UInt32 = 0
        SSL_get0_alpn_selected(stream.ssl, &selected, &selectedLength)
        guard let selected, Array(UnsafeBufferPointer(start: selected, count: Int(selectedLength))) == Array(TLSContext.alpn.dropFirst()) else {
            throw .tls("the peer did not agree on ALPN permid/1")
        }
        return AuthenticatedStream(session: stream, peer: peer)
    }

    // MARK: - Reading and writing

    /// Reads up to `maximum` bytes, waiting for them; an empty result means the peer closed its side.
    ///
    /// - Throws: ``HandshakeError/tls(_:)`` for an alert (such as the peer refusing this side's proof).
    public func read(maximum: Int = 16_384) throws(HandshakeError) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: maximum)
        while true {
            let count = SSL_read(ssl, &buffer, Int32(maximum))
            if count > 0 { return Array(buffer[0..<Int(count)]) }
            switch SSL_get_error(ssl, count) {
            case SSL_ERROR_ZERO_RETURN: return []
            case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE: continue
            default: throw Self.failure(ssl, count, during: "read")
            }
        }
    }

    /// Writes all of `bytes`.
    public func write(_ bytes: [UInt8]) throws(HandshakeError) {
        guard !bytes.isEmpty else { return }
        while true {
            let count = SSL_write(ssl, bytes, Int32(bytes.count))
            if count > 0 { return }
            switch SSL_get_error(ssl, count) {
            case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE: continue
            default: throw Self.failure(ssl, count, during: "write")
            }
        }
    }

    /// Sends close_notify (this side writes no more); reading may go on until the peer closes too.
    public func close() {
        guard !closed else { return }
        closed = true
        if SSL_shutdown(ssl) < 0 { TLSErrors.drain() }
    }

    /// The error for a failed SSL call.
    static func failure(_ ssl: OpaquePointer, _ result: Int32, during what: String) -> HandshakeError {
        let code = SSL_get_error(ssl, result)
        if code == SSL_ERROR_SYSCALL {
            let reason = errno == 0 ? "the connection closed" : String(cString: strerror(errno))
            TLSErrors.drain()
            return .network("\(what): \(reason)")
        }
        return .tls("\(what): \(TLSErrors.drain())")
    }
}
