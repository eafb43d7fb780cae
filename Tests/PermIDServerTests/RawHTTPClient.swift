import Foundation

/// A deliberately small HTTP/1.1 client over a blocking socket, so tests control every byte sent
/// (chunked bodies, odd headers, HEAD) and see exactly what the server answers.
struct RawHTTPClient {
    struct Response {
        let status: Int
        let headers: [String: String]
        let body: [UInt8]

        func header(_ name: String) -> String? { headers[name.lowercased()] }
        var text: String { String(decoding: body, as: UTF8.self) }
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] ?? [:] }
        var problemType: String? { (json["type"] as? String)?.components(separatedBy: "/problems/").last }
    }

    let host: String
    let port: UInt16

    /// Sends one request on a new connection (Connection: close) and reads the whole response.
    func send(
        _ method: String, _ path: String, headers: [(String, String)] = [], body: [UInt8]? = nil,
        contentType: String? = "application/json", chunked: Bool = false
    ) throws -> Response {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: \(host)\r\nConnection: close\r\n"
        if body != nil, let contentType { head += "Content-Type: \(contentType)\r\n" }
        if let body {
            head += chunked ? "Transfer-Encoding: chunked\r\n" : "Content-Length: \(body.count)\r\n"
        }
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        head += "\r\n"
        var bytes = Array(head.utf8)
        if let body {
            if chunked {
                for chunk in stride(from: 0, to: body.count, by: 1000).map({ body[$0..<min($0 + 1000, body.count)] }) {
                    bytes += Array((String(chunk.count, radix: 16) + "\r\n").utf8) + chunk + Array("\r\n".utf8)
                }
                bytes += Array("0\r\n\r\n".utf8)
            } else {
                bytes += body
            }
        }
        return try exchange(bytes, isHead: method == "HEAD")
    }

    /// Sends raw bytes and parses the response.
    func exchange(_ request: [UInt8], isHead: Bool = false) throws -> Response {
        let socket = try connect()
        defer { close(socket) }
        var sent = 0
        while sent < request.count {
            let written = request[sent...].withUnsafeBytes { Foundation.send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if written <= 0 { break }
            sent += written
        }
        var received = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = recv(socket, &buffer, buffer.count, 0)
            if count <= 0 { break }
            received += buffer[0..<count]
        }
        return try parse(received)
    }

    /// Opens a TCP connection with a 10 s receive timeout.
    func connect() throws -> Int32 {
        let isV6 = host.contains(":")
        let socket = Foundation.socket(isV6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let result: Int32
        if isV6 {
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = port.bigEndian
            inet_pton(AF_INET6, host, &address.sin6_addr)
            result = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Foundation.connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) } }
        } else {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = port.bigEndian
            inet_pton(AF_INET, host, &address.sin_addr)
            result = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Foundation.connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        }
        guard result == 0 else {
            close(socket)
            throw POSIXError(.ECONNREFUSED)
        }
        return socket
    }

    private func parse(_ data: [UInt8]) throws -> Response {
        guard let end = data.firstRange(of: Array("\r\n\r\n".utf8)) else { throw POSIXError(.EBADMSG) }
        let head = String(decoding: data[..<end.lowerBound], as: UTF8.self).components(separatedBy: "\r\n")
        guard let statusLine = head.first, statusLine.split(separator: " ").count >= 2,
              let status = Int(statusLine.split(separator: " ")[1]) else { throw POSIXError(.EBADMSG) }
        var headers = [String: String]()
        for line in head.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        var body = Array(data[end.upperBound...])
        if headers["transfer-encoding"] == "chunked" { body = Self.dechunk(body) }
        return Response(status: status, headers: headers, body: body)
    }

    /// Parses the first complete response in `data` (Content-Length bodies; none for HEAD and 304),
    /// returning it and the bytes it took, or `nil` if more bytes are needed.
    static func parseOne(_ data: [UInt8], isHead: Bool) -> (Response, Int)? {
        guard let end = data.firstRange(of: Array("\r\n\r\n".utf8)) else { return nil }
        let head = String(decoding: data[..<end.lowerBound], as: UTF8.self).components(separatedBy: "\r\n")
        guard let statusLine = head.first, statusLine.split(separator: " ").count >= 2,
              let status = Int(statusLine.split(separator: " ")[1]) else { return nil }
        var headers = [String: String]()
        for line in head.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let length = isHead || status == 304 ? 0 : Int(headers["content-length"] ?? "0") ?? 0
        guard data.count >= end.upperBound + length else { return nil }
        return (Response(status: status, headers: headers, body: Array(data[end.upperBound..<end.upperBound + length])), end.upperBound + length)
    }

    private static func dechunk(_ data: [UInt8]) -> [UInt8] {
        var output = [UInt8](), index = 0
        while let lineEnd = data[index...].firstRange(of: Array("\r\n".utf8)),
              let size = Int(String(decoding: data[index..<lineEnd.lowerBound], as: UTF8.self), radix: 16), size > 0 {
            output += data[lineEnd.upperBound..<min(data.count, lineEnd.upperBound + size)]
            index = lineEnd.upperBound + size + 2
        }
        return output
    }
}
