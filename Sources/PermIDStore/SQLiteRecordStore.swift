import Foundation
import PermIDKit
import Synchronization

/// How hard SQLite works to make a commit survive power loss.
public enum SyncMode: String, Sendable, CaseIterable {
    /// Every commit is on disk before it is acknowledged (the default): its WAL frames are synced
    /// (`fdatasync`) by the writer's flusher thread while the writer commits the next batch.
    case full
    /// `synchronous=NORMAL`: in WAL mode commits survive a crash of permidd, but the last ones
    /// may be lost if the machine loses power.
    case normal
}

/// Why a store could not be opened.
public enum StoreOpenError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The database file could not be opened, read or written.
    case database(path: String, SQLiteError)
    /// The schema could not be brought up to date.
    case migration(MigrationError)
    /// The PostgreSQL database could not be reached or used (`location` has its password masked).
    case postgres(location: String, PostgresError)

    public var description: String {
        switch self {
        case .database(let path, let error):
            switch error.primaryCode {
            case 26: "\(path) is not a permid database (not an SQLite file, or corrupt)"
            case 8: "\(path) is read-only: permidd needs to write the database and its directory"
            case 14: "cannot open \(path): the file or its directory is missing or not accessible"
            case 13: "the disk holding \(path) is full"
            case 5, 6: "\(path) is locked by another process"
            default: "cannot use \(path): \(error.message)"
            }
        case .migration(let error): error.description
        case .postgres(let location, let error): "cannot use PostgreSQL at \(location): \(error)"
        }
    }
}

/// The SQLite ``RecordStore``: one writer connection behind a group-commit queue, and a pool of
/// read-only connections (WAL mode) for lookups, so reads never wait for a global lock.
public final class SQLiteRecordStore: RecordStore {
    private let writer: GroupCommitWriter<SQLiteWriterDatabase>
    private let readers: ReadConnectionPool
    /// The database file.
    public let path: String

    /// The writer connection's page cache, in KiB. An announcement writes a leaf at a random place in
    /// `records` and in `record_addresses`; with SQLite's default 2,000 KiB most of
    /// those leaves were read from the file again (`pread` was 4% of an announcement's CPU); 16 MiB
    /// keeps the tables' upper levels and recent leaves.
    static let writerCacheKibibytes = 16_384

    /// WAL pages after which a commit copies the WAL into the database file (SQLite's automatic
    /// checkpoint; its default is 1,000). Each announcement writes leaves at random places in
    /// `records` and `record_addresses`, and a checkpoint writes every page it copies to its place in
    /// the database file and syncs it; a leaf written several times between two checkpoints is copied
    /// once. Into a large database that copy is what limits announcements: at 1,000,000 records the
    /// disk took 15,000 random writes/s at 3.75 ms each, the WAL's sync queued behind them, and the same
    /// build on tmpfs took 7,059 announcements/s where the disk took 5,294. 8,000 pages measured +22%
    /// accepted/s over 1,000 into an empty database and +29% into 200,000 records. 32,000 pages (by an
    /// estimate, not a measurement: about 2.2 WAL pages per announcement, so one copy per about 14,500
    /// announcements rather than 3,600, and each `record_addresses` leaf copied about 40% less often
    /// at 1,000,000 records) measured there: durable Ed25519, 6 alternated rounds of 8 s on a host
    /// whose rate varied by a third from run to run, 32,000 was ahead in each (+2% to +62%), medians
    /// 5,368 → 5,886 accepted/s (+10%), random disk writes about 16,000 → 10,000/s; no change into an
    /// empty database. The WAL file grows to about this many pages (128 MiB at 4 KiB) and keeps that
    /// size once the WAL restarts. The price is latency: the commit that checkpoints stops the writer
    /// longer (announcement p99 at 1,000,000 records 99–160 → 197–275 ms under that saturating load),
    /// and a 90% resolve / 10% announce mix, whose WAL now grows longer between checkpoints, measured
    /// 3–6% fewer requests/s in 2 rounds (within this host's noise).
    /// A copy on a thread of its own (passive checkpoints on a second connection, restarting the WAL at
    /// this size) took the copy off the writer thread but not off the disk: no more announcements and
    /// no better p99, with 8,000 pages and before that.
    static let walCheckpointPages: Int32 = 32_000

    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    ///
    /// - Parameters:
    ///   - path: the SQLite file.
    ///   - sync: the durability mode.
    ///   - migrate: apply missing migrations; when `false`, a database that needs them is refused.
    ///   - maxBatch: the most announcements committed in one transaction.
    /// - Throws: ``StoreOpenError`` with a message fit for an operator.
    public convenience init(path: String, sync: SyncMode = .full, migrate: Bool = true, maxBatch: Int = 512) throws(StoreOpenError) {
        try self.init(path: path, sync: sync, migrate: migrate, maxBatch: maxBatch, walCheckpointPages: Self.walCheckpointPages)
    }

