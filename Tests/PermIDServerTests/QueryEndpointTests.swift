import Foundation
import PermIDKit
import PermIDServer
import Testing

@Suite struct QueryEndpointTests {
    private func lookupBody(_ permIDs: [String]) -> [UInt8] {
        Array(try! JSONSerialization.data(withJSONObject: ["permids": permIDs]))
    }

    @Test func batchLookupKeepsFirstOccurrenceOrderAndListsMissing() throws {
        let server = try TestServer()
        let keys = try (0..<3).map { _ in try PrivateKey.generate(.ed25519) }
        let absent = try PrivateKey.generate(.ec(.p256))
        for key in keys { #expect(try server.announce(server.record(key, seq: 1)).status == 201) }
        let asked = [keys[2].permID.text, absent.permID.text, keys[0].permID.text, keys[2].permID.text]
        let response = try server.client.send("POST", "/v1/peers/lookup", body: lookupBody(asked))
        #expect(response.status == 200)
        let records = try #require(response.json["records"] as? [[String: Any]])
        #expect(records.map { $0["permid"] as? String } == [keys[2].permID.text, keys[0].permID.text])
        #expect(response.json["missing"] as? [String] == [absent.permID.text])
    }

    @Test func batchLookupLimitsAndErrors() throws {
        let server = try TestServer()
        let key = try PrivateKey.generate(.ed25519)
        let thousand = Array(repeating: key.permID.text, count: 1_000)
        #expect(try server.client.send("POST", "/v1/peers/lookup", body: lookupBody(thousand)).status == 200)
        let tooMany = try server.client.send("POST", "/v1/peers/lookup", body: lookupBody(thousand + [key.permID.text]))
        #expect(tooMany.status == 400 && tooMany.problemType == "invalid-request")
        let empty = try server.client.send("POST", "/v1/peers/lookup", body: lookupBody([]))
        #expect(empty.status == 400 && empty.problemType == "invalid-request")
        let invalid = try server.client.send("POST", "/v1/peers/lookup", body: lookupBody([key.permID.text, "AAAA"]))
        #expect(invalid.status == 400 && invalid.problemType == "invalid-permid")
        #expect((invalid.json["detail"] as? String)?.contains("permids[1]") == true)
        let first = try server.client.send("POST", "/v1/peers/lookup", body: lookupBody([ErrorResponseTests.rsaPermID, "A=="]))
        #expect((first.json["detail"] as? String)?.contains("permids[0]") == true, "the first invalid entry is named")
        let rsa = try server.client.send("POST", "/v1/peers/lookup", body: lookupBody([ErrorResponseTests.rsaPermID]))
        #expect(rsa.status == 400 && (rsa.json["detail"] as? String)?.contains("permids[0]") == true)
        for body in [#"{"permids":"x"}"#, #"{"permids":[1]}"#, #"{"other":[]}"#, #"[]"#, #"{"permids":[],"permids":[]}"#] {
            let response = try server.client.send("POST", "/v1/peers/lookup", body: Array(body.utf8))
            #expect(response.status == 400 && response.problemType == "malformed-json", "\(body)")
        }
        let notJSON = try server.client.send("POST", "/v1/peers/lookup", body: lookupBody([key.permID.text]), contentType: "text/plain")
        #expect(notJSON.status == 415)
        let huge = try server.client.send("POST", "/v1/peers/lookup", body: Array(repeating: 0x20, count: 128 * 1024 + 1))
        #expect(huge.status == 413 && huge.problemType == "body-too-large")
    }

    @Test func listingPaginatesOver2500RecordsAndFiltersByAddress() throws {
        let server = try TestServer()
        var records = [SignedRecord]()
        for index in 0..<2_500 {
            let endpoint = index % 5 == 0 ? "[2001:db8::77]:\(index + 1)" : "203.0.113.\(index % 250 + 1):\(index + 1)"
            records.append(server.record(try PrivateKey.generate(.ed25519), seq: 1, endpoints: [endpoint]))
        }
        _ = try server.store.announce(batch: records)
        var seen = Set<String>()
        var cursor: String?
        var pages = 0
        repeat {
            let path = "/v1/peers?limit=1000" + (cursor.map { "&cursor=\($0)" } ?? "")
            let page = try server.get(path)
            #expect(page.status == 200)
            for record in page.json["records"] as? [[String: Any]] ?? [] { seen.insert(record["permid"] as! String) }
            cursor = page.json["next_cursor"] as? String
            pages += 1
        } while cursor != nil && pages < 10
        #expect(pages == 3 && seen.count == 2_500)
        let firstPage = try server.get("/v1/peers")
        #expect((firstPage.json["records"] as? [Any])?.count == 100)

        let filtered = try server.get("/v1/peers?ip=2001:db8::77&limit=1000")
        #expect((filtered.json["records"] as? [Any])?.count == 500 && filtered.json["next_cursor"] is NSNull)
        let encoded = try server.get("/v1/peers?ip=2001%3Adb8%3A%3A77&limit=1")
        #expect((encoded.json["records"] as? [Any])?.count == 1 && encoded.json["next_cursor"] is String)
        for bad in ["limit=0", "limit=1001", "limit=x", "limit=1.5", "limit=+5", "limit=-1", "cursor=%%%", "cursor=A", "ip=1.2.3", "ip=x"] {
            let response = try server.get("/v1/peers?\(bad)")
            #expect(response.status == 400 && response.problemType == "invalid-request", "\(bad)")
        }
    }

    @Test func whoamiBelievesForwardingHeadersOnlyFromTrustedProxies() throws {
        let untrusting = try TestServer()
        let spoofed = try untrusting.get("/v1/whoami", headers: [("X-Forwarded-For", "203.0.113.9"), ("Forwarded", "for=198.51.100.1")])
        #expect(spoofed.json["ip"] as? String == "127.0.0.1")
        #expect((spoofed.json["port"] as? Int ?? 0) > 0)
        #expect(spoofed.json["server_time"] as? Int == Int(TestServer.startTime))

        let proxied = try TestServer(trustedProxies: ["127.0.0.0/8"])
        #expect(try proxied.get("/v1/whoami", headers: [("X-Forwarded-For", "198.51.100.1, 203.0.113.9")]).json["ip"] as? String == "203.0.113.9")
        let passedThrough = try proxied.get("/v1/whoami", headers: [("Forwarded", "for=198.51.100.1"), ("X-Forwarded-For", "203.0.113.7")])
        #expect(passedThrough.json["ip"] as? String == "203.0.113.7", "a client's Forwarded header is ignored where the proxy sets X-Forwarded-For")
        #expect(try proxied.get("/v1/whoami", headers: [("X-Forwarded-For", "127.0.0.5, 127.0.0.1")]).json["ip"] as? String == "127.0.0.5")
        #expect(try proxied.get("/v1/whoami", headers: [("X-Forwarded-For", "garbage")]).json["ip"] as? String == "127.0.0.1")
        let twoLines = try proxied.get("/v1/whoami", headers: [("X-Forwarded-For", "198.51.100.66"), ("X-Forwarded-For", "203.0.113.9")])
        #expect(twoLines.json["ip"] as? String == "203.0.113.9", "a forged first line does not hide the proxy's own line")

        let forwardedProxy = try TestServer(trustedProxies: ["127.0.0.0/8"], proxyHeader: .forwarded)
        let forwarded = try forwardedProxy.get("/v1/whoami", headers: [("Forwarded", "for=198.51.100.1, for=\"[2001:db8::9]:4711\"")])
        #expect(forwarded.json["ip"] as? String == "2001:db8::9" && forwarded.json["port"] as? Int == 4711)
        let spoofedFor = try forwardedProxy.get("/v1/whoami", headers: [("X-Forwarded-For", "203.0.113.9")])
        #expect(spoofedFor.json["ip"] as? String == "127.0.0.1", "X-Forwarded-For is ignored where the proxy sets Forwarded")
        let hidden = try forwardedProxy.get("/v1/whoami", headers: [("Forwarded", "for=198.51.100.66, for=unknown, for=127.0.0.9")])
        #expect(hidden.json["ip"] as? String == "127.0.0.9", "the walk stops at a hop that is not an address")

        let key = try PrivateKey.generate(.ed25519)
        let behindProxy = try proxied.client.send(
            "PUT", "/v1/peers/\(key.permID.text)", headers: [("X-Forwarded-For", "203.0.113.9")],
            body: proxied.record(key, seq: 1, endpoints: ["203.0.113.9:6881"]).json)
        #expect(behindProxy.status == 201)
        let spoofedAnnounce = try untrusting.client.send(
            "PUT", "/v1/peers/\(key.permID.text)", headers: [("X-Forwarded-For", "203.0.113.9")],
            body: untrusting.record(key, seq: 1, endpoints: ["203.0.113.9:6881"]).json)
        #expect(spoofedAnnounce.status == 403 && spoofedAnnounce.problemType == "endpoint-not-source")
    }

    @Test func statsHealthMetricsAndSpec() throws {
        let server = try TestServer()
        let key = try PrivateKey.generate(.ed25519)
        _ = try server.announce(server.record(key, seq: 1))
        _ = try server.announce(server.record(key, seq: 1))
        _ = try server.put("/v1/peers/\(key.permID.text)", Array("{".utf8))
        let other = try PrivateKey.generate(.ed25519)
        _ = try server.announce(server.record(other, seq: 1, endpoints: []))
        let stats = try server.get("/v1/stats").json
        #expect(stats["records"] as? Int == 2 && stats["live"] as? Int == 2 && stats["withdrawn"] as? Int == 1)
        let announcements = try #require(stats["announcements"] as? [String: Any])
        #expect(announcements["accepted"] as? Int == 2)
        #expect(announcements["rejected"] as? [String: Int] == ["stale-seq": 1, "malformed-json": 1])

        #expect(try server.get("/healthz").json["status"] as? String == "ok")
        let metrics = try server.get("/metrics")
        #expect(metrics.status == 200)
        for name in ["permid_http_requests_total", "permid_http_request_duration_seconds_bucket", "permid_announcements_total",
                     "permid_records_live 2", "permid_database_bytes", "permid_build_info"] {
            #expect(metrics.text.contains(name), "\(name)")
        }
        let spec = try server.get("/openapi.yaml")
        let file = try String(contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("openapi.yaml"), encoding: .utf8)
        #expect(spec.status == 200 && spec.text == file && spec.header("Content-Type") == "application/yaml")
        #expect(try server.client.send("HEAD", "/healthz").body.isEmpty)
    }

    @Test func healthReports503WhenTheStoreIsGone() throws {
        let server = try TestServer()
        try FileManager.default.removeItem(atPath: server.directory)
        server.store.close()
        let key = try PrivateKey.generate(.ed25519)
        let announce = try server.announce(server.record(key, seq: 1))
        #expect(announce.status == 503 && announce.problemType == "service-unavailable")
    }

    @Test func readinessReportsWritesFailingWhileLivenessHolds() throws {
        let server = try TestServer()
        let ready = try server.get("/readyz")
        #expect(ready.status == 200 && ready.text == #"{"status":"ready"}"# && ready.header("Cache-Control") == "no-store")
        #expect(try server.client.send("HEAD", "/readyz").status == 200)
        // Writes stop (as on a full disk, a read-only file or a database that is down): reads go on.
        server.store.stopWrites()
        Thread.sleep(forTimeInterval: 1.1)
        let notReady = try server.get("/readyz")
        #expect(notReady.status == 503 && notReady.problemType == "service-unavailable", "\(notReady.text)")
        #expect(try server.get("/healthz").status == 200, "liveness is only about answering")
        #expect(try server.client.send("POST", "/readyz", body: []).status == 405)
    }

    @Test func gracefulShutdownFinishesRequestsInFlight() throws {
        let server = try TestServer()
        let keys = try (0..<32).map { _ in try PrivateKey.generate(.ed25519) }
        let statuses = ConcurrentResults<(key: Int, status: Int)>()
        let group = DispatchGroup()
        for (index, key) in keys.enumerated() {
            DispatchQueue.global().async(group: group) {
                statuses.append((index, (try? server.announce(server.record(key, seq: 1)).status) ?? -1))
            }
        }
        Thread.sleep(forTimeInterval: 0.005)
        server.server.shutdown(grace: .seconds(5))
        group.wait()
        // A request that arrived once writes had stopped is answered 503 (shutting down): a complete,
        // retryable answer; one cut off gets no answer (-1). Nothing answered 201 is lost.
        let answered = statuses.values.filter { $0.status != -1 }
        #expect(answered.allSatisfy { $0.status == 201 || $0.status == 503 }, "every answer is complete: \(answered.map(\.status))")
        for (index, _) in answered.filter({ $0.status == 201 }) {
            #expect(try server.store.record(for: keys[index].permID.bytes, now: server.now)?.seq == 1, "acknowledged, so stored")
        }
        #expect(throws: (any Error).self) { try server.get("/healthz") }
    }
}
