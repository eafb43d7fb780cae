internal import CSSL
#if canImport(Glibc)
import Glibc
#endif

extension AuthenticatedStream {
    /// Relays bytes both ways until both directions have ended: what arrives on `input` is sent to the
    /// peer (its end sends close_notify), what the peer sends is written to `output` (until the peer's
    /// close_notify). One thread, poll(2), the socket non-blocking. The caller ignores SIGPIPE.
    ///
    /// - Throws: ``HandshakeError/tls(_:)`` for an alert from the peer (such as a server refusing this
    ///   side's proof), ``HandshakeError/network(_:)`` when a descriptor fails.
    public func relay(input: Int32, output: Int32) throws(HandshakeError) {
        let flags = fcntl(socket, F_GETFL)
        guard flags >= 0, fcntl(socket, F_SETFL, flags | O_NONBLOCK) == 0 else {
            throw .network("fcntl: \(String(cString: strerror(errno)))")
        }
        var buffer = [UInt8](repeating: 0, count: 16_384)
        var outbound = [UInt8]()
        var inputOpen = true, peerOpen = true, sentClose = false
        var writeWaitsFor: Int16 = 0
        while peerOpen || !sentClose {
            if peerOpen { peerOpen = try drainPeer(into: output, buffer: &buffer) }
            if !outbound.isEmpty {
                let count = SSL_write(ssl, outbound, Int32(outbound.count))
                if count > 0 {
                    outbound.removeAll(keepingCapacity: true)
                    writeWaitsFor = 0
                } else {
                    switch SSL_get_error(ssl, count) {
                    case SSL_ERROR_WANT_WRITE: writeWaitsFor = Int16(POLLOUT)
                    case SSL_ERROR_WANT_READ: writeWaitsFor = Int16(POLLIN)
                    default:
                        // The peer is gone (its socket closed): nothing more can be sent.
                        TLSErrors.drain()
                        outbound.removeAll()
                        inputOpen = false
                        sentClose = true
                        peerOpen = false
                    }
                }
            }
            if outbound.isEmpty && !inputOpen && !sentClose {
                if SSL_shutdown(ssl) < 0 { TLSErrors.drain() }
                sentClose = true
            }
            if !peerOpen && sentClose { break }
            var fds = [pollfd(fd: socket, events: (peerOpen ? Int16(POLLIN) : 0) | writeWaitsFor, revents: 0)]
            let watchInput = inputOpen && outbound.isEmpty
            if watchInput { fds.append(pollfd(fd: input, events: Int16(POLLIN), revents: 0)) }
            if poll(&fds, nfds_t(fds.count), -1) < 0 {
                if errno == EINTR { continue }
                throw .network("poll: \(String(cString: strerror(errno)))")
            }
            if watchInput && fds[1].revents != 0 {
                let count = Glibc.read(input, &buffer, buffer.count)
                if count > 0 {
                    outbound = Array(buffer[0..<count])
                } else if count == 0 || (errno != EINTR && errno != EAGAIN) {
                    inputOpen = false
                }
            }
        }
    }

    /// Reads every record available from the peer into `output`; `false` once the peer has closed.
    private func drainPeer(into output: Int32, buffer: inout [UInt8]) throws(HandshakeError) -> Bool {
        while true {
            let count = SSL_read(ssl, &buffer, Int32(buffer.count))
            if count > 0 {
                try writeAll(buffer[0..<Int(count)], to: output)
                continue
            }
            switch SSL_get_error(ssl, count) {
            case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE: return true
            case SSL_ERROR_ZERO_RETURN: return false
            case SSL_ERROR_SYSCALL where errno == 0 || errno == ECONNRESET:
                TLSErrors.drain()
                return false
            default: throw Self.failure(ssl, count, during: "read")
            }
        }
    }

    private func writeAll(_ bytes: ArraySlice<UInt8>, to output: Int32) throws(HandshakeError) {
        var offset = bytes.startIndex
        while offset < bytes.endIndex {
            let written = bytes[offset...].withUnsafeBytes { Glibc.write(output, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                throw .network("write: \(String(cString: strerror(errno)))")
            }
            offset += written
        }
    }
}
