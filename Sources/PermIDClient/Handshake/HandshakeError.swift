/// Why a PermID TLS handshake (FRIENDS-v1 part C), or the connection after it, failed.
public enum HandshakeError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The peer's certificate or proof fails a check of FRIENDS-v1 part C, it proves another PermID
    /// than the one expected, or it is not accepted (not a friend); the reason says which.
    case peerRejected(String)
    /// The peer ended the handshake or the connection with a TLS alert, or the TLS handshake failed
    /// for a reason other than the peer's proof (protocol version, ALPN).
    case tls(String)
    /// A socket could not be made, bound, connected or used.
    case network(String)
    /// This side's certificate or proof could not be made (OpenSSL or the PermID key failed).
    case certificate(String)
    /// Bytes that should hold a PermIDProof do not (FRIENDS-v1 part C).
    case malformedProof(String)

    public var description: String {
        switch self {
        case .peerRejected(let reason): "peer rejected: \(reason)"
        case .tls(let reason): "TLS: \(reason)"
        case .network(let reason): "network: \(reason)"
        case .certificate(let reason): "certificate: \(reason)"
        case .malformedProof(let reason): "malformed PermIDProof: \(reason)"
        }
    }
}
