import Foundation
import PermIDKit
import PermIDServer
import Testing

/// What anyone on the internet may send: each gets its documented status (problem+json wherever
/// permidd itself answers), the server keeps serving, and nothing stored changes.
@Suite struct HostileInputTests {
    /// A server with one stored record, and a check that it is unchanged and the server still answers.
    struct Fixture {
        let server: TestServer
        let key: PrivateKey
        let stored: SignedRecord
        var path: String { "/v1/peers/\(key.permID.text)" }

        init() throws {
            server = try TestServer()
            key = try PrivateKey.generate(.ed25519)
            stored = server.record(key, seq: 5)
            #expect(try server.announce(stored).status == 201)
        }

        func unchanged(sourceLocation: SourceLocation = #_sourceLocation) throws {
            #expect(try server.get(path).body == stored.json, "stored record changed", sourceLocation: sourceLocation)
            #expect(try server.get("/v1/stats").json["records"] as? Int == 1, sourceLocation: sourceLocation)
        }

        func raw(_ text: String) throws -> RawHTTPClient.Response { try server.client.exchange(Array(text.utf8)) }
    }

    @Test func oversizedHeadersAndURLsAreRefusedByTheHTTPLayer() throws {
        let f = try Fixture()
        let header = try f.raw("GET /v1/whoami HTTP/1.1\r\nHost: x\r\nX-Big: \(String(repeating: "a", count: 70_000))\r\nConnection: close\r\n\r\n")
        #expect(header.status == 431)
        let url = try f.raw("GET /v1/peers/\(String(repeating: "A", count: 100_000)) HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        #expect(url.status == 414)
        let many = (0..<2_000).map { "X-H\($0): v\r\n" }.joined()
        #expect(try f.raw("GET /v1/whoami HTTP/1.1\r\nHost: x\r\n\(many)Connection: close\r\n\r\n").status == 431)
        try f.unchanged()
    }

    @Test func bodiesPastTheLimitAreRefusedWhileReading() throws {
        let f = try Fixture()
        // A chunked body past the limit ends its connection at once: nothing more of it is read.
        #expect(throws: (any Error).self) {
            try f.server.client.send("PUT", f.path, body: Array(repeating: 0x7B, count: 1_000_000), chunked: true)
        }
        let declared = try f.raw("PUT \(f.path) HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 999999999\r\nConnection: close\r\n\r\n{")
        #expect(declared.status == 413 && declared.problemType == "body-too-large")
        #expect(throws: (any Error).self) {
            try f.server.client.send("POST", "/v1/peers/lookup", body: Array(repeating: 0x20, count: 200_000), chunked: true)
        }
        let declaredLookup = try f.server.client.send("POST", "/v1/peers/lookup", body: Array(repeating: 0x20, count: 200_000))
        #expect(declaredLookup.status == 413 && declaredLookup.problemType == "body-too-large")
        try f.unchanged()
    }

    @Test func malformedBodiesAreMalformedJSON() throws {
        let f = try Fixture()
        let valid = f.server.record(f.key, seq: 6).json
        var nul = valid
        nul.insert(0, at: 20)
        let bodies: [[UInt8]] = [
            [0xFF, 0xFE, 0x7B, 0x7D], [0x7B, 0x22, 0xC3, 0x28, 0x22, 0x3A, 0x31, 0x7D], nul,
            Array(String(repeating: "[", count: 4_000).utf8), Array(String(repeating: "{\"a\":", count: 800).utf8),
            Array(("[" + Array(repeating: "1", count: 2_000).joined(separator: ",") + "]").utf8),
            Array(String(decoding: valid, as: UTF8.self).replacingOccurrences(of: "\"seq\":6", with: "\"seq\":1" + String(repeating: "0", count: 400)).utf8),
            Array(String(decoding: valid, as: UTF8.self).replacingOccurrences(of: "\"seq\":6", with: "\"seq\":6e999999999").utf8),
            Array(String(decoding: valid, as: UTF8.self).replacingOccurrences(of: "\"port\":6881", with: "\"port\":1" + String(repeating: "0", count: 300)).utf8),
        ]
        for body in bodies {
            let response = try f.server.put(f.path, body)
            #expect(response.status == 400, "\(response.text)")
            #expect(["malformed-json", "invalid-endpoint"].contains(response.problemType), "\(response.text)")
        }
        let endpoints = "{\"ip\":\"203.0.113.1\",\"port\":1},"
        let many = String(decoding: valid, as: UTF8.self).replacingOccurrences(of: "\"endpoints\":[", with: "\"endpoints\":[" + String(repeating: endpoints, count: 100))
        let tooMany = try f.server.put(f.path, Array(many.utf8))
        #expect(tooMany.status == 400 && tooMany.problemType == "invalid-endpoint")
        let tenThousand = "{\"permids\":[" + Array(repeating: "\"\(f.key.permID.text)\"", count: 10_000).joined(separator: ",") + "]}"
        let lookup = try f.server.client.send("POST", "/v1/peers/lookup", body: Array(tenThousand.utf8))
        #expect(lookup.status == 413 || (lookup.status == 400 && lookup.problemType == "invalid-request"), "\(lookup.status)")
        let shortIDs = "{\"permids\":[" + Array(repeating: "\"AA\"", count: 10_000).joined(separator: ",") + "]}"
        let counted = try f.server.client.send("POST", "/v1/peers/lookup", body: Array(shortIDs.utf8))
        #expect(counted.status == 400 && counted.problemType == "invalid-request")
        try f.unchanged()
    }

    @Test func everyMethodOnEveryRoute() throws {
        let f = try Fixture()
        let routes = [f.path, "/v1/peers/lookup", "/v1/peers", "/v1/whoami", "/v1/stats", "/healthz", "/metrics", "/openapi.yaml"]
        for method in ["GET", "HEAD", "PUT", "POST", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT", "BREW"] {
            for route in routes {
                let response = try f.server.client.send(method, route, body: method == "GET" || method == "HEAD" ? nil : Array("{}".utf8))
                #expect([200, 400, 405].contains(response.status), "\(method) \(route): \(response.status)")
                if response.status == 405 {
                    #expect(response.header("Allow") != nil, "\(method) \(route)")
                    #expect(method == "HEAD" || response.problemType == "method-not-allowed", "\(method) \(route)")
                }
            }
        }
        try f.unchanged()
    }

    @Test func pathTricksInThePermID() throws {
        let f = try Fixture()
        let text = f.key.permID.text
        let percentEncoded = "%" + String(format: "%02X", Int(text.utf8.first!)) + text.dropFirst()
        let cases: [(String, Int, String)] = [
            ("/v1/peers/\(percentEncoded)", 400, "invalid-permid"),
            ("/v1/peers/\(text)%00", 400, "invalid-permid"),
            ("/v1/peers/..%2Fstats", 400, "invalid-permid"),
            ("/v1/peers/../stats", 404, "not-found"),
            ("/v1/peers/./\(text)", 404, "not-found"),
            ("/v1/peers//\(text)", 404, "not-found"),
            ("/v1//peers/\(text)", 404, "not-found"),
            ("/v1/peers/\(text)/", 404, "not-found"),
            ("/V1/peers/\(text)", 404, "not-found"),
            ("/v1/peers/\(text)?\(String(repeating: "x=1&", count: 200))", 200, ""),
        ]
        for (path, status, type) in cases {
            let response = try f.server.get(path)
            #expect(response.status == status, "\(path.prefix(80)): \(response.text.prefix(200))")
            if !type.isEmpty { #expect(response.problemType == type, "\(path.prefix(80))") }
        }
        // libmicrohttpd hands the path over as a C string: a raw NUL in the request line ends it, so this
        // is answered for the PermID before the NUL (documented in docs/protocol.md).
        let nul = try f.raw("GET /v1/peers/\(text)\u{0}x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        #expect(nul.status == 200 && nul.body == f.stored.json)
        try f.unchanged()
    }

    @Test func garbageOnTheWireNeverStopsTheServer() throws {
        let f = try Fixture()
        for junk in ["GARBAGE\r\n\r\n", "\u{0}\u{1}\u{2}\r\n\r\n", "GET / HTTP/9.9\r\n\r\n", "GET /v1/whoami HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
                     "PUT /v1/peers/x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nZZZ\r\n"] {
            _ = try? f.raw(junk)
        }
        try f.unchanged()
    }
}
