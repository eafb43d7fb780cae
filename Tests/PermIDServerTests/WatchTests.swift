import Foundation
import PermIDKit
import PermIDServer
import Synchronization
import Testing

/// `GET /v1/peers/{permid}?wait=`: a resolve held until the record changes, answered by suspend/resume.
@Suite struct WatchTests {
    /// Starts a request on another thread; `wait()` returns its response and the seconds it took.
    final class Pending: @unchecked Sendable {
        // @unchecked Sendable: `result` is written once before the semaphore is signalled and read after waiting.
        private let done = DispatchSemaphore(value: 0)
        private var result: (RawHTTPClient.Response?, Double) = (nil, 0)

        init(_ send: @escaping @Sendable () throws -> RawHTTPClient.Response) {
            Thread.detachNewThread { [self] in
                let start = Date()
                let response = try? send()
                result = (response, Date().timeIntervalSince(start))
                done.signal()
            }
        }

        func wait() -> (response: RawHTTPClient.Response?, seconds: Double) {
            done.wait()
            return result
        }
    }

    private func watch(_ server: TestServer, _ key: PrivateKey, seconds: Int, etag: String? = nil, from source: String? = nil) -> Pending {
        var headers = [(String, String)]()
        if let etag { headers.append(("If-None-Match", etag)) }
        if let source { headers.append(("X-Forwarded-For", source)) }
        let client = server.client
        let path = "/v1/peers/\(key.permID.text)?wait=\(seconds)"
        let sent = headers
        return Pending { try client.send("GET", path, headers: sent) }
    }

    @Test func aNewRecordWakesTheWatcher() throws {
        let server = try TestServer()
        let key = try PrivateKey.generate(.ed25519)
        #expect(try server.announce(server.record(key, seq: 1)).status == 201)
        let pending = watch(server, key, seconds: 20, etag: "\"1\"")
        Thread.sleep(forTimeInterval: 0.3)
        #expect(try server.announce(server.record(key, seq: 2)).status == 200)
        let (response, seconds) = pending.wait()
        #expect(response?.status == 200 && response?.json["seq"] as? Int == 2 && response?.header("ETag") == "\"2\"")
        #expect(seconds < 3, "answered when the record was stored, not at the end of the wait")
    }

    @Test func aFirstRecordWakesAWatcherOfNothing() throws {
        let server = try TestServer()
        let key = try PrivateKey.generate(.ed25519)
        let pending = watch(server, key, seconds: 20)
        Thread.sleep(forTimeInterval: 0.3)
        #expect(try server.announce(server.record(key, seq: 5)).status == 201)
        let (response, seconds) = pending.wait()
        #expect(response?.status == 200 && response?.json["seq"] as? Int == 5 && seconds < 3)
    }

    /// Waking watchers follows the store's acceptance, not the announcer's answer: announcers that hang
    /// up before they are answered still wake them. (libmicrohttpd may drop a resumed connection whose
    /// client has gone without asking for its answer, so nothing that must follow an acceptance may
    /// wait for the answer to be made.) An announcement the server had not read when its client reset
    /// the connection is never stored, and its watcher rightly waits to the end.
    @Test func announcersThatHangUpStillWakeTheirWatchers() throws {
        let server = try TestServer()
        let keys = try (0..<20).map { _ in try PrivateKey.generate(.ed25519) }
        for key in keys { #expect(try server.announce(server.record(key, seq: 1)).status == 201) }
        let watchers = keys.map { watch(server, $0, seconds: 4, etag: "\"1\"") }
        Thread.sleep(forTimeInterval: 0.5)
        for key in keys {
            let body = server.record(key, seq: 2).json
            let request = Array("""
                PUT /v1/peers/\(key.permID.text) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
                Content-Length: \(body.count)\r\n\r\n
                """.utf8) + body
            let socket = try server.client.connect()
            #expect(request.withUnsafeBytes { send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } == request.count)
            // Gone at once, and abruptly (RST): nobody reads the answer.
            var linger = Foundation.linger(l_onoff: 1, l_linger: 0)
            setsockopt(socket, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Foundation.linger>.size))
            close(socket)
        }
        var stored = 0
        for (key, watcher) in zip(keys, watchers) {
            let (response, seconds) = watcher.wait()
            guard try server.get("/v1/peers/\(key.permID.text)").json["seq"] as? Int == 2 else { continue }
            stored += 1
            #expect(response?.status == 200 && response?.json["seq"] as? Int == 2, "\(String(describing: response?.status))")
            #expect(seconds < 3, "answered when the record was stored, not at the end of the wait")
        }
        #expect(stored > 0, "no announcement was read before its client reset the connection")
    }

