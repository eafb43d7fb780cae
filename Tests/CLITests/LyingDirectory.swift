import Foundation
import Synchronization

/// A directory that lies: a small HTTP/1.1 server on a loopback port that answers each request with what
/// `answer` makes of it, and records every request. One request per connection (`Connection: close`).
final class LyingDirectory: @unchecked Sendable {
    // @unchecked Sendable: `listener`, `port` and `answer` are immutable after init; `log` is a Mutex; the
    // accept thread owns each connection's socket.

    /// A request as received.
    struct Request: Sendable {
        let method: String
        let path: String
        let body: [UInt8]

        /// The body as a JSON object, if it is one.
        var json: [String: Any] { ((try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any]) ?? [:] }

        /// The `seq` of a PUT record.
        var seq: UInt64 { (json["seq"] as? NSNumber)?.uint64Value ?? 0 }

        /// Whether this is a PUT of a withdrawal (a record with no endpoints).
        var isWithdrawal: Bool { method == "PUT" && (json["endpoints"] as? [Any])?.isEmpty == true }
    }

    /// An answer: status, extra headers and a body sent verbatim (JSON as the test writes it).
    struct Answer: Sendable {
        var status: Int
        var headers: [String: String] = [:]
        var body: String = ""

        /// A problem+json answer whose members are given as raw JSON text, so a test can write any lie.
        static func problem(_ status: Int, _ members: String, headers: [String: String] = [:]) -> Answer {
            Answer(status: status, headers: headers.merging(["Content-Type": "application/problem+json"]) { $1 }, body: "{\(members)}")
        }

        /// An honest-looking acceptance of a PUT.
        static let accepted = Answer(status: 200, headers: ["Content-Type": "application/json"], body: "{}")

        /// A `whoami` answer with `server_time` given as raw JSON text.
        static func whoami(serverTime: String = "\(UInt64(Date().timeIntervalSince1970))") -> Answer {
            Answer(status: 200, headers: ["Content-Type": "application/json"],
                   body: #"{"ip":"127.0.0.1","port":40000,"server_time":\#(serverTime)}"#)
        }
    }

    private let listener: Int32
    private let answer: @Sendable (Request) -> Answer
    private let log = Mutex<[Request]>([])
    let port: UInt16

    init(answer: @escaping @Sendable (Request) -> Answer) throws {
        self.answer = answer
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard listener >= 0 else { throw POSIXError(.EIO) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, length) } }
        guard bound == 0, listen(listener, 16) == 0 else { close(listener); throw POSIXError(.EADDRINUSE) }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) } }
        port = UInt16(bigEndian: address.sin_port)
        self.listener = listener
        Thread { [self] in serve() }.start()
    }

    deinit { shutdown(listener, Int32(SHUT_RDWR)); close(listener) }

    var url: String { "http://127.0.0.1:\(port)" }

    /// Every request received so far, in order.
    var requests: [Request] { log.withLock { $0 } }

    /// The PUT requests received so far.
    var puts: [Request] { requests.filter { $0.method == "PUT" } }

    private func serve() {
        while true {
            let connection = accept(listener, nil, nil)
            if connection < 0 { return }
            if let request = read(connection) {
                log.withLock { $0.append(request) }
                write(answer(request), to: connection)
            }
            close(connection)
        }
    }

    /// Reads one request: the head up to the blank line, then `Content-Length` bytes of body.
    private func read(_ connection: Int32) -> Request? {
        var received = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 4096)
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        var headEnd: Int?
        var bodyLength = 0
        while headEnd.map({ received.count < $0 + bodyLength }) ?? true {
            let count = recv(connection, &buffer, buffer.count, 0)
            if count <= 0 { return nil }
            received += buffer[0..<count]
            if headEnd == nil, let range = received.firstRange(of: separator) {
                headEnd = range.upperBound
                let head = String(decoding: received[..<range.lowerBound], as: UTF8.self).lowercased()
                for line in head.split(separator: "\r\n") where line.hasPrefix("content-length:") {
                    bodyLength = Int(line.dropFirst(15).trimmingCharacters(in: .whitespaces)) ?? 0
                }
                if head.contains("expect: 100-continue") { send(Array("HTTP/1.1 100 Continue\r\n\r\n".utf8), to: connection) }
            }
        }
        guard let headEnd else { return nil }
        let requestLine = String(decoding: received[..<headEnd], as: UTF8.self).split(separator: "\r\n").first?.split(separator: " ") ?? []
        guard requestLine.count >= 2 else { return nil }
        return Request(method: String(requestLine[0]), path: String(requestLine[1]), body: Array(received[headEnd..<(headEnd + bodyLength)]))
    }

    private func write(_ answer: Answer, to connection: Int32) {
        var head = "HTTP/1.1 \(answer.status) Lie\r\nContent-Length: \(answer.body.utf8.count)\r\nConnection: close\r\n"
        for (name, value) in answer.headers { head += "\(name): \(value)\r\n" }
        send(Array((head + "\r\n" + answer.body).utf8), to: connection)
    }

    private func send(_ bytes: [UInt8], to connection: Int32) {
        _ = bytes.withUnsafeBytes { Foundation.send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }
}