    /// As the public initializer, with the WAL pages after which a commit checkpoints (tests).
    init(path: String, sync: SyncMode, migrate: Bool, maxBatch: Int, walCheckpointPages: Int32) throws(StoreOpenError) {
        self.path = path
        let connection: SQLiteConnection
        do {
            connection = try SQLiteConnection(path: path, readOnly: false)
            try connection.execute("PRAGMA journal_mode=WAL")
            try connection.execute("PRAGMA synchronous=\(sync == .full ? "FULL" : "NORMAL")")
            try connection.execute("PRAGMA cache_size = -\(Self.writerCacheKibibytes)")
            try connection.execute("PRAGMA wal_autocheckpoint = \(walCheckpointPages)")
        } catch {
            throw .database(path: path, error)
        }
        do throws(MigrationError) {
            let migrator = Migrator(migrations: Migration.embedded)
            if migrate {
                _ = try migrator.migrate(connection, now: Int64(Date().timeIntervalSince1970))
            } else if try migrator.pending(connection) > 0 {
                throw MigrationError.needsMigration
            }
        } catch {
            throw .migration(error)
        }
        var wal: WALFile?
        if sync == .full {
            // From here the writer's flusher syncs the WAL after each commit (see WALFile); the
            // migrations above committed with synchronous=FULL.
            do {
                try connection.execute("PRAGMA synchronous=NORMAL")
            } catch {
                throw .database(path: path, error)
            }
            wal = WALFile(path: connection.walPath)
        }
        let readers = ReadConnectionPool(path: path)
        self.readers = readers
        writer = GroupCommitWriter(
            database: SQLiteWriterDatabase(connection: connection, committed: readers.committed, wal: wal), maxBatch: maxBatch,
            threadName: "permid-writer", flusherName: "permid-flusher")
    }

    deinit { writer.close() }

    /// Finishes queued writes and stops the writer. Later writes fail with a 503.
    public func close() { writer.close() }

    // MARK: - Writes

    public func submit(_ record: SignedRecord) -> OneShot<Result<AnnounceOutcome, DirectoryError>> {
        writer.submit { connection throws(SQLiteError) in try Self.apply(record, on: connection) }
            .map { $0.mapError(\.directoryError) }
    }

    public func stopWrites() { writer.abort() }

    public func probeWrite() -> OneShot<Result<Bool, DirectoryError>> {
        writer.submit { connection throws(SQLiteError) in
            try connection.execute(Self.probeSQL)
            return true
        }.map { $0.mapError(\.directoryError) }
    }

    /// Rewrites the newest migration's row with its own value: a committed write that changes nothing.
    static let probeSQL = "UPDATE schema_migrations SET applied_at = applied_at WHERE version = (SELECT max(version) FROM schema_migrations)"

    /// Applies several records in one transaction, each under the sequence rule (used by import and
    /// benchmark preloading). Returns each record's outcome in order.
    public func announce(batch records: [SignedRecord]) throws(DirectoryError) -> [AnnounceOutcome] {
        do {
            return try writer.perform { connection throws(SQLiteError) in
                var outcomes = [AnnounceOutcome]()
                outcomes.reserveCapacity(records.count)
                for record in records { outcomes.append(try Self.apply(record, on: connection)) }
                return outcomes
            }
        } catch {
            throw error.directoryError
        }
    }

