import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import PermIDKit
import Synchronization
import Testing

/// The PostgreSQL server `make test` started, if any.
private let postgresTestServer = ProcessInfo.processInfo.environment["PERMID_TEST_POSTGRES"]

/// Several real permidd nodes on one real PostgreSQL database (`PERMID_TEST_POSTGRES`, set by
/// `make test`; without it these tests do not run, and with it an unreachable server fails them).
@Suite(.enabled(if: postgresTestServer != nil), .serialized) struct PostgresNodesTests {
    static let server = postgresTestServer
    let now = UInt64(Date().timeIntervalSince1970)
    static let nodeArguments = ["--endpoint-policy", "any", "--allow-private", "--rate-limit", "off"]

    /// An HTTP status and body.
    struct Answer: Sendable { let status: Int; let body: String }

    static func get(_ path: String, from node: String) async -> Answer {
        guard let (data, response) = try? await URLSession.shared.data(from: URL(string: node + path)!),
              let http = response as? HTTPURLResponse
        else { return Answer(status: 0, body: "no answer") }
        return Answer(status: http.statusCode, body: String(decoding: data, as: UTF8.self))
    }

    static func put(_ record: SignedRecord, to node: String) async -> Answer {
        var request = URLRequest(url: URL(string: "\(node)/v1/peers/\(record.permID.text)")!)
        request.httpMethod = "PUT"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = Data(record.json)
        request.timeoutInterval = 30
        guard let (data, response) = try? await URLSession.shared.data(for: request),
              let http = response as? HTTPURLResponse
        else { return Answer(status: 0, body: "no answer") }
        return Answer(status: http.statusCode, body: String(decoding: data, as: UTF8.self))
    }

    func record(_ key: PrivateKey, seq: UInt64) throws -> SignedRecord {
        try SignedRecord.sign(with: key, seq: seq, issuedAt: now, expiresAt: now + 3600, endpoints: [Endpoint("127.0.0.1:6881")!])
    }

    /// Two nodes, 400 announcements of one PermID with distinct seqs spread over both, 64 at a time:
    /// the highest seq is stored, and every 409 names the seq that was really stored when it was refused.
    @Test func twoNodesRacingOnOnePermIDKeepTheHighestSeq() async throws {
        let database = try #require(Self.server)
        let nodes = try [Directory(database: database, extraArguments: Self.nodeArguments),
                         Directory(database: database, extraArguments: Self.nodeArguments)]
        let key = try PrivateKey.generate(.ed25519)
        let total: UInt64 = 400
        let records = try (1...total).map { try record(key, seq: $0) }.shuffled()
        let answers = Shared<[(seq: UInt64, answer: Answer)]>([])
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<64 {
                group.addTask {
                    for index in stride(from: worker, to: records.count, by: 64) {
                        let answer = await Self.put(records[index], to: nodes[index % 2].url)
                        answers.value.withLock { $0.append((records[index].seq, answer)) }
                    }
                }
            }
            try await group.waitForAll()
        }
        let all = answers.value.withLock { $0 }
        #expect(all.count == Int(total))
        #expect(all.allSatisfy { [200, 201, 409].contains($0.answer.status) }, "\(all.filter { ![200, 201, 409].contains($0.answer.status) }.prefix(3))")
        #expect(all.filter { $0.answer.status == 201 }.count == 1)
        let accepted = Set(all.filter { $0.answer.status != 409 }.map(\.seq))
        for (seq, answer) in all where answer.status == 409 {
            let stored = answer.body.firstMatch(of: /"stored_seq":\s*(\d+)/).flatMap { UInt64($0.1) }
            #expect(stored.map { $0 >= seq && accepted.contains($0) } == true, "409 for seq \(seq) names stored seq \(String(describing: stored))")
        }
        for node in nodes {
            let resolved = await Self.get("/v1/peers/\(key.permID.text)", from: node.url)
            #expect(resolved.status == 200 && resolved.body.contains("\"seq\":\(total)"), "\(resolved.body)")
        }
        // The stored seq is the total: announcing it again is refused by either node, naming it.
        let again = await Self.put(try record(key, seq: total), to: nodes[0].url)
        #expect(again.status == 409 && again.body.contains("\"stored_seq\":\(total)"))
    }
}

/// A value several tasks update.
private final class Shared<Value: Sendable>: Sendable {
    let value: Mutex<Value>
    init(_ value: Value) { self.value = Mutex(value) }
}

extension PostgresNodesTests {
    /// A resolve waiting on node A (`?wait=`) is answered when node B stores the record: B's commit
    /// notifies A through PostgreSQL (LISTEN/NOTIFY).
    @Test func aWatcherOnOneNodeIsWokenByAStoreOnTheOther() async throws {
        let database = try #require(Self.server)
        let nodes = try [Directory(database: database, extraArguments: Self.nodeArguments),
                         Directory(database: database, extraArguments: Self.nodeArguments)]
        let key = try PrivateKey.generate(.ed25519)
        #expect(await Self.put(try record(key, seq: 1), to: nodes[1].url).status == 201)
        let started = Date()
        async let woken = Self.get("/v1/peers/\(key.permID.text)?wait=20", etag: "\"1\"", from: nodes[0].url)
        try await Task.sleep(for: .milliseconds(500))
        #expect(await Self.put(try record(key, seq: 2), to: nodes[1].url).status == 200)
        let answer = await woken
        #expect(answer.status == 200 && answer.body.contains("\"seq\":2"), "\(answer.body)")
        #expect(Date().timeIntervalSince(started) < 10, "woken by the other node's store, not by the end of the wait")
    }

    static func get(_ path: String, etag: String, from node: String) async -> Answer {
        var request = URLRequest(url: URL(string: node + path)!)
        request.setValue(etag, forHTTPHeaderField: "If-None-Match")
        request.timeoutInterval = 60
        guard let (data, response) = try? await URLSession.shared.data(for: request),
              let http = response as? HTTPURLResponse
        else { return Answer(status: 0, body: "no answer") }
        return Answer(status: http.statusCode, body: String(decoding: data, as: UTF8.self))
    }
}
