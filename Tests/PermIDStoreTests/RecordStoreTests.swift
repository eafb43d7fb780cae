import Foundation
import PermIDKit
import Synchronization
import Testing
@testable import PermIDStore

/// The ``RecordStore`` contract, on every backend (``StoreFixtures/backends``).
@Suite struct RecordStoreTests {
    let key = try! PrivateKey.generate(.ed25519)
    let now = StoreFixtures.now

    @Test(arguments: StoreFixtures.backends) func sequenceRuleCreatesReplacesAndRefusesStale(backend: StoreBackend) throws {
        let store = try StoreFixtures.store(backend)
        #expect(try store.announce(StoreFixtures.record(key, seq: 5)) == .created)
        #expect(try store.announce(StoreFixtures.record(key, seq: 5)) == .stale(storedSeq: 5))
        #expect(try store.announce(StoreFixtures.record(key, seq: 4)) == .stale(storedSeq: 5))
        let newer = StoreFixtures.record(key, seq: 6, endpoints: ["198.51.100.7:1", "[2001:db8::1]:2"])
        #expect(try store.announce(newer) == .replaced)
        #expect(try store.record(for: key.permID.bytes, now: now) == newer)
    }

    @Test(arguments: StoreFixtures.backends) func servedRecordIsByteForByteWhatWasSignedAndVerifies(backend: StoreBackend) throws {
        let store = try StoreFixtures.store(backend)
        let record = StoreFixtures.record(key, seq: 9, endpoints: ["203.0.113.5:6881", "[2001:db8::5]:6881"])
        _ = try store.announce(record)
        let served = try #require(try store.record(for: key.permID.bytes, now: now))
        #expect(served.message == record.message && served.signature == record.signature)
        let validated = try RecordValidator().validateRecord(json: served.json, now: now, freshness: .resolving(expected: key.permID))
        #expect(validated == record)
    }

    @Test(arguments: StoreFixtures.backends) func expiredRecordsAreNeverServedAndTombstonesBlockReplays(backend: StoreBackend) throws {
        let store = try StoreFixtures.store(backend)
        let record = StoreFixtures.record(key, seq: 3, expiresAt: now + 10)
        _ = try store.announce(record)
        #expect(try store.record(for: key.permID.bytes, now: now + 9) == record)
        #expect(try store.record(for: key.permID.bytes, now: now + 10) == nil, "expired at now == expires_at, before any sweep")
        #expect(try store.list(after: nil, address: nil, limit: 10, now: now + 10).records.isEmpty)
        #expect(try store.sweep(now: now + 10, limit: 100) == 1)
        #expect(try store.sweep(now: now + 10, limit: 100) == 0)
        #expect(try store.counts(now: now + 10).records == 1 && store.counts(now: now + 10).live == 0)
        #expect(try store.announce(StoreFixtures.record(key, seq: 3)) == .stale(storedSeq: 3), "a replay after the purge is refused")
        #expect(try store.announce(StoreFixtures.record(key, seq: 2)) == .stale(storedSeq: 3))
        #expect(try store.list(after: nil, address: IPAddress("203.0.113.5"), limit: 10, now: now).records.isEmpty)
        #expect(try store.announce(StoreFixtures.record(key, seq: 4)) == .replaced)
    }

    @Test(arguments: StoreFixtures.backends) func sweepWorksInBoundedBatches(backend: StoreBackend) throws {
        let store = try StoreFixtures.store(backend)
        let keys = try (0..<25).map { _ in try PrivateKey.generate(.ed25519) }
        _ = try store.announce(batch: keys.map { StoreFixtures.record($0, seq: 1, expiresAt: now + 5) })
        #expect(try store.sweep(now: now + 5, limit: 10) == 10)
        #expect(try store.sweep(now: now + 5, limit: 10) == 10)
        #expect(try store.sweep(now: now + 5, limit: 10) == 5)
        #expect(try store.counts(now: now).records == 25 && store.counts(now: now).live == 0)
    }

