import Foundation
import PermIDKit
import Testing
@testable import PermIDStore

/// What listing and counting cost: tombstones are cheap to make and never deleted, so neither may
/// read them. Measured in SQLite virtual-machine steps on a real file, before and after adding
/// 20,000 tombstones; and exact counts checked against a full count after every kind of write.
@Suite struct SQLiteRecordStoreCostTests {
    let now = StoreFixtures.now

    // MARK: - WAL

    /// Commits checkpoint once the WAL holds the store's checkpoint size, and the WAL then starts
    /// over: under many times that many pages of writes, the WAL file stays near that size, and the
    /// database file takes the pages.
    @Test func theWALIsCheckpointedAtItsSizeAndStartsOver() throws {
        let pages: Int32 = 64
        let path = StoreFixtures.temporaryDirectory() + "/permid.sqlite"
        let store = try SQLiteRecordStore(path: path, sync: .normal, migrate: true, maxBatch: 512, walCheckpointPages: pages)
        func size(_ file: String) -> Int { ((try? FileManager.default.attributesOfItem(atPath: file))?[.size] as? Int) ?? 0 }
        let frame = 4_096 + 24
        var largestWAL = 0
        var records = 0
        for _ in 0..<30 {
            let batch = try (0..<50).map { _ in StoreFixtures.record(try PrivateKey.generate(.ed25519), seq: 1) }
            _ = try store.announce(batch: batch)
            records += batch.count
            largestWAL = max(largestWAL, size(path + "-wal"))
        }
        // 1,500 new rows in three B-trees write thousands of WAL pages; without checkpoints (or with
        // SQLite's default of 1,000 pages) the WAL would hold most of them.
        #expect(largestWAL <= 3 * Int(pages) * frame, "the WAL reached \(largestWAL / frame) pages")
        #expect(size(path) >= records * 100, "the database file holds \(size(path)) bytes for \(records) records")
        #expect(try store.counts(now: now).records == records)
    }

    // MARK: - Listing

    @Test func aPageReadsItsRowsNotTheTombstonesBetweenThem() throws {
        let store = try StoreFixtures.store()
        let live = try (0..<40).map { _ in StoreFixtures.record(try PrivateKey.generate(.ed25519), seq: 1) }
        _ = try store.announce(batch: live)
        let sorted = live.map(\.permID.bytes).sorted { $0.lexicographicallyPrecedes($1) }
        let connection = try SQLiteConnection(path: store.path, readOnly: false)

        let firstPage = try pageSteps(connection, after: nil)
        let middlePage = try pageSteps(connection, after: sorted[20])
        try addTombstones(20_000, on: connection)
        #expect(try store.list(after: nil, address: nil, limit: 10, now: now).records.map(\.permID.bytes) == Array(sorted.prefix(10)))
        let firstPageOverTombstones = try pageSteps(connection, after: nil)
        let middlePageOverTombstones = try pageSteps(connection, after: sorted[20])
        #expect(firstPageOverTombstones < 2 * firstPage, "\(firstPageOverTombstones) steps over tombstones, \(firstPage) without")
        #expect(middlePageOverTombstones < 2 * middlePage, "\(middlePageOverTombstones) steps over tombstones, \(middlePage) without")

        let plan = try queryPlan(SQLiteRecordStore.listSQL, on: connection)
        #expect(plan.contains("SEARCH records USING PRIMARY KEY") && !plan.contains("SCAN"), "\(plan)")
    }

    @Test func aPageByAddressReadsItsRowsNotTheSweptRecordsAtThatAddress() throws {
        let store = try StoreFixtures.store()
        let address = "198.51.100.9"
        let live = try (0..<20).map { _ in StoreFixtures.record(try PrivateKey.generate(.ed25519), seq: 1, endpoints: ["\(address):1"]) }
        _ = try store.announce(batch: live)
        let connection = try SQLiteConnection(path: store.path, readOnly: false)
        let before = try pageSteps(connection, after: nil, address: IPAddress(address))

        let expiring = try (0..<2_000).map { _ in
            StoreFixtures.record(try PrivateKey.generate(.ed25519), seq: 1, endpoints: ["\(address):2"], expiresAt: now + 5)
        }
        _ = try store.announce(batch: expiring)
        #expect(try store.sweep(now: now + 5, limit: 5_000) == 2_000)
        let after = try pageSteps(connection, after: nil, address: IPAddress(address))
        #expect(after < 2 * before, "\(after) steps over swept records, \(before) without")
        #expect(try store.list(after: nil, address: IPAddress(address), limit: 100, now: now + 5).records.count == 20)

        let plan = try queryPlan(SQLiteRecordStore.listByAddressSQL, on: connection)
        #expect(!plan.contains("SCAN"), "\(plan)")
    }

    // MARK: - Counts

    @Test func countsReadNoTombstones() throws {
        let store = try StoreFixtures.store()
        _ = try store.announce(batch: try (0..<40).map { _ in StoreFixtures.record(try PrivateKey.generate(.ed25519), seq: 1) })
        let connection = try SQLiteConnection(path: store.path, readOnly: false)
        let before = try countSteps(connection)
        try addTombstones(20_000, on: connection)
        let after = try countSteps(connection)
        #expect(after < 2 * before, "\(after) steps over tombstones, \(before) without")
        #expect(try store.counts(now: now).records == 20_040)

        let plan = try queryPlan(SQLiteRecordStore.countsSQL, on: connection)
        #expect(!plan.contains("SCAN records"), "\(plan)")
    }

