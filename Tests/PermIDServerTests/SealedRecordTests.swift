import Foundation
import PermIDKit
import PermIDServer
import Testing

/// Sealed records (FRIENDS-v1 part B) through the real server: served, looked up and listed like any
/// record but never by address, one seq sequence with open records, `invalid-sealed` in the protocol's
/// order, and a refused body changes nothing.
@Suite struct SealedRecordTests {
    /// A sealed record signed by `key`, issued now, with `count` boxes of `length` bytes.
    private func sealed(_ server: TestServer, _ key: PrivateKey, seq: UInt64, count: Int = 8, length: Int = 208, ttl: UInt64 = 3600) -> SignedRecord {
        let boxes = (0..<count).map { index in (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ index) } }
        return try! SignedRecord.sign(with: key, seq: seq, issuedAt: server.now, expiresAt: server.now + ttl, content: .sealed(boxes))
    }

    @Test(arguments: [KeyType.ed25519, .ec(.p256)])
    func sealedRecordsAreServedLookedUpAndListedButNeverByAddress(type: KeyType) throws {
        let server = try TestServer()
        let key = try PrivateKey.generate(type)
        let record = sealed(server, key, seq: 3)
        let put = try server.announce(record)
        #expect(put.status == 201 && put.body == record.json, "\(put.text)")
        let path = "/v1/peers/\(key.permID.text)"
        let get = try server.get(path)
        #expect(get.status == 200 && get.body == record.json && get.header("ETag") == "\"3\"")
        #expect(try RecordValidator().validateRecord(json: get.body, now: server.now, freshness: .resolving(expected: key.permID)) == record)
        #expect(try server.get(path, headers: [("If-None-Match", "\"3\"")]).status == 304)

        let neighbour = try PrivateKey.generate(.ed25519)
        #expect(try server.announce(server.record(neighbour, seq: 1)).status == 201)
        let lookup = try server.client.send("POST", "/v1/peers/lookup", body: Array("{\"permids\":[\"\(key.permID.text)\"]}".utf8))
        #expect(lookup.status == 200 && lookup.text.contains(String(decoding: record.json, as: UTF8.self)))
        let listing = try server.get("/v1/peers?limit=10")
        #expect(listing.text.contains(String(decoding: record.json, as: UTF8.self)))
        let byAddress = try server.get("/v1/peers?ip=127.0.0.1")
        #expect(byAddress.status == 200 && byAddress.text.contains(neighbour.permID.text) && !byAddress.text.contains(key.permID.text))
    }

    /// The endpoint policy cannot apply (the directory cannot read the endpoints): a sealed record is
    /// accepted under `source` from any address, where an open one for another address is refused.
    @Test func theEndpointPolicyDoesNotApply() throws {
        let server = try TestServer(policy: .source)
        let key = try PrivateKey.generate(.ed25519)
        #expect(try server.announce(server.record(key, seq: 1, endpoints: ["203.0.113.5:1"])).problemType == "endpoint-not-source")
        #expect(try server.announce(sealed(server, key, seq: 1)).status == 201)
    }

    @Test func openAndSealedRecordsShareOneSeqSequence() throws {
        let server = try TestServer()
        let key = try PrivateKey.generate(.ed25519)
        #expect(try server.announce(sealed(server, key, seq: 5)).status == 201)
        let sameSeq = try server.announce(server.record(key, seq: 5))
        #expect(sameSeq.status == 409 && sameSeq.json["stored_seq"] as? Int == 5)
        #expect(try server.announce(server.record(key, seq: 6)).status == 200)
        let olderSealed = try server.announce(sealed(server, key, seq: 6))
        #expect(olderSealed.status == 409 && olderSealed.json["stored_seq"] as? Int == 6)
        #expect(try server.announce(sealed(server, key, seq: 7)).status == 200)
        let withdrawal = server.record(key, seq: 8, endpoints: [])
        #expect(try server.announce(withdrawal).status == 200)
        #expect(try server.get("/v1/peers/\(key.permID.text)").body == withdrawal.json)
    }

    /// Sixty-four boxes of a P-384 friend's length (273 bytes) fit the 32 KiB body; sixty-four boxes of
    /// the largest size the message allows do not (43 KiB of base64url), and get 413.
    @Test func theLargestRealRecordFitsTheBodyLimit() throws {
        let server = try TestServer()
        let key = try PrivateKey.generate(.ed25519)
        let largest = sealed(server, key, seq: 1, count: 64, length: 273)
        #expect(largest.json.count <= ProtocolConstants.announcementBodyLimit)
        #expect(try server.announce(largest).status == 201)
        let tooLarge = try server.announce(sealed(server, key, seq: 2, count: 64, length: 512))
        #expect(tooLarge.status == 413 && tooLarge.problemType == "body-too-large")
    }

    /// Each defect of part B, with its problem type, and the stored record untouched.
    @Test func badBoxesAreRefusedInTheProtocolsOrderAndChangeNothing() throws {
        let server = try TestServer()
        let key = try PrivateKey.generate(.ed25519)
        let stored = sealed(server, key, seq: 1)
        #expect(try server.announce(stored).status == 201)
        let path = "/v1/peers/\(key.permID.text)"

        func body(_ record: SignedRecord, replacing member: String? = nil, with text: String? = nil) -> [UInt8] {
            var object = try! JSONSerialization.jsonObject(with: Data(record.json)) as! [String: Any]
            if let member { object[member] = text.map { try! JSONSerialization.jsonObject(with: Data($0.utf8), options: .fragmentsAllowed) } }
            return Array(try! JSONSerialization.data(withJSONObject: object))
        }
        let fresh = sealed(server, key, seq: 9)
        let now = server.now
        let cases: [(String, [UInt8], String)] = [
            ("no boxes", body(try SignedRecord.sign(with: key, seq: 9, issuedAt: now, expiresAt: now + 60, content: .sealed([]))), "invalid-sealed"),
            ("65 boxes", body(sealed(server, key, seq: 9, count: 65, length: 16)), "invalid-sealed"),
            ("an empty box", body(fresh, replacing: "sealed", with: "[\"\"]"), "invalid-sealed"),
            ("a 513-byte box", body(sealed(server, key, seq: 9, count: 1, length: 513)), "invalid-sealed"),
            ("a box not base64url", body(fresh, replacing: "sealed", with: "[\"AAA=\"]"), "invalid-sealed"),
            ("boxes and endpoints", body(fresh, replacing: "endpoints", with: "[]"), "malformed-json"),
            ("neither", body(fresh, replacing: "sealed", with: nil), "malformed-json"),
            ("sealed not an array", body(fresh, replacing: "sealed", with: "\"AAAA\""), "malformed-json"),
            ("a box not a string", body(fresh, replacing: "sealed", with: "[1]"), "malformed-json"),
            // Boxes come after the signature's length and before freshness and the signature itself.
            ("bad boxes, short signature", body(sealed(server, key, seq: 9, count: 0), replacing: "signature", with: "\"AAAA\""), "invalid-signature"),
            ("bad boxes, expired", body(try SignedRecord.sign(with: key, seq: 9, issuedAt: now - 7200, expiresAt: now - 3600, content: .sealed([]))), "invalid-sealed"),
            ("bad boxes, wrong signature", body(sealed(server, key, seq: 9, count: 65, length: 1), replacing: "signature", with: "\"\(Base64URL.encode([UInt8](repeating: 7, count: 64)))\""), "invalid-sealed"),
            ("a moved box", body(fresh, replacing: "sealed", with: "[\"\(Base64URL.encode([1, 2, 3]))\"]"), "bad-signature"),
        ]
        for (name, bytes, slug) in cases {
            let answer = try server.put(path, bytes)
            #expect(answer.problemType == slug, "\(name): \(answer.text)")
            #expect(answer.status == (slug == "bad-signature" ? 403 : 400), "\(name)")
        }
        #expect(try server.get(path).body == stored.json, "nothing refused changed the stored record")
    }
}