    @Test(arguments: StoreFixtures.backends) func listsWithKeysetPaginationAndAddressFilter(backend: StoreBackend) throws {
        let store = try StoreFixtures.store(backend)
        var records = [SignedRecord]()
        for index in 0..<2_500 {
            let key = try PrivateKey.generate(.ed25519)
            let address = index % 10 == 0 ? "198.51.100.1" : "203.0.113.\(index % 200 + 1)"
            records.append(StoreFixtures.record(key, seq: 1, endpoints: ["\(address):\(1000 + index)"]))
        }
        records[7] = StoreFixtures.record(try PrivateKey.generate(.ed25519), seq: 1, endpoints: [])
        _ = try store.announce(batch: records)

        var seen = [[UInt8]]()
        var cursor: [UInt8]?
        var pages = 0
        repeat {
            let page = try store.list(after: cursor, address: nil, limit: 1_000, now: now)
            seen += page.records.map(\.permID.bytes)
            cursor = page.nextCursor
            pages += 1
        } while cursor != nil
        #expect(pages == 3)
        #expect(seen.count == 2_500 && Set(seen).count == 2_500)
        #expect(seen == seen.sorted { $0.lexicographicallyPrecedes($1) })

        let filtered = try store.list(after: nil, address: IPAddress("198.51.100.1"), limit: 1_000, now: now)
        #expect(filtered.records.count == 250 && filtered.nextCursor == nil)
        #expect(filtered.records.allSatisfy { $0.endpoints.first?.address == IPAddress("198.51.100.1") })
        let counts = try store.counts(now: now)
        #expect(counts.records == 2_500 && counts.live == 2_500 && counts.withdrawn == 1 && counts.storageBytes > 0)
    }

    @Test(arguments: StoreFixtures.backends) func countsFollowWritesExpiryAndSweeps(backend: StoreBackend) throws {
        let store = try StoreFixtures.store(backend)
        let keys = try (0..<6).map { _ in try PrivateKey.generate(.ed25519) }
        _ = try store.announce(batch: [
            StoreFixtures.record(keys[0], seq: 1), StoreFixtures.record(keys[1], seq: 1, endpoints: []),
            StoreFixtures.record(keys[2], seq: 1, expiresAt: now + 5), StoreFixtures.record(keys[3], seq: 1, endpoints: [], expiresAt: now + 5),
        ])
        #expect(try store.counts(now: now) == StoreCounts(records: 4, live: 4, withdrawn: 2, storageBytes: store.counts(now: now).storageBytes))
        #expect(try store.counts(now: now + 5).live == 2 && store.counts(now: now + 5).withdrawn == 1, "expired, not yet swept")
        #expect(try store.sweep(now: now + 5, limit: 10) == 2)
        let swept = try store.counts(now: now + 5)
        #expect(swept.records == 4 && swept.live == 2 && swept.withdrawn == 1)
        #expect(try store.announce(StoreFixtures.record(keys[1], seq: 2)) == .replaced, "a withdrawal replaced by endpoints")
        #expect(try store.announce(StoreFixtures.record(keys[2], seq: 2, endpoints: [])) == .replaced, "a tombstone replaced by a withdrawal")
        #expect(try store.announce(StoreFixtures.record(keys[4], seq: 1)) == .created)
        let later = try store.counts(now: now + 5)
        #expect(later.records == 5 && later.live == 4 && later.withdrawn == 1)
        #expect(try store.sweep(now: now + 5, limit: 10) == 0)
        #expect(try store.counts(now: now + 5) == later)
    }

    /// FRIENDS-v1 part B: a sealed record is stored and served byte for byte, shares the seq sequence with
    /// open records, is listed but never by address, is no withdrawal, and is swept like any other.
    @Test(arguments: StoreFixtures.backends) func sealedRecordsShareTheSequenceAndAreNeverListedByAddress(backend: StoreBackend) throws {
        let store = try StoreFixtures.store(backend)
        let open = StoreFixtures.record(key, seq: 4, endpoints: ["198.51.100.9:1"])
        #expect(try store.announce(open) == .created)
        let sealed = StoreFixtures.sealedRecord(key, seq: 5, boxes: 64, length: 512)
        #expect(try store.announce(sealed) == .replaced)
        #expect(try store.announce(StoreFixtures.record(key, seq: 5)) == .stale(storedSeq: 5), "an open record with the sealed one's seq")
        let served = try #require(try store.record(for: key.permID.bytes, now: now))
        #expect(served == sealed && served.json == sealed.json)
        #expect(try RecordValidator().validateRecord(json: served.json, now: now, freshness: .resolving(expected: key.permID)) == sealed)
        #expect(try store.records(for: [key.permID.bytes], now: now)[key.permID.bytes] == sealed)
        #expect(try store.list(after: nil, address: nil, limit: 10, now: now).records == [sealed])
        #expect(try store.list(after: nil, address: IPAddress("198.51.100.9"), limit: 10, now: now).records.isEmpty,
                "the open record's address went with it")
        #expect(try store.counts(now: now).withdrawn == 0 && store.counts(now: now).live == 1)

