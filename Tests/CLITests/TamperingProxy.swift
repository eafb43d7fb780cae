import Foundation
/// A tiny HTTP server standing in for a directory that lies: it answers every request with what the real
/// directory answered for `path`, fetched once at start, with one byte changed (port 6881 becomes 6882).
final class TamperingProxy: @unchecked Sendable {
    // @unchecked Sendable: `listener` and `body` are immutable after init; the accept thread owns the sockets.
    private let listener: Int32
    private let body: String
    let port: UInt16

    init(upstream: String, path: String) throws {
        var body = try String(contentsOf: URL(string: upstream + path)!, encoding: .utf8)
        if let range = body.range(of: "\"port\":6881") { body.replaceSubrange(range, with: "\"port\":6882") }
        self.body = body
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, length) } }
        listen(listener, 16)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) } }
        port = UInt16(bigEndian: address.sin_port)
        self.listener = listener
        let thread = Thread { [self] in serve() }
        thread.start()
    }

    deinit { shutdown(listener, Int32(SHUT_RDWR)); close(listener) }

    var url: String { "http://127.0.0.1:\(port)" }

    private func serve() {
        while true {
            let connection = accept(listener, nil, nil)
            if connection < 0 { return }
            var request = [UInt8]()
            var buffer = [UInt8](repeating: 0, count: 4096)
            while !request.contains(13) || String(decoding: request, as: UTF8.self).range(of: "\r\n\r\n") == nil {
                let count = recv(connection, &buffer, buffer.count, 0)
                if count <= 0 { break }
                request += buffer[0..<count]
            }
            let response = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n" + body
            _ = Array(response.utf8).withUnsafeBytes { send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            close(connection)
        }
    }
}
