import Foundation
import PermIDKit
@testable import PermIDServer
import Testing

/// Every error of PROTOCOL-v1 §5 gets its status and problem type, and changes nothing stored.
@Suite struct ErrorResponseTests {
    static let rsaPermID = "MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDGWZYNZH8FIhgMI6_jFD2Hv3-q4uQIaTMw_CgmCoMBQwsBRh5cdEFUBcm01OYq-3XsQcrofvhdHdl5CkPz7eqjSVxfdo2pwqTgdMDy2TAocG5dNAJmI8PyfkikUYcRlxEHJrl9JrnrUv9zhfqDfRGdS0SNnTmXUiB81j9e31nZ2QIDAQAB"
    static let compressedP256 = "MDkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDIgADfd0NB7riTO09S4tMQeBBNiZn3zmwU_WjZFyUwyrpIEw"
    static let uncompressedP256 = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEfd0NB7riTO09S4tMQeBBNiZn3zmwU_WjZFyUwyrpIEwbifhEd1i-NyPsHf8JhQBZMtcnN1n-fAN5b1poHffe6w"

    /// A server holding one record for `key`; `check` runs a bad request and asserts nothing changed.
    struct Fixture {
        let server: TestServer
        let key: PrivateKey
        let stored: SignedRecord
        var path: String { "/v1/peers/\(key.permID.text)" }

        /// Under `any`, the stored endpoint is in the AS112 block: globally reachable by the IANA
        /// registries (documentation ranges are not), and nothing here connects to it.
        init(policy: EndpointPolicy = .source) throws {
            server = try TestServer(policy: policy)
            key = try PrivateKey.generate(.ed25519)
            stored = server.record(key, seq: 10, endpoints: [policy == .source ? "127.0.0.1:6881" : "192.31.196.1:6881"])
            #expect(try server.announce(stored).status == 201)
        }

        /// Asserts the response's status and problem type, and that the stored record is unchanged.
        func expect(_ response: RawHTTPClient.Response, _ status: Int, _ type: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
            #expect(response.status == status, "\(response.text)", sourceLocation: sourceLocation)
            #expect(response.problemType == type, "\(response.text)", sourceLocation: sourceLocation)
            #expect(response.header("Content-Type") == "application/problem+json", sourceLocation: sourceLocation)
            #expect(response.json["title"] is String && response.json["detail"] is String && response.json["status"] as? Int == status,
                    sourceLocation: sourceLocation)
            let current = try server.get(path)
            #expect(current.body == stored.json, "stored record changed", sourceLocation: sourceLocation)
            #expect(try server.get("/v1/stats").json["records"] as? Int == 1, sourceLocation: sourceLocation)
        }