        let reopened = StoreFixtures.record(key, seq: 6, endpoints: [])
        #expect(try store.announce(reopened) == .replaced, "a withdrawal (open, no endpoints) replaces a sealed record")
        #expect(try store.record(for: key.permID.bytes, now: now) == reopened)
        #expect(try store.counts(now: now).withdrawn == 1)
        #expect(try store.announce(StoreFixtures.sealedRecord(key, seq: 6)) == .stale(storedSeq: 6))

        let other = try PrivateKey.generate(.ec(.p256))
        _ = try store.announce(StoreFixtures.sealedRecord(other, seq: 1, boxes: 1, length: 1, expiresAt: now + 5))
        #expect(try store.sweep(now: now + 5, limit: 10) == 1)
        #expect(try store.record(for: other.permID.bytes, now: now) == nil, "a swept sealed record is a tombstone")
        #expect(try store.announce(StoreFixtures.sealedRecord(other, seq: 1)) == .stale(storedSeq: 1))
        #expect(try store.announce(StoreFixtures.sealedRecord(other, seq: 2)) == .replaced)
    }

    @Test(arguments: StoreFixtures.backends) func aStoreThatStoppedWritesAnswers503AndStillReads(backend: StoreBackend) throws {
        let store = try StoreFixtures.store(backend)
        _ = try store.announce(StoreFixtures.record(key, seq: 1))
        store.stopWrites()
        #expect(throws: DirectoryError.serviceUnavailable("the directory is shutting down")) {
            try store.announce(StoreFixtures.record(key, seq: 2))
        }
        #expect(throws: DirectoryError.serviceUnavailable("the directory is shutting down")) {
            try store.sweep(now: now, limit: 1)
        }
        #expect(try store.record(for: key.permID.bytes, now: now)?.seq == 1)
        store.close()
    }

    @Test(arguments: StoreFixtures.backends) func batchLookupReturnsOnlyLiveKnownRecords(backend: StoreBackend) throws {
        let store = try StoreFixtures.store(backend)
        let other = try PrivateKey.generate(.ec(.p256))
        _ = try store.announce(StoreFixtures.record(key, seq: 1))
        let found = try store.records(for: [key.permID.bytes, other.permID.bytes, key.permID.bytes], now: now)
        #expect(Array(found.keys) == [key.permID.bytes])
    }

    /// 64 threads announce seq 1…N for one PermID in random order. The stored seq must be the maximum,
    /// and no accepted announcement may have been acknowledged before a lower one was submitted.
    @Test(arguments: StoreFixtures.backends) func sixtyFourRacingAnnouncersKeepTheHighestSeq(backend: StoreBackend) throws {
        let store = try StoreFixtures.store(backend)
        let total: UInt64 = 640
        let records = (1...total).map { StoreFixtures.record(key, seq: $0) }.shuffled()
        struct Ack { let seq: UInt64; let submitted: ContinuousClock.Instant; let acknowledged: ContinuousClock.Instant; let accepted: Bool }
        let acks = Mutex<[Ack]>([])
        let clock = ContinuousClock()
        DispatchQueue.concurrentPerform(iterations: 64) { thread in
            for record in records[(thread * 10)..<(thread * 10 + 10)] {
                let submitted = clock.now
                var accepted = true
                if case .stale(let stored) = try! store.announce(record) {
                    accepted = false
                    #expect(stored >= record.seq)
                }
                let ack = Ack(seq: record.seq, submitted: submitted, acknowledged: clock.now, accepted: accepted)
                acks.withLock { $0.append(ack) }
            }
        }
        #expect(try store.record(for: key.permID.bytes, now: now)?.seq == total)
        let all = acks.withLock { $0 }
        #expect(all.count == Int(total))
        let accepted = all.filter(\.accepted)
        for higher in accepted {
            for lower in accepted where lower.seq < higher.seq {
                #expect(!(higher.acknowledged < lower.submitted), "seq \(lower.seq) accepted after \(higher.seq) was acknowledged")
            }
        }
        #expect(Set(accepted.map(\.seq)).count == accepted.count)
    }
}