    /// The sequence rule: a record is written only over a strictly lower stored seq, live or tombstone.
    /// Over a live row the upsert's WHERE clause decides and its affected-row count tells accepted
    /// from stale; over a tombstone the tombstone's seq decides, and an accepted record takes the
    /// PermID out of `tombstones`. Runs on the writer connection only.
    private static func apply(_ record: SignedRecord, on connection: SQLiteConnection) throws(SQLiteError) -> AnnounceOutcome {
        let previous = try connection.statement("SELECT seq, endpoints FROM records WHERE permid = ?")
        try previous.bind(record.permID.bytes, at: 1)
        var storedSeq: UInt64?
        var oldEndpoints: [UInt8]?
        if try previous.step() {
            storedSeq = UInt64(previous.int64(0))
            oldEndpoints = previous.blob(1)
        } else if let tombstoneSeq = try Self.tombstoneSeq(of: record.permID.bytes, on: connection) {
            guard record.seq > tombstoneSeq else { return .stale(storedSeq: tombstoneSeq) }
            storedSeq = tombstoneSeq
            let delete = try connection.statement("DELETE FROM tombstones WHERE permid = ?")
            try delete.bind(record.permID.bytes, at: 1)
            try delete.run()
        }

        let upsert = try connection.statement("""
            INSERT INTO records (permid, sig_alg, seq, issued_at, expires_at, endpoints, signature, sealed)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
            ON CONFLICT (permid) DO UPDATE SET
                sig_alg = excluded.sig_alg, seq = excluded.seq, issued_at = excluded.issued_at,
                expires_at = excluded.expires_at, endpoints = excluded.endpoints, signature = excluded.signature,
                sealed = excluded.sealed
            WHERE excluded.seq > records.seq
            """)
        try upsert.bind(record.permID.bytes, at: 1)
        try upsert.bind(Int64(record.scheme.code), at: 2)
        try upsert.bind(Int64(record.seq), at: 3)
        try upsert.bind(Int64(record.issuedAt), at: 4)
        try upsert.bind(Int64(record.expiresAt), at: 5)
        let stored = StoredContent(record.content)
        try upsert.bind(stored.endpoints, at: 6)
        try upsert.bind(record.signature, at: 7)
        try upsert.bind(stored.sealed, at: 8)
        try upsert.run()
        guard connection.changes == 1 else { return .stale(storedSeq: storedSeq ?? 0) }

        if let oldEndpoints, let old = Endpoint.decode(oldEndpoints) {
            try deleteAddresses(old, of: record.permID.bytes, on: connection)
        }
        for endpoint in record.endpoints {
            let insertAddress = try connection.statement("INSERT OR IGNORE INTO record_addresses (address, permid) VALUES (?, ?)")
            try insertAddress.bind(endpoint.address.bytes, at: 1)
            try insertAddress.bind(record.permID.bytes, at: 2)
            try insertAddress.run()
        }
        return storedSeq == nil ? .created : .replaced
    }

    /// The seq a tombstone keeps for `permID`, if it has one.
    private static func tombstoneSeq(of permID: [UInt8], on connection: SQLiteConnection) throws(SQLiteError) -> UInt64? {
        let select = try connection.statement("SELECT seq FROM tombstones WHERE permid = ?")
        try select.bind(permID, at: 1)
        return try select.step() ? UInt64(select.int64(0)) : nil
    }

    private static func deleteAddresses(_ endpoints: [Endpoint], of permID: [UInt8], on connection: SQLiteConnection) throws(SQLiteError) {
        for endpoint in endpoints {
            let delete = try connection.statement("DELETE FROM record_addresses WHERE address = ? AND permid = ?")
            try delete.bind(endpoint.address.bytes, at: 1)
            try delete.bind(permID, at: 2)
            try delete.run()
        }
    }

