import Foundation
import PermIDKit
import PermIDServer
import Testing

@Suite struct AnnounceAndResolveTests {
    @Test(arguments: KeyType.all)
    func announceThenResolveForEveryKeyType(type: KeyType) throws {
        let server = try TestServer()
        let key = try PrivateKey.generate(type)
        for scheme in type.allowedSchemes {
            let record = server.record(key, seq: scheme == type.allowedSchemes[0] ? 1 : 2, scheme: scheme)
            let put = try server.announce(record)
            #expect(put.status == (record.seq == 1 ? 201 : 200), "\(put.text)")
            #expect(put.body == record.json)
            let get = try server.get("/v1/peers/\(key.permID.text)")
            #expect(get.status == 200 && get.body == record.json)
            #expect(get.header("Content-Type") == "application/json")
            let verified = try RecordValidator().validateRecord(json: get.body, now: server.now, freshness: .resolving(expected: key.permID))
            #expect(verified == record)
        }
    }

    @Test func createdReplacedStaleAndCachingHeaders() throws {
        let server = try TestServer()
        let key = try PrivateKey.generate(.ed25519)
        let first = try server.announce(server.record(key, seq: 7))
        #expect(first.status == 201)
        #expect(first.header("Location") == "/v1/peers/\(key.permID.text)")
        #expect(first.header("ETag") == "\"7\"")
        #expect(first.header("Cache-Control") == "max-age=3600")

        let stale = try server.announce(server.record(key, seq: 7))
        #expect(stale.status == 409 && stale.problemType == "stale-seq")
        #expect(stale.json["stored_seq"] as? Int == 7)
        #expect(stale.header("Content-Type") == "application/problem+json")
        #expect(try server.announce(server.record(key, seq: 3)).json["stored_seq"] as? Int == 7)

        server.clock.advance(by: 100)
        let newer = server.record(key, seq: 8)
        #expect(try server.announce(newer).status == 200)
        server.clock.advance(by: 600)
        let get = try server.get("/v1/peers/\(key.permID.text)")
        #expect(get.header("ETag") == "\"8\"" && get.header("Cache-Control") == "max-age=3000")

        for tags in ["\"8\"", "W/\"8\"", "\"1\", \"8\"", "*"] {
            let conditional = try server.get("/v1/peers/\(key.permID.text)", headers: [("If-None-Match", tags)])
            #expect(conditional.status == 304 && conditional.body.isEmpty && conditional.header("ETag") == "\"8\"", "\(tags)")
        }
        #expect(try server.get("/v1/peers/\(key.permID.text)", headers: [("If-None-Match", "\"7\"")]).status == 200)

        let head = try server.client.send("HEAD", "/v1/peers/\(key.permID.text)")
        #expect(head.status == 200 && head.body.isEmpty && head.header("Content-Length") == String(newer.json.count))
    }

    @Test func expiredRecordsAnswer404AndWithdrawalsAreServed() throws {
        let server = try TestServer()
        let key = try PrivateKey.generate(.ec(.p256))
        #expect(try server.announce(server.record(key, seq: 1, ttl: 60)).status == 201)
        let withdrawal = server.record(key, seq: 2, endpoints: [], ttl: 60)
        #expect(try server.announce(withdrawal).status == 200)
        #expect(try server.get("/v1/peers/\(key.permID.text)").body == withdrawal.json)
        server.clock.advance(by: 60)
        let gone = try server.get("/v1/peers/\(key.permID.text)")
        #expect(gone.status == 404 && gone.problemType == "not-found")
        #expect(server.server.sweep() == 1)
        server.clock.advance(by: 1)
        let replay = try server.announce(server.record(key, seq: 2))
        #expect(replay.status == 409 && replay.json["stored_seq"] as? Int == 2, "a tombstone still blocks replays")
    }

    @Test func sixtyFourConcurrentAnnouncersOnOnePermID() throws {
        let server = try TestServer()
        let key = try PrivateKey.generate(.ed25519)
        let records = (1...64).map { server.record(key, seq: UInt64($0)) }.shuffled()
        let statuses = ConcurrentResults<Int>()
        DispatchQueue.concurrentPerform(iterations: 64) { index in
            statuses.append((try? server.announce(records[index]).status) ?? -1)
        }
        let all = statuses.values
        #expect(all.allSatisfy { [200, 201, 409].contains($0) }, "\(all)")
        #expect(all.filter { $0 == 201 }.count == 1)
        let stored = try server.get("/v1/peers/\(key.permID.text)")
        #expect(stored.json["seq"] as? Int == 64)
    }

    @Test func ipv6ListenerAcceptsSourceEndpoints() throws {
        let server = try TestServer(listen: "::1")
        let key = try PrivateKey.generate(.ed25519)
        let whoami = try server.get("/v1/whoami")
        #expect(whoami.json["ip"] as? String == "::1")
        #expect(try server.announce(server.record(key, seq: 1, endpoints: ["[::1]:6881"])).status == 201)
        let refused = try server.announce(server.record(key, seq: 2, endpoints: ["127.0.0.1:6881"]))
        #expect(refused.status == 403 && refused.problemType == "endpoint-not-source")
    }
}

/// Collects values from concurrent closures.
final class ConcurrentResults<T: Sendable>: @unchecked Sendable {
    // @unchecked Sendable: `storage` is only touched under `lock`.
    private let lock = NSLock()
    private var storage: [T] = []
    func append(_ value: T) { lock.lock(); storage.append(value); lock.unlock() }
    var values: [T] { lock.lock(); defer { lock.unlock() }; return storage }
}