    @Test func countsStayExactAcrossEveryKindOfWrite() throws {
        let store = try StoreFixtures.store()
        let connection = try SQLiteConnection(path: store.path, readOnly: true)
        let times = [now, now + 9, now + 10, now + 11, now + 3_600, now + 7_200]
        func check(_ step: String) throws {
            for time in times {
                let counts = try store.counts(now: time)
                let expected = try fullCount(connection, now: time)
                #expect(counts.records == expected.records && counts.live == expected.live && counts.withdrawn == expected.withdrawn,
                        "after \(step) at now + \(time - now): \(counts) but a full count gives \(expected)")
                #expect(counts.storageBytes > 0)
            }
            let both = try connection.statement("SELECT count(*) FROM records JOIN tombstones USING (permid)")
            _ = try both.step()
            #expect(both.int64(0) == 0, "after \(step): PermIDs both live and tombstone")
            connection.resetStatements()
        }
        try check("nothing")
        let keys = try (0..<5).map { _ in try PrivateKey.generate(.ed25519) }

        #expect(try store.announce(StoreFixtures.record(keys[0], seq: 1)) == .created)
        try check("a first announcement")
        #expect(try store.announce(StoreFixtures.record(keys[0], seq: 2, endpoints: [])) == .replaced)
        try check("a withdrawal replacing a record")
        #expect(try store.announce(StoreFixtures.record(keys[0], seq: 1)) == .stale(storedSeq: 2))
        try check("a stale announcement")
        #expect(try store.announce(StoreFixtures.record(keys[0], seq: 3, endpoints: ["203.0.113.7:1"], expiresAt: now + 10)) == .replaced)
        try check("a record replacing a withdrawal")

        let imported = try store.announce(batch: [
            StoreFixtures.record(keys[1], seq: 1, endpoints: [], expiresAt: now + 10),
            StoreFixtures.record(keys[2], seq: 4, endpoints: [], expiresAt: now + 7_000),
            StoreFixtures.record(keys[3], seq: 1, expiresAt: now + 11),
            StoreFixtures.record(keys[4], seq: 1),
            StoreFixtures.record(keys[4], seq: 2, endpoints: []),
            StoreFixtures.record(keys[2], seq: 3),
        ])
        #expect(imported == [.created, .created, .created, .created, .replaced, .stale(storedSeq: 4)])
        try check("an import batch")

        #expect(try store.sweep(now: now + 10, limit: 1) == 1)
        try check("a partial sweep")
        #expect(try store.sweep(now: now + 10, limit: 100) == 1)
        try check("the rest of the sweep")
        #expect(try store.announce(StoreFixtures.record(keys[1], seq: 2)) == .replaced)
        try check("an announcement over a tombstone")
        #expect(try store.sweep(now: now + 7_200, limit: 100) == 4)
        try check("sweeping everything")
        let swept = try store.counts(now: now + 7_200)
        #expect(swept.records == 5 && swept.live == 0 && swept.withdrawn == 0)
    }

    // MARK: - Helpers

    /// Virtual-machine steps of one 11-row page of the store's listing query.
    private func pageSteps(_ connection: SQLiteConnection, after cursor: [UInt8]?, address: IPAddress? = nil) throws -> Int {
        let select = try connection.statement(address == nil ? SQLiteRecordStore.listSQL : SQLiteRecordStore.listByAddressSQL)
        if let address { try select.bind(address.bytes, at: 1) }
        try select.bind(cursor ?? [], at: 2)
        try select.bind(Int64(now), at: 3)
        try select.bind(11, at: 4)
        _ = select.takeVirtualMachineSteps()
        var rows = 0
        while try select.step() { rows += 1 }
        #expect(rows == 11)
        return select.takeVirtualMachineSteps()
    }

    /// Virtual-machine steps of the store's counting query.
    private func countSteps(_ connection: SQLiteConnection) throws -> Int {
        let select = try connection.statement(SQLiteRecordStore.countsSQL)
        try select.bind(Int64(now), at: 1)
        _ = select.takeVirtualMachineSteps()
        while try select.step() {}
        return select.takeVirtualMachineSteps()
    }

    /// Inserts `count` tombstones with random PermIDs, as sweeping would leave them.
    private func addTombstones(_ count: Int, on connection: SQLiteConnection) throws {
        try connection.transaction { () throws(SQLiteError) in
            try connection.execute("""
                WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < \(count))
                INSERT INTO tombstones (permid, seq) SELECT randomblob(44), 1 FROM n
                """)
        }
    }

    /// The `detail` column of `EXPLAIN QUERY PLAN`, one line per row.
    private func queryPlan(_ sql: String, on connection: SQLiteConnection) throws -> String {
        let explain = try connection.statement("EXPLAIN QUERY PLAN " + sql)
        var lines = [String]()
        while try explain.step() { lines.append(explain.text(3) ?? "") }
        return lines.joined(separator: "\n")
    }

    /// Counts by reading every row: what the counts must equal.
    private func fullCount(_ connection: SQLiteConnection, now: UInt64) throws -> (records: Int, live: Int, withdrawn: Int) {
        let select = try connection.statement("""
            SELECT count(*) + (SELECT count(*) FROM tombstones),
                   coalesce(sum(signature IS NOT NULL AND expires_at > ?1), 0),
                   coalesce(sum(signature IS NOT NULL AND expires_at > ?1 AND length(endpoints) = 0), 0)
            FROM records
            """)
        try select.bind(Int64(now), at: 1)
        _ = try select.step()
        defer { connection.resetStatements() }
        return (Int(select.int64(0)), Int(select.int64(1)), Int(select.int64(2)))
    }
}