    /// Moves up to `limit` records expired at `now` out of `records`, leaving their PermID and seq in
    /// `tombstones`.
    public func sweep(now: UInt64, limit: Int) throws(DirectoryError) -> Int {
        do {
            return try writer.perform { connection throws(SQLiteError) in
                let expired = try connection.statement(
                    "SELECT permid, seq, endpoints FROM records WHERE expires_at <= ? AND signature IS NOT NULL LIMIT ?")
                try expired.bind(Int64(now), at: 1)
                try expired.bind(Int64(limit), at: 2)
                var rows = [(permID: [UInt8], seq: Int64, endpoints: [UInt8])]()
                while try expired.step() { rows.append((expired.blob(0) ?? [], expired.int64(1), expired.blob(2) ?? [])) }
                for row in rows {
                    try Self.deleteAddresses(Endpoint.decode(row.endpoints) ?? [], of: row.permID, on: connection)
                    let delete = try connection.statement("DELETE FROM records WHERE permid = ?")
                    try delete.bind(row.permID, at: 1)
                    try delete.run()
                    let tombstone = try connection.statement("INSERT INTO tombstones (permid, seq) VALUES (?, ?)")
                    try tombstone.bind(row.permID, at: 1)
                    try tombstone.bind(row.seq, at: 2)
                    try tombstone.run()
                }
                return rows.count
            }
        } catch {
            throw error.directoryError
        }
    }

    // MARK: - Reads

    private static let columns = "permid, sig_alg, seq, issued_at, expires_at, endpoints, signature, sealed"

    /// One live record by PermID (a static text: the statement cache is keyed by it, on every resolve).
    static let liveRecordSQL = "SELECT \(columns) FROM records WHERE permid = ? AND expires_at > ?"

    public func record(for permID: [UInt8], now: UInt64) throws(DirectoryError) -> SignedRecord? {
        try read { connection throws(SQLiteError) in
            let select = try connection.statement(Self.liveRecordSQL)
            try select.bind(permID, at: 1)
            try select.bind(Int64(now), at: 2)
            return try select.step() ? Self.record(from: select) : nil
        }
    }

    public func records(for permIDs: [[UInt8]], now: UInt64) throws(DirectoryError) -> [[UInt8]: SignedRecord] {
        try read { connection throws(SQLiteError) in
            var found = [[UInt8]: SignedRecord]()
            for permID in permIDs where found[permID] == nil {
                let select = try connection.statement(Self.liveRecordSQL)
                try select.bind(permID, at: 1)
                try select.bind(Int64(now), at: 2)
                if try select.step(), let record = Self.record(from: select) { found[permID] = record }
            }
            return found
        }
    }

    /// A page of live records after a cursor. `records` holds no tombstones (schema version 4 keeps
    /// them in `tombstones`), so a page walks the primary key and reads its own rows and the expired
    /// ones not yet swept.
    static let listSQL = """
        SELECT \(columns) FROM records
        WHERE permid > ?2 AND expires_at > ?3
        ORDER BY permid LIMIT ?4
        """

    /// A page of live records with an endpoint at an address. `record_addresses` holds only rows of
    /// records with a signature (sweeping and replacing delete the others), so this too reads only the page.
    static let listByAddressSQL = """
        SELECT r.permid, r.sig_alg, r.seq, r.issued_at, r.expires_at, r.endpoints, r.signature, r.sealed
        FROM record_addresses a JOIN records r ON r.permid = a.permid
        WHERE a.address = ?1 AND a.permid > ?2 AND r.expires_at > ?3
        ORDER BY a.permid LIMIT ?4
        """

