import Foundation
import PermIDKit
import Testing
@testable import PermIDStore

@Suite struct MigratorTests {
    private func database() -> String { StoreFixtures.temporaryDirectory() + "/permid.sqlite" }

    @Test(arguments: [("sqlite", Migration.embedded), ("postgres", Migration.embeddedPostgres)])
    func embeddedMigrationsMatchTheFilesInMigrations(backend: String, embedded: [Migration]) throws {
        let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Migrations").appendingPathComponent(backend)
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".sql") }.sorted()
        #expect(embedded.map(\.name) == files)
        for migration in embedded {
            let text = try String(contentsOf: directory.appendingPathComponent(migration.name), encoding: .utf8)
            #expect(migration.sql == text)
        }
        #expect(embedded.first?.version == 1)
    }

    /// Moving the SQLite migrations to `Migrations/sqlite/` kept their bytes: a database migrated by
    /// an earlier permidd recorded this checksum for 0001, and must still start.
    @Test func sqliteMigrationChecksumsAreThoseOfEarlierReleases() {
        #expect(Migration.embedded.first?.name == "0001_initial.sql")
        #expect(Migration.embedded.first?.checksum == "02145d83ab1164d043c457a9bace7686d3636f373d3cb8b7b69bf9097c24f7da")
    }

    @Test func appliesOnceAndRecordsVersionNameAndChecksum() throws {
        let path = database()
        let connection = try SQLiteConnection(path: path, readOnly: false)
        let migrator = Migrator(migrations: Migration.embedded)
        #expect(try migrator.migrate(connection, now: 1).count == Migration.embedded.count)
        #expect(try migrator.migrate(connection, now: 2).isEmpty)
        let rows = try connection.statement("SELECT version, name, sha256, applied_at FROM schema_migrations")
        #expect(try rows.step())
        #expect(rows.int64(0) == 1 && rows.text(1) == "0001_initial.sql" && rows.text(2) == Migration.embedded[0].checksum && rows.int64(3) == 1)
    }

    @Test func refusesAChangedMigration() throws {
        let path = database()
        let connection = try SQLiteConnection(path: path, readOnly: false)
        _ = try Migrator(migrations: Migration.embedded).migrate(connection, now: 1)
        try connection.execute("UPDATE schema_migrations SET sha256 = 'changed' WHERE version = 1")
        #expect(throws: MigrationError.checksumMismatch(version: 1, name: "0001_initial.sql")) {
            try Migrator(migrations: Migration.embedded).migrate(connection, now: 2)
        }
        #expect(throws: StoreOpenError.self) { try SQLiteRecordStore(path: path) }
    }

    @Test func refusesADatabaseFromANewerBinary() throws {
        let path = database()
        let connection = try SQLiteConnection(path: path, readOnly: false)
        _ = try Migrator(migrations: Migration.embedded).migrate(connection, now: 1)
        try connection.execute("INSERT INTO schema_migrations VALUES (999, '0999_future.sql', 'x', 1)")
        do {
            _ = try SQLiteRecordStore(path: path)
            Issue.record("opened a database from a newer binary")
        } catch {
            #expect(error == .migration(.databaseNewer(databaseVersion: 999, binaryVersion: Migration.embedded.count)))
            #expect(error.description.contains("newer permidd"))
        }
    }

    /// Version 2 starts its counts from the rows a version-1 database already holds.
    @Test func countsStartFromTheRowsOfAnOlderSchema() throws {
        let path = database()
        let connection = try SQLiteConnection(path: path, readOnly: false)
        _ = try Migrator(migrations: Array(Migration.embedded.prefix(1))).migrate(connection, now: 1)
        let now = StoreFixtures.now
        let rows: [(endpoints: String, signature: String, expiresAt: UInt64)] = [
            ("x'04cb00710501bb'", "x'aa'", now + 60),   // live
            ("x''", "x'aa'", now + 60),                 // live withdrawal
            ("x''", "x'aa'", now - 1),                  // expired withdrawal, not yet swept
            ("x'04cb00710501bb'", "x'aa'", now),        // expired, not yet swept
            ("NULL", "NULL", now - 100),                // tombstone
        ]
        for (index, row) in rows.enumerated() {
            try connection.execute("""
                INSERT INTO records VALUES (x'0\(index)', 1, 1, \(now - 200), \(row.expiresAt), \(row.endpoints), \(row.signature))
                """)
        }
        let store = try SQLiteRecordStore(path: path)
        let counts = try store.counts(now: now)
        #expect(counts.records == 5 && counts.live == 2 && counts.withdrawn == 1)
        let earlier = try store.counts(now: now - 2)
        #expect(earlier.records == 5 && earlier.live == 4 && earlier.withdrawn == 2)
    }

    /// Version 4 moves the tombstones out of `records`: each keeps its seq against older
    /// announcements, live and not-yet-swept records stay where they were, and the counts do not move.
    @Test func tombstonesMoveToTheirOwnTableWithTheirSeq() throws {
        let path = database()
        let connection = try SQLiteConnection(path: path, readOnly: false)
        _ = try Migrator(migrations: Array(Migration.embedded.prefix(3))).migrate(connection, now: 1)
        let now = StoreFixtures.now
        let keys = try (0..<4).map { _ in try PrivateKey.generate(.ed25519) }
        let live = StoreFixtures.record(keys[0], seq: 3)
        let unswept = StoreFixtures.record(keys[1], seq: 2, expiresAt: now - 1)
        for record in [live, unswept] {
            let insert = try connection.statement("""
                INSERT INTO records (permid, sig_alg, seq, issued_at, expires_at, endpoints, signature, sealed)
                VALUES (?, ?, ?, ?, ?, ?, ?, NULL)
                """)
            try insert.bind(record.permID.bytes, at: 1)
            try insert.bind(Int64(record.scheme.code), at: 2)
            try insert.bind(Int64(record.seq), at: 3)
            try insert.bind(Int64(record.issuedAt), at: 4)
            try insert.bind(Int64(record.expiresAt), at: 5)
            try insert.bind(StoredContent(record.content).endpoints, at: 6)
            try insert.bind(record.signature, at: 7)
            try insert.run()
        }
        for (key, seq) in [(keys[2], 7), (keys[3], 1)] {
            let insert = try connection.statement("""
                INSERT INTO records (permid, sig_alg, seq, issued_at, expires_at, endpoints, signature, sealed)
                VALUES (?, 1, ?, \(now - 200), \(now - 100), NULL, NULL, NULL)
                """)
            try insert.bind(key.permID.bytes, at: 1)
            try insert.bind(Int64(seq), at: 2)
            try insert.run()
        }
        let store = try SQLiteRecordStore(path: path)
        let counts = try store.counts(now: now)
        #expect(counts.records == 4 && counts.live == 1 && counts.withdrawn == 0)

        let rows = try connection.statement("""
            SELECT (SELECT group_concat(seq) FROM (SELECT seq FROM records ORDER BY seq)),
                   (SELECT group_concat(seq) FROM (SELECT seq FROM tombstones ORDER BY seq)),
                   (SELECT count(*) FROM sqlite_master WHERE name = 'records_live')
            """)
        #expect(try rows.step())
        #expect(rows.text(0) == "2,3" && rows.text(1) == "1,7" && rows.int64(2) == 0)
        connection.resetStatements()

        #expect(try store.record(for: live.permID.bytes, now: now) == live)
        #expect(try store.list(after: nil, address: nil, limit: 10, now: now).records == [live])
        #expect(try store.announce(StoreFixtures.record(keys[2], seq: 7)) == .stale(storedSeq: 7))
        #expect(try store.announce(StoreFixtures.record(keys[2], seq: 8)) == .replaced)
        #expect(try store.announce(StoreFixtures.record(keys[3], seq: 2)) == .replaced)
        #expect(try store.sweep(now: now, limit: 10) == 1)
        #expect(try store.announce(StoreFixtures.record(keys[1], seq: 2)) == .stale(storedSeq: 2))
        let after = try store.counts(now: now)
        #expect(after.records == 4 && after.live == 3 && after.withdrawn == 0)
    }

    @Test func withoutMigrateAnOutdatedDatabaseIsRefused() throws {
        #expect(throws: StoreOpenError.migration(.needsMigration)) { try SQLiteRecordStore(path: database(), migrate: false) }
    }
}