/// Reads must always see the latest acknowledged commit: a pooled read connection that kept an old
/// snapshot would serve what was replaced.
@Suite struct ReadSnapshotTests {
    @Test(arguments: StoreFixtures.backends) func everyReadSeesTheLatestCommit(backend: StoreBackend) throws {
        let store = try StoreFixtures.store(backend)
        let key = try PrivateKey.generate(.ed25519)
        let now = StoreFixtures.now
        _ = try store.counts(now: now)
        try store.checkHealth()
        _ = try store.list(after: nil, address: nil, limit: 1, now: now)
        _ = try store.announce(StoreFixtures.record(key, seq: 1))
        #expect(try store.record(for: key.permID.bytes, now: now)?.seq == 1)
        _ = try store.announce(StoreFixtures.record(key, seq: 2))
        #expect(try store.record(for: key.permID.bytes, now: now)?.seq == 2)
        #expect(try store.counts(now: now).records == 1)
        _ = try store.announce(StoreFixtures.record(try PrivateKey.generate(.ed25519), seq: 1))
        #expect(try store.counts(now: now).records == 2)
        #expect(try store.list(after: nil, address: nil, limit: 10, now: now).records.count == 2)
    }

    // SQLite keeps a pooled connection's read transaction between uses (ReadConnectionPool): an
    // acknowledged write is read at once, an idle snapshot does not hold up checkpoints, and another
    // process's commit is read within the snapshot lifetime.

    @Test func aWriteIsReadAsSoonAsItIsAcknowledged() throws {
        let store = try StoreFixtures.store()
        let key = try PrivateKey.generate(.ed25519)
        let other = try PrivateKey.generate(.ed25519)
        // Reads that leave snapshots open in the pool, both with the PermID absent.
        #expect(try store.record(for: key.permID.bytes, now: StoreFixtures.now) == nil)
        #expect(try store.record(for: other.permID.bytes, now: StoreFixtures.now) == nil)
        for seq in UInt64(1)...20 {
            let record = StoreFixtures.record(key, seq: seq)
            _ = try store.submit(record).wait().get()
            #expect(try store.record(for: record.permID.bytes, now: StoreFixtures.now)?.seq == seq, "seq \(seq) acknowledged but not read")
            #expect(try store.records(for: [record.permID.bytes], now: StoreFixtures.now)[record.permID.bytes]?.seq == seq)
        }
    }

    @Test func idleSnapshotsDoNotHoldUpCheckpoints() throws {
        let store = try StoreFixtures.store()
        let first = StoreFixtures.record(try PrivateKey.generate(.ed25519), seq: 1)
        _ = try store.announce(batch: [first])
        #expect(try store.record(for: first.permID.bytes, now: StoreFixtures.now) != nil) // leaves its snapshot open
        _ = try store.announce(batch: try (0..<50).map { _ in StoreFixtures.record(try PrivateKey.generate(.ed25519), seq: 1) })

        // A checkpoint that must reset the log fails (busy) while any reader still uses it.
        let outside = try SQLiteConnection(path: store.path, readOnly: false)
        let checkpoint = try outside.statement("PRAGMA wal_checkpoint(TRUNCATE)")
        #expect(try checkpoint.step())
        #expect(checkpoint.int64(0) == 0, "the checkpoint was blocked by a reader's old snapshot")
        let walBytes = (try? FileManager.default.attributesOfItem(atPath: store.path + "-wal")[.size] as? Int) ?? 0
        #expect(walBytes == 0)
    }

    @Test func anotherProcessCommitIsReadWithinTheSnapshotLifetime() throws {
        let store = try StoreFixtures.store()
        let record = StoreFixtures.record(try PrivateKey.generate(.ed25519), seq: 1)
        _ = try store.announce(batch: [record])
        #expect(try store.record(for: record.permID.bytes, now: StoreFixtures.now)?.seq == 1)

        // Another writer (as an import into a served database would): the store's writer sees nothing of it.
        let outside = try SQLiteConnection(path: store.path, readOnly: false)
        try outside.execute("UPDATE records SET seq = 7")
        let deadline = ContinuousClock.now + ReadConnectionPool.snapshotLifetime + .milliseconds(20)
        // The deadline is checked right after a read, so the last read is made after it, however long
        // a sleep overran on a loaded machine.
        var seen = try store.record(for: record.permID.bytes, now: StoreFixtures.now)?.seq
        while seen != 7, ContinuousClock.now < deadline {
            Thread.sleep(forTimeInterval: 0.005)
            seen = try store.record(for: record.permID.bytes, now: StoreFixtures.now)?.seq
        }
        #expect(seen == 7, "still read seq \(seen.map(String.init) ?? "nil") after the snapshot lifetime")
    }
}