    public func list(after cursor: [UInt8]?, address: IPAddress?, limit: Int, now: UInt64) throws(DirectoryError) -> RecordPage {
        try read { connection throws(SQLiteError) in
            let select: SQLiteStatement
            if let address {
                select = try connection.statement(Self.listByAddressSQL)
                try select.bind(address.bytes, at: 1)
            } else {
                select = try connection.statement(Self.listSQL)
            }
            try select.bind(cursor ?? [], at: 2)
            try select.bind(Int64(now), at: 3)
            try select.bind(Int64(limit + 1), at: 4)
            var records = [SignedRecord]()
            while try select.step() {
                if let record = Self.record(from: select) { records.append(record) }
            }
            let more = records.count > limit
            if more { records.removeLast(records.count - limit) }
            return RecordPage(records: records, nextCursor: more ? records.last?.permID.bytes : nil)
        }
    }

    /// The counts, from the one-row `record_counts` table the schema's triggers keep exact, less the
    /// signed rows that have expired at `?1` but are not yet swept (found through partial indexes on
    /// `expires_at`, so this reads only those, which the sweeper keeps few).
    static let countsSQL = """
        SELECT c.records,
               c.signed - (SELECT count(*) FROM records WHERE signature IS NOT NULL AND expires_at <= ?1),
               c.withdrawals - (SELECT count(*) FROM records WHERE signature IS NOT NULL AND endpoints = x'' AND expires_at <= ?1),
               (SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size())
        FROM record_counts c WHERE c.id = 0
        """

    public func counts(now: UInt64) throws(DirectoryError) -> StoreCounts {
        try read { connection throws(SQLiteError) in
            let select = try connection.statement(Self.countsSQL)
            try select.bind(Int64(now), at: 1)
            guard try select.step() else { throw .corrupt("record_counts has no row") }
            return StoreCounts(
                records: Int(select.int64(0)), live: Int(select.int64(1)), withdrawn: Int(select.int64(2)),
                storageBytes: Int(select.int64(3)))
        }
    }

    public func checkHealth() throws(DirectoryError) {
        try read { connection throws(SQLiteError) in
            let select = try connection.statement("SELECT count(*) FROM schema_migrations")
            _ = try select.step()
        }
    }

    /// Copies the database to `destination` with SQLite's online backup API, while others keep using it.
    public func backup(to destination: String) throws(DirectoryError) {
        try read(fresh: true) { connection throws(SQLiteError) in try connection.backup(to: destination) }
    }

    private func read<T>(fresh: Bool = false, _ body: (SQLiteConnection) throws(SQLiteError) -> T) throws(DirectoryError) -> T {
        do {
            return try readers.withConnection(fresh: fresh, body)
        } catch {
            throw error.directoryError
        }
    }

    /// A record from the current row, in the column order of ``columns``.
    private static func record(from row: SQLiteStatement) -> SignedRecord? {
        guard let permIDBytes = row.blob(0), let permID = PermID(canonicalLayout: permIDBytes),
              let scheme = SignatureScheme(code: UInt8(truncatingIfNeeded: row.int64(1))),
              let content = StoredContent(endpoints: row.blob(5), sealed: row.blob(7)).content,
              let signature = row.blob(6)
        else { return nil }
        return SignedRecord(
            permID: permID, scheme: scheme, seq: UInt64(row.int64(2)), issuedAt: UInt64(row.int64(3)),
            expiresAt: UInt64(row.int64(4)), content: content, signature: signature)
    }
}

/// Read-only connections handed to one thread at a time; opened on demand, kept for reuse.
///
/// A connection keeps its read transaction, and so its snapshot of the database, from one use to the
/// next while nothing has been committed since it began: beginning and ending a read transaction costs
/// SQLite file-lock system calls and an `fstat`, more than finding a cached page (a resolve at 1,000
/// records was 20 µs of server CPU with them and 12 µs without). The writer calls ``committed()``
/// after every commit and before answering any of its writes, so a read that starts after an answer
/// never uses a snapshot from before it; the snapshots of idle connections are let go at once, so none
/// holds up checkpoints. Commits by another process (an import into a served database) are seen
/// within ``snapshotLifetime``.
final class ReadConnectionPool: Sendable {
    /// The page cache of each read connection, in KiB (SQLite's default is 2,000).
    ///
    /// A resolve reads a leaf of `records` at a random place: 8 MiB holds the interior pages of
    /// `records` at 1,000,000 records (1,506 pages, 6 MiB: an interior cell of a WITHOUT ROWID table
    /// holds a whole row; SQLite's `dbstat`), so a lookup reads one page from the file at most.
    /// (A listing page reads consecutive rows of `records`, about 40 leaves for 1,000 records.)
    static let cacheKibibytes = 8_192
    /// The longest a snapshot is reused when this process commits nothing.
    static let snapshotLifetime: Duration = .milliseconds(100)