@Suite struct StoreFaultTests {
    @Test func aGarbageFileGivesOneClearError() throws {
        let path = StoreFixtures.temporaryDirectory() + "/garbage.sqlite"
        let garbage = Data((0..<8192).map { _ in UInt8.random(in: 0...255) })
        try garbage.write(to: URL(fileURLWithPath: path))
        do {
            _ = try SQLiteRecordStore(path: path)
            Issue.record("opened garbage")
        } catch {
            #expect(error.description == "\(path) is not a permid database (not an SQLite file, or corrupt)")
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == garbage, "the file was changed")
    }

    @Test func aMissingDirectoryGivesOneClearError() {
        let path = "/nonexistent-\(UUID().uuidString)/permid.sqlite"
        #expect(throws: StoreOpenError.self) { try SQLiteRecordStore(path: path) }
        do { _ = try SQLiteRecordStore(path: path) } catch {
            #expect(error.description.hasPrefix("cannot open \(path)"))
        }
    }

    @Test(arguments: StoreFixtures.backends) func aClosedStoreAnswers503(backend: StoreBackend) throws {
        let store = try StoreFixtures.store(backend)
        store.close()
        #expect(throws: DirectoryError.self) { try store.announce(StoreFixtures.record(try PrivateKey.generate(.ed25519), seq: 1)) }
    }

    @Test func backupCopiesALiveDatabase() throws {
        let store = try SQLiteRecordStore(path: StoreFixtures.temporaryDirectory() + "/permid.sqlite", sync: .normal)
        let key = try PrivateKey.generate(.ed25519)
        let record = StoreFixtures.record(key, seq: 2)
        _ = try store.announce(record)
        let copy = StoreFixtures.temporaryDirectory() + "/backup.sqlite"
        try store.backup(to: copy)
        let restored = try SQLiteRecordStore(path: copy)
        #expect(try restored.record(for: key.permID.bytes, now: StoreFixtures.now) == record)
    }
}
