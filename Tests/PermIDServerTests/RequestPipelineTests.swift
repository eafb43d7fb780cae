import Foundation
import Synchronization
import PermIDKit
import PermIDServer
import Testing

/// The request pipeline: one keep-alive connection carrying many requests, the closed method set,
/// what a lookup costs in tokens, and per-prefix buckets for IPv6 sources.
@Suite struct RequestPipelineTests {
    /// Sends `requests` back to back on one connection (pipelined) and reads one response per request.
    private func pipeline(_ server: TestServer, _ requests: [String]) throws -> [RawHTTPClient.Response] {
        let socket = try server.client.connect()
        defer { close(socket) }
        let bytes = Array(requests.joined().utf8)
        var sent = 0
        while sent < bytes.count {
            let written = bytes[sent...].withUnsafeBytes { Foundation.send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard written > 0 else { throw POSIXError(.EPIPE) }
            sent += written
        }
        var received = [UInt8]()
        var responses = [RawHTTPClient.Response]()
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while responses.count < requests.count {
            if let (response, used) = RawHTTPClient.parseOne(received, isHead: requests[responses.count].hasPrefix("HEAD")) {
                responses.append(response)
                received.removeFirst(used)
                continue
            }
            let count = recv(socket, &buffer, buffer.count, 0)
            guard count > 0 else { throw POSIXError(.ECONNRESET) }
            received += buffer[0..<count]
        }
        return responses
    }

    @Test func manyRequestsOnOneKeepAliveConnection() throws {
        let server = try TestServer()
        let key = try PrivateKey.generate(.ed25519)
        let path = "/v1/peers/\(key.permID.text)"
        func put(_ seq: UInt64) -> String {
            let body = String(decoding: server.record(key, seq: seq).json, as: UTF8.self)
            return "PUT \(path) HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
        }
        let get = "GET \(path) HTTP/1.1\r\nHost: x\r\n\r\n"
        let requests = [
            put(1), get, "GET \(path) HTTP/1.1\r\nHost: x\r\nIf-None-Match: \"1\"\r\n\r\n", put(1), put(2),
            "HEAD \(path) HTTP/1.1\r\nHost: x\r\n\r\n", "DELETE \(path) HTTP/1.1\r\nHost: x\r\n\r\n",
            "GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n", "BREW \(path) HTTP/1.1\r\nHost: x\r\n\r\n", get,
        ]
        let responses = try pipeline(server, requests)
        #expect(responses.map(\.status) == [201, 200, 304, 409, 200, 200, 405, 404, 405, 200])
        #expect(responses.allSatisfy { $0.header("Connection")?.lowercased() != "close" }, "the connection is kept alive throughout")
        #expect(responses[9].json["seq"] as? Int == 2)
        #expect(responses[2].body.isEmpty && responses[2].header("ETag") == "\"1\"")
        #expect(responses[8].header("Allow") == "GET, HEAD, PUT", "an unknown method is answered like any other not allowed")
    }

    @Test func unknownMethodsAreCountedAsOther() throws {
        let server = try TestServer()
        for index in 0..<50 {
            _ = try server.client.send("X\(index)" + String(repeating: "Y", count: 500), "/v1/whoami")
        }
        _ = try server.client.send("PATCH", "/healthz")
        let metrics = try server.get("/metrics").text
        let methods = Set(metrics.split(separator: "\n").compactMap { line -> Substring? in
            guard line.hasPrefix("permid_http_requests_total{"), let range = line.range(of: "method=\"") else { return nil }
            return line[range.upperBound...].prefix { $0 != "\"" }
        })
        #expect(methods.isSubset(of: ["GET", "HEAD", "PUT", "POST", "OTHER"]) && methods.contains("OTHER"), "\(methods)")
        #expect(!metrics.contains("YYYY"))
    }

    @Test func eachDistinctUnknownPermIDInALookupCostsAToken() throws {
        let server = try TestServer(rateLimits: RateLimits(sourceRate: 0.001, sourceBurst: 12, permIDRate: 1, permIDBurst: 10))
        let unknown = try (0..<10).map { _ in try PrivateKey.generate(.ec(.sect571k1)).permID.text }
        func lookup(_ permids: [String]) throws -> RawHTTPClient.Response {
            try server.client.send("POST", "/v1/peers/lookup", body: Array(#"{"permids":[\#(permids.map { "\"\($0)\"" }.joined(separator: ","))]}"#.utf8))
        }
        // 1 token for the request and 1 for each of the 5 distinct PermIDs checked (repeats are free).
        #expect(try lookup(Array(unknown[0..<5]) + Array(unknown[0..<5])).status == 200)
        // The same five again: validated before, so only the request's token.
        #expect(try lookup(Array(unknown[0..<5])).status == 200)
        // 12 − 7 = 5 tokens left: the request and five new PermIDs need 6.
        let limited = try lookup(Array(unknown[5..<10]))
        #expect(limited.status == 429 && limited.problemType == "rate-limited")
    }

    @Test func ipv6SourcesShareABucketPerPrefix() throws {
        let server = try TestServer(
            rateLimits: RateLimits(sourceRate: 0.001, sourceBurst: 2, permIDRate: 1, permIDBurst: 10), trustedProxies: ["127.0.0.1"])
        func whoami(_ source: String) throws -> Int {
            try server.get("/v1/whoami", headers: [("X-Forwarded-For", source)]).status
        }
        #expect(try whoami("2001:db8:0:1::1") == 200)
        #expect(try whoami("2001:db8:0:1::2") == 200)
        #expect(try whoami("2001:db8:0:1:ffff::3") == 429, "the same /64")
        #expect(try whoami("2001:db8:0:2::1") == 200, "another /64")
        #expect(try whoami("198.51.100.1") == 200)
        #expect(try whoami("198.51.100.2") == 200, "IPv4 sources are limited per address")
    }

    @Test func eachRateLimitSwitchesOffAlone() throws {
        var onlyPermIDs = RateLimits(sourceRate: 0.001, sourceBurst: 1, permIDRate: 0.001, permIDBurst: 1)
        onlyPermIDs.limitsSources = false
        let server = try TestServer(rateLimits: onlyPermIDs)
        for _ in 0..<5 { #expect(try server.get("/v1/whoami").status == 200, "no per-source limit") }
        let key = try PrivateKey.generate(.ed25519)
        #expect(try server.announce(server.record(key, seq: 1)).status == 201)
        #expect(try server.announce(server.record(key, seq: 2)).status == 429, "the per-PermID limit still applies")

        var onlySources = onlyPermIDs
        onlySources.limitsSources = true
        onlySources.limitsPermIDs = false
        let other = try TestServer(rateLimits: onlySources)
        #expect(try other.announce(other.record(key, seq: 1)).status == 201)
        #expect(try other.announce(other.record(key, seq: 2)).status == 429, "the one source token is spent")
    }

    @Test func thePerAddressConnectionLimitSparesTrustedProxies() throws {
        /// Opens `count` connections and sends each a request (one that reads no database) after all are
        /// open; returns what each got: the status line's code, or "closed".
        func answers(_ server: TestServer, _ count: Int) throws -> [String] {
            let opened = Mutex<[Int32]>([])
            DispatchQueue.concurrentPerform(iterations: count) { _ in
                if let socket = try? server.client.connect() { opened.withLock { $0.append(socket) } }
            }
            let sockets = opened.withLock { $0 }
            #expect(sockets.count == count)
            defer { for socket in sockets { close(socket) } }
            Thread.sleep(forTimeInterval: 0.5)
            return sockets.map { socket in
                var timeout = timeval(tv_sec: 10, tv_usec: 0)
                setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
                let request = Array("GET /v1/whoami HTTP/1.1\r\nHost: x\r\n\r\n".utf8)
                _ = request.withUnsafeBytes { Foundation.send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                var buffer = [UInt8](repeating: 0, count: 1024)
                let received = recv(socket, &buffer, buffer.count, 0)
                guard received >= 12 else { return received == 0 ? "closed" : "error \(errno)" }
                return String(decoding: buffer[9..<12], as: UTF8.self)
            }
        }
        let limited = try TestServer(options: DaemonOptions(threads: 2, perIPConnectionLimit: 3))
        let fromOne = try answers(limited, 5)
        #expect(fromOne.filter { $0 == "200" }.count == 3 && fromOne.filter { $0 == "closed" }.count == 2,
                "an address holds at most 3 connections: \(fromOne)")
        // Four threads accepting 40 connections opened at once: the accept check races, the count taken
        // as each connection starts does not.
        let racing = try TestServer(options: DaemonOptions(threads: 4, perIPConnectionLimit: 3))
        let burst = try answers(racing, 40)
        #expect(burst.filter { $0 == "200" }.count == 3 && burst.filter { $0 == "closed" }.count == 37,
                "at most 3 connections whatever the race: \(burst.filter { $0 != "closed" })")
        let proxied = try TestServer(trustedProxies: ["127.0.0.1"], options: DaemonOptions(threads: 2, perIPConnectionLimit: 3))
        let fromProxy = try answers(proxied, 5)
        #expect(fromProxy == Array(repeating: "200", count: 5), "a trusted proxy's connections are not counted: \(fromProxy)")
    }
}
