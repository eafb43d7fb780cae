#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// TCP sockets for the handshake: connect to a host and port, listen on one, time limits.
enum Sockets {
    /// Connects to `host:port`, trying each address `getaddrinfo` gives in order.
    static func connect(host: String, port: UInt16) throws(HandshakeError) -> Int32 {
        var lastError = "no address for \(host)"
        for address in try addresses(host: host, port: port, passive: false) {
            let fd = socket(address.family, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { lastError = String(cString: strerror(errno)); continue }
            let connected = address.bytes.withUnsafeBytes {
                Glibc.connect(fd, $0.baseAddress!.assumingMemoryBound(to: sockaddr.self), socklen_t($0.count))
            }
            if connected == 0 { return fd }
            lastError = String(cString: strerror(errno))
            close(fd)
        }
        throw .network("cannot connect to \(host) port \(port): \(lastError)")
    }

    /// Listens on `host:port` (every address when `host` is `nil`); returns the socket and its port.
    static func listen(host: String?, port: UInt16) throws(HandshakeError) -> (socket: Int32, port: UInt16) {
        var lastError = "no address to listen on"
        for address in try addresses(host: host, port: port, passive: true) {
            let fd = socket(address.family, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { lastError = String(cString: strerror(errno)); continue }
            var one: Int32 = 1
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
            let bound = address.bytes.withUnsafeBytes {
                bind(fd, $0.baseAddress!.assumingMemoryBound(to: sockaddr.self), socklen_t($0.count))
            }
            if bound == 0, Glibc.listen(fd, 16) == 0 { return (fd, boundPort(fd)) }
            lastError = String(cString: strerror(errno))
            close(fd)
        }
        throw .network("cannot listen on \(host ?? "*") port \(port): \(lastError)")
    }

    /// Sets (or with 0, clears) the receive and send time limits of a blocking socket.
    static func setTimeout(_ fd: Int32, seconds: Double) {
        var limit = timeval(tv_sec: Int(seconds), tv_usec: Int((seconds - seconds.rounded(.towardZero)) * 1_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
    }

    private struct Address {
        let family: Int32
        let bytes: [UInt8]
    }

    private static func addresses(host: String?, port: UInt16, passive: Bool) throws(HandshakeError) -> [Address] {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = passive ? AI_PASSIVE : 0
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0 else { throw .network("cannot resolve \(host ?? "*"): \(String(cString: gai_strerror(status)))") }
        defer { freeaddrinfo(list) }
        var result = [Address]()
        var cursor = list
        while let entry = cursor {
            if let address = entry.pointee.ai_addr {
                let bytes = Array(UnsafeRawBufferPointer(start: address, count: Int(entry.pointee.ai_addrlen)))
                result.append(Address(family: entry.pointee.ai_family, bytes: bytes))
            }
            cursor = entry.pointee.ai_next
        }
        return result
    }

    private static func boundPort(_ fd: Int32) -> UInt16 {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let ok = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard ok == 0 else { return 0 }
        return withUnsafePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin_port) }
        }
    }
}