        /// The stored record's JSON members with changes applied, re-serialised (signature not updated).
        func body(_ change: (inout [String: Any]) -> Void) -> [UInt8] {
            var object = try! JSONSerialization.jsonObject(with: Data(server.record(key, seq: 11).json)) as! [String: Any]
            change(&object)
            return Array(try! JSONSerialization.data(withJSONObject: object))
        }
    }

    @Test func shapeErrorsAreMalformedJSON() throws {
        let f = try Fixture()
        let valid = String(decoding: f.server.record(f.key, seq: 11).json, as: UTF8.self)
        let cases: [String] = [
            "", "not json", "[]", "{", valid + "x",
            valid.replacingOccurrences(of: "{\"permid\"", with: "{\"seq\":11,\"permid\""),
            valid.replacingOccurrences(of: "\"seq\":11", with: "\"seq\":11.0"),
            valid.replacingOccurrences(of: "\"seq\":11", with: "\"seq\":1.1e1"),
            valid.replacingOccurrences(of: "\"seq\":11", with: "\"seq\":\"11\""),
            valid.replacingOccurrences(of: "\"seq\":11", with: "\"seq\":0"),
            valid.replacingOccurrences(of: "\"seq\":11", with: "\"seq\":-11"),
            valid.replacingOccurrences(of: "\"seq\":11", with: "\"seq\":9007199254740992"),
            valid.replacingOccurrences(of: "\"seq\":11", with: "\"seq\":99999999999999999999999"),
            valid.replacingOccurrences(of: "\"seq\":11", with: "\"seq\":11,\"extra\":true"),
            valid.replacingOccurrences(of: "\"sig_alg\":\"ed25519\",", with: ""),
            valid.replacingOccurrences(of: "\"endpoints\":[", with: "\"endpoints\":[[],"),
            valid.replacingOccurrences(of: "\"port\":6881", with: "\"port\":6881,\"zone\":1"),
            valid.replacingOccurrences(of: "\"port\":6881", with: "\"port\":\"6881\""),
            valid.replacingOccurrences(of: "\"signature\":\"", with: "\"signature\":null,\"x\":\""),
        ]
        for body in cases {
            try f.expect(try f.server.put(f.path, Array(body.utf8)), 400, "malformed-json")
        }
        try f.expect(try f.server.put(f.path, [0x7B, 0xFF, 0x7D]), 400, "malformed-json")
        let deep = String(repeating: "[", count: 2000)
        try f.expect(try f.server.put(f.path, Array(deep.utf8)), 400, "malformed-json")
    }

    @Test func permIDErrors() throws {
        let f = try Fixture()
        let other = try PrivateKey.generate(.ed25519)
        let body = f.server.record(other, seq: 1).json
        try f.expect(try f.server.put("/v1/peers/not%20base64", body), 400, "invalid-permid")
        try f.expect(try f.server.put("/v1/peers/\(f.key.permID.text)=", body), 400, "invalid-permid")
        try f.expect(try f.server.put("/v1/peers/AAAA", body), 400, "invalid-permid")
        try f.expect(try f.server.put("/v1/peers/\(Self.rsaPermID)", body), 400, "unsupported-key")
        let nonCanonical = try f.server.put("/v1/peers/\(Self.compressedP256)", body)
        try f.expect(nonCanonical, 400, "non-canonical-permid")
        #expect(nonCanonical.json["canonical_permid"] as? String == Self.uncompressedP256)
        try f.expect(try f.server.put(f.path, body), 400, "permid-mismatch")
        try f.expect(try f.server.get("/v1/peers/\(Self.rsaPermID)"), 400, "unsupported-key")
        try f.expect(try f.server.get("/v1/peers/AAAA"), 400, "invalid-permid")
        try f.expect(try f.server.get("/v1/peers/\(other.permID.text)"), 404, "not-found")
    }

    @Test func schemeSignatureAndEndpointErrors() throws {
        let f = try Fixture()
        try f.expect(try f.server.put(f.path, f.body { $0["sig_alg"] = "ecdsa-sha256" }), 400, "unsupported-scheme")
        try f.expect(try f.server.put(f.path, f.body { $0["sig_alg"] = "rsa" }), 400, "unsupported-scheme")
        try f.expect(try f.server.put(f.path, f.body { $0["signature"] = "AAAA" }), 400, "invalid-signature")
        try f.expect(try f.server.put(f.path, f.body { $0["signature"] = ($0["signature"] as! String) + "=" }), 400, "invalid-signature")
        try f.expect(try f.server.put(f.path, f.body { $0["signature"] = ($0["signature"] as! String) + "AA" }), 400, "invalid-signature")
        let badEndpoints: [[[String: Any]]] = [
            [["ip": "0.0.0.0", "port": 1]], [["ip": "::", "port": 1]], [["ip": "224.0.0.1", "port": 1]],
            [["ip": "ff02::1", "port": 1]], [["ip": "255.255.255.255", "port": 1]], [["ip": "::ffff:127.0.0.1", "port": 1]],
            [["ip": "127.0.0.1", "port": 0]], [["ip": "127.0.0.1", "port": 65536]], [["ip": "127.0.0.1", "port": -1]],
            [["ip": "localhost", "port": 1]], [["ip": "127.0.0.01", "port": 1]], [["ip": "fe80::1%lo", "port": 1]],
            [["ip": "127.0.0.1", "port": 1], ["ip": "127.0.0.1", "port": 1]],
            (1...9).map { ["ip": "127.0.0.1", "port": $0] },
        ]
        for endpoints in badEndpoints {
            try f.expect(try f.server.put(f.path, f.body { $0["endpoints"] = endpoints }), 400, "invalid-endpoint")
        }
    }

    @Test func freshnessErrorsInProtocolOrder() throws {
        let f = try Fixture()
        let now = f.server.now
        func signed(issued: UInt64, expires: UInt64) -> [UInt8] {
            try! SignedRecord.sign(with: f.key, seq: 11, issuedAt: issued, expiresAt: expires, endpoints: [Endpoint("127.0.0.1:1")!]).json
        }
        try f.expect(try f.server.put(f.path, signed(issued: now - 301, expires: now + 100)), 400, "clock-skew")
        try f.expect(try f.server.put(f.path, signed(issued: now + 301, expires: now + 1000)), 400, "clock-skew")
        try f.expect(try f.server.put(f.path, signed(issued: now, expires: now)), 400, "invalid-validity")
        try f.expect(try f.server.put(f.path, signed(issued: now + 10, expires: now + 5)), 400, "invalid-validity")
        try f.expect(try f.server.put(f.path, signed(issued: now, expires: now + 86_401)), 400, "ttl-too-long")
        try f.expect(try f.server.put(f.path, signed(issued: now - 300, expires: now)), 400, "expired")
        #expect(try f.server.put(f.path, signed(issued: now - 300, expires: now + 1)).status == 200, "the boundaries are inclusive")
    }

    @Test func signatureAndPolicyErrors() throws {
        let f = try Fixture()
        try f.expect(try f.server.put(f.path, f.body { $0["seq"] = 12 }), 403, "bad-signature")
        let wrongKey = try PrivateKey.generate(.ed25519)
        let forged = f.server.record(wrongKey, seq: 11)
        try f.expect(try f.server.put(f.path, f.body { $0["signature"] = Base64URL.encode(forged.signature) }), 403, "bad-signature")
        try f.expect(try f.server.announce(f.server.record(f.key, seq: 11, endpoints: ["203.0.113.5:1"])), 403, "endpoint-not-source")
        try f.expect(try f.server.announce(f.server.record(f.key, seq: 5)), 409, "stale-seq")
    }

    @Test func anyPolicyRefusesPrivateUnlessAllowed() throws {
        let f = try Fixture(policy: .any(allowPrivate: false))
        for address in ["10.1.2.3:1", "192.168.0.1:1", "172.16.0.1:1", "169.254.0.1:1", "[fe80::1]:1", "[fd00::1]:1", "[::1]:1", "127.0.0.2:1",
                        "100.64.0.1:1", "203.0.113.5:1", "[64:ff9b::a00:5]:22", "[2002:a00:5::1]:1"] {
            try f.expect(try f.server.announce(f.server.record(f.key, seq: 11, endpoints: [address])), 403, "endpoint-not-allowed")
        }
        #expect(try f.server.announce(f.server.record(f.key, seq: 11, endpoints: ["192.31.196.1:1", "[2001:4:112::1]:2"])).status == 200)
        let allowing = try TestServer(policy: .any(allowPrivate: true))
        #expect(try allowing.announce(allowing.record(f.key, seq: 1, endpoints: ["10.1.2.3:1"])).status == 201)
    }

    /// A request breaking several rules gets the first in the protocol's order.
    @Test func firstFailingRuleWins() throws {
        let f = try Fixture()
        try f.expect(try f.server.put("/v1/peers/AAAA", f.body { $0["seq"] = "x" }), 400, "malformed-json")
        try f.expect(try f.server.put("/v1/peers/AAAA", f.body { $0["sig_alg"] = "rsa" }), 400, "invalid-permid")
        try f.expect(try f.server.put(f.path, f.body { $0["sig_alg"] = "rsa"; $0["signature"] = "A" }), 400, "unsupported-scheme")
        try f.expect(try f.server.put(f.path, f.body { $0["signature"] = "AAAA"; $0["endpoints"] = [["ip": "0.0.0.0", "port": 1]] }), 400, "invalid-signature")
        try f.expect(try f.server.put(f.path, f.body { $0["endpoints"] = [["ip": "0.0.0.0", "port": 1]]; $0["issued_at"] = 1 }), 400, "invalid-endpoint")
        try f.expect(try f.server.put(f.path, f.body { $0["issued_at"] = 1; $0["seq"] = 1 }), 400, "clock-skew")
        try f.expect(try f.server.put(f.path, f.body { $0["seq"] = 1 }), 403, "bad-signature")
        try f.expect(try f.server.announce(f.server.record(f.key, seq: 1, endpoints: ["203.0.113.5:1"])), 403, "endpoint-not-source")
    }

    @Test func transportErrors() throws {
        let f = try Fixture()
        let record = f.server.record(f.key, seq: 11).json
        try f.expect(try f.server.put(f.path, record, contentType: "text/plain"), 415, "unsupported-media-type")
        try f.expect(try f.server.put(f.path, record, contentType: nil), 415, "unsupported-media-type")
        try f.expect(try f.server.put(f.path, record, contentType: "application/jsonx"), 415, "unsupported-media-type")
        for refused in ["application/json+x", "application /json", "applicationXjson", "\u{00A0}application/json", "text/json; x=application/json"] {
            #expect(!DirectoryService.namesJSON(refused), "\(refused)")
        }
        for accepted in ["application/json", "Application/JSON", "application/json; charset=utf-8", " application/json\t;x", "APPLICATION/JSON;"] {
            #expect(DirectoryService.namesJSON(accepted), "\(accepted)")
        }
        let big = Array(repeating: UInt8(ascii: " "), count: 32 * 1024 + 1)
        try f.expect(try f.server.put(f.path, big), 413, "body-too-large")
        #expect(throws: (any Error).self, "a chunked body past the limit: the connection is closed at once") {
            try f.server.client.send("PUT", f.path, body: big, chunked: true)
        }
        #expect(try f.server.client.send("PUT", f.path, body: Array(repeating: UInt8(ascii: " "), count: 32 * 1024)).status == 400)
        try f.expect(try f.server.get("/v2/peers"), 404, "not-found")
        try f.expect(try f.server.get("/v1/peers/\(f.key.permID.text)/extra"), 404, "not-found")
        try f.expect(try f.server.get("/v1/peers/../stats"), 404, "not-found")
        let deleted = try f.server.client.send("DELETE", f.path)
        try f.expect(deleted, 405, "method-not-allowed")
        #expect(deleted.header("Allow") == "GET, HEAD, PUT")
        #expect(try f.server.client.send("GET", "/v1/peers/lookup").header("Allow") == "POST")
        #expect(try f.server.client.send("POST", "/v1/stats", body: []).status == 405)
        #expect(try f.server.put(f.path, record, contentType: "Application/JSON; charset=utf-8").status == 200)
    }

    @Test func rateLimitsAnswer429WithRetryAfter() throws {
        let server = try TestServer(rateLimits: RateLimits(sourceRate: 0.01, sourceBurst: 3, permIDRate: 1, permIDBurst: 100))
        for _ in 0..<3 { #expect(try server.get("/v1/whoami").status == 200) }
        let limited = try server.get("/v1/whoami")
        #expect(limited.status == 429 && limited.problemType == "rate-limited")
        #expect(Int(limited.header("Retry-After") ?? "") ?? 0 >= 1)
        #expect(try server.get("/healthz").status == 200, "operational endpoints are not limited")

        let perPermID = try TestServer(rateLimits: RateLimits(sourceRate: 100, sourceBurst: 100, permIDRate: 0.01, permIDBurst: 2))
        let key = try PrivateKey.generate(.ed25519)
        let first = perPermID.record(key, seq: 1)
        #expect(try perPermID.announce(first).status == 201)
        for _ in 0..<3 {
            #expect(try perPermID.announce(first).status == 409, "replays do not spend the owner's allowance")
        }
        #expect(try perPermID.announce(perPermID.record(key, seq: 2)).status == 200)
        let third = try perPermID.announce(perPermID.record(key, seq: 3))
        #expect(third.status == 429 && third.problemType == "rate-limited")
        #expect(try perPermID.get("/v1/peers/\(key.permID.text)").json["seq"] as? Int == 2)
    }
}