    @Test func aReplayDoesNotWakeAndTheWaitEndsIn304Or404() throws {
        let server = try TestServer()
        let key = try PrivateKey.generate(.ed25519)
        #expect(try server.announce(server.record(key, seq: 2)).status == 201)
        let pending = watch(server, key, seconds: 2, etag: "\"2\"")
        Thread.sleep(forTimeInterval: 0.3)
        #expect(try server.announce(server.record(key, seq: 2)).status == 409)
        let (response, seconds) = pending.wait()
        #expect(response?.status == 304 && response?.header("ETag") == "\"2\"" && response?.body.isEmpty == true)
        #expect(seconds >= 1.9 && seconds < 4, "\(seconds)")

        let nobody = try PrivateKey.generate(.ed25519)
        let missing = watch(server, nobody, seconds: 1).wait()
        #expect(missing.response?.status == 404 && missing.response?.problemType == "not-found" && missing.seconds >= 0.9)
    }

    @Test func withoutAMatchTheAnswerIsImmediate() throws {
        let server = try TestServer()
        let key = try PrivateKey.generate(.ed25519)
        #expect(try server.announce(server.record(key, seq: 3)).status == 201)
        let plain = watch(server, key, seconds: 30).wait()
        #expect(plain.response?.status == 200 && plain.seconds < 1)
        let other = watch(server, key, seconds: 30, etag: "\"2\"").wait()
        #expect(other.response?.status == 200 && other.response?.json["seq"] as? Int == 3 && other.seconds < 1)
    }

    @Test func badWaitsAreRefused() throws {
        let server = try TestServer()
        let key = try PrivateKey.generate(.ed25519)
        for value in ["0", "301", "-1", "1.5", "abc", "+5", ""] {
            let response = try server.get("/v1/peers/\(key.permID.text)?wait=\(value)")
            #expect(response.status == 400 && response.problemType == "invalid-request", "wait=\(value)")
        }
        let head = try server.client.send("HEAD", "/v1/peers/\(key.permID.text)?wait=5")
        #expect(head.status == 400)
        let lookup = try server.client.send("POST", "/v1/peers/lookup?wait=5", body: Array(#"{"permids":["\#(key.permID.text)"]}"#.utf8))
        #expect(lookup.status == 200, "a batch lookup never waits")
    }

    @Test func waitingResolvesAreAGauge() throws {
        let server = try TestServer()
        let pending = watch(server, try PrivateKey.generate(.ed25519), seconds: 2)
        Thread.sleep(forTimeInterval: 0.5)
        #expect(try server.get("/metrics").text.contains("permid_waiting_resolves 1"))
        #expect(pending.wait().response?.status == 404)
        #expect(try server.get("/metrics").text.contains("permid_waiting_resolves 0"))
    }

    @Test func watchersAreBoundedPerSourceAndInAll() throws {
        let server = try TestServer(trustedProxies: ["127.0.0.1"], maxWatchers: 3, maxWatchersPerSource: 2)
        let keys = try (0..<4).map { _ in try PrivateKey.generate(.ed25519) }
        let first = watch(server, keys[0], seconds: 3, from: "198.51.100.1")
        let second = watch(server, keys[1], seconds: 3, from: "198.51.100.1")
        Thread.sleep(forTimeInterval: 0.3)
        let third = watch(server, keys[2], seconds: 3, from: "198.51.100.1").wait().response
        #expect(third?.status == 429 && third?.problemType == "rate-limited" && third?.header("Retry-After") != nil)
        let other = watch(server, keys[2], seconds: 3, from: "198.51.100.2")
        Thread.sleep(forTimeInterval: 0.3)
        let full = watch(server, keys[3], seconds: 3, from: "198.51.100.3").wait().response
        #expect(full?.status == 503 && full?.problemType == "service-unavailable")
        for pending in [first, second, other] { #expect(pending.wait().response?.status == 404) }
        #expect(watch(server, keys[3], seconds: 1, from: "198.51.100.3").wait().response?.status == 404, "ended watches free their places")
    }

    @Test func theConnectionTimeoutDoesNotCutAWatchShort() throws {
        let server = try TestServer(options: DaemonOptions(threads: 2, connectionTimeout: 1))
        let key = try PrivateKey.generate(.ed25519)
        #expect(try server.announce(server.record(key, seq: 1)).status == 201)
        let (response, seconds) = watch(server, key, seconds: 3, etag: "\"1\"").wait()
        #expect(response?.status == 304 && seconds >= 2.9, "\(String(describing: response?.status)) after \(seconds) s")
    }

    @Test func shutdownAnswersEveryWatcherFirst() throws {
        let server = try TestServer()
        let key = try PrivateKey.generate(.ed25519)
        #expect(try server.announce(server.record(key, seq: 1)).status == 201)
        let watchers = (0..<20).map { index in watch(server, key, seconds: 60, etag: index % 2 == 0 ? "\"1\"" : nil) }
        let nobody = watch(server, try PrivateKey.generate(.ed25519), seconds: 60)
        Thread.sleep(forTimeInterval: 0.5)
        let start = Date()
        server.server.shutdown(grace: .seconds(5))
        #expect(Date().timeIntervalSince(start) < 3, "waiting resolves do not hold shutdown for the grace period")
        for (index, pending) in watchers.enumerated() {
            #expect(pending.wait().response?.status == (index % 2 == 0 ? 304 : 200))
        }
        #expect(nobody.wait().response?.status == 404)
    }
}