    private struct State {
        var idle: [ReadConnection] = []
        /// Commits so far by this store's writer.
        var generation: UInt64 = 0
    }

    private let path: String
    private let state = Mutex(State())

    init(path: String) { self.path = path }

    /// Runs `body` with a connection no other thread is using, in a snapshot that holds every write
    /// this store has acknowledged; `fresh` asks for a new snapshot (one that also holds what other
    /// processes committed just now).
    func withConnection<T>(fresh: Bool = false, _ body: (SQLiteConnection) throws(SQLiteError) -> T) throws(SQLiteError) -> T {
        let (reused, generation) = state.withLock { ($0.idle.popLast(), $0.generation) }
        let reader: ReadConnection
        if let reused { reader = reused } else { reader = try ReadConnection(path: path) }
        let result: T
        do throws(SQLiteError) {
            try reader.useSnapshot(generation: generation, fresh: fresh)
            result = try body(reader.connection)
        } catch {
            reader.endSnapshot()
            checkIn(reader)
            throw error
        }
        checkIn(reader)
        return result
    }

    /// Makes every snapshot taken before now stale, and ends those of idle connections. Called by
    /// the writer after each commit, before it answers the batch's writes.
    func committed() {
        let idle = state.withLock { state in
            state.generation &+= 1
            defer { state.idle.removeAll(keepingCapacity: true) }
            return state.idle
        }
        guard !idle.isEmpty else { return }
        for reader in idle { reader.endSnapshot() }
        state.withLock { $0.idle.append(contentsOf: idle) }
    }

    /// Returns a connection to the idle list, ending its snapshot first if a commit made it stale.
    private func checkIn(_ reader: ReadConnection) {
        reader.connection.resetStatements()
        let kept = state.withLock { state in
            guard reader.snapshotGeneration == nil || reader.snapshotGeneration == state.generation else { return false }
            state.idle.append(reader)
            return true
        }
        guard !kept else { return }
        reader.endSnapshot()
        state.withLock { $0.idle.append(reader) }
    }
}

/// A read-only connection and the read transaction it keeps open between uses. Used by one thread
/// at a time (the pool's caller, or the writer ending idle snapshots).
private final class ReadConnection: @unchecked Sendable {
    // @unchecked Sendable: ReadConnectionPool hands a connection to one thread at a time.
    let connection: SQLiteConnection
    /// The writer's generation when the open read transaction began; `nil` when none is open.
    private(set) var snapshotGeneration: UInt64?
    private var snapshotBegan = ContinuousClock.now

    init(path: String) throws(SQLiteError) {
        connection = try SQLiteConnection(path: path, readOnly: true)
        try connection.execute("PRAGMA cache_size = -\(ReadConnectionPool.cacheKibibytes)")
    }

    /// Keeps the open read transaction if it is current, else begins a new one.
    func useSnapshot(generation: UInt64, fresh: Bool) throws(SQLiteError) {
        if !fresh, snapshotGeneration == generation, ContinuousClock.now - snapshotBegan < ReadConnectionPool.snapshotLifetime { return }
        endSnapshot()
        // A deferred BEGIN: the snapshot is taken by the first read, after `generation` was read, so
        // it holds at least the commits that generation counts.
        try connection.execute("BEGIN")
        snapshotGeneration = generation
        snapshotBegan = .now
    }

    /// Ends the open read transaction, if any (ending a read transaction writes nothing).
    func endSnapshot() {
        guard snapshotGeneration != nil else { return }
        snapshotGeneration = nil
        try? connection.execute("COMMIT")
    }
}
