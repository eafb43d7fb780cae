import Foundation
import PermIDKit
import Synchronization

/// The PostgreSQL ``RecordStore``, for several permidd nodes sharing one database: one writer
/// connection per node behind a group-commit queue, and a pool of connections with prepared
/// statements for lookups. The sequence rule is one atomic upsert, so nodes need no coordination
/// beyond PostgreSQL's row locks; sweeping takes expired rows with `FOR UPDATE SKIP LOCKED`, so
/// nodes sweeping together share the work. Every PostgreSQL failure is a 503, and a lost
/// connection is replaced on next use.
public final class PostgresRecordStore: DatabaseRecordStore {
    private let writer: GroupCommitWriter<PostgresWriterDatabase>
    private let readers: PostgresConnectionPool
    private let connectionString: PostgresConnectionString
    private let listeners = Mutex<[PostgresChangeListener]>([])

    /// The connection string with its password masked.
    public var location: String { connectionString.description }

    /// Connects to the database at `connectionString` and brings its schema up to date (once, even
    /// when several nodes start together: they serialize on an advisory lock).
    ///
    /// - Parameters:
    ///   - connectionString: where the database is.
    ///   - migrate: apply missing migrations; when `false`, a database that needs them is refused.
    ///   - maxBatch: the most announcements committed in one transaction.
    /// - Throws: ``StoreOpenError`` with a message fit for an operator, password masked.
    public init(connectionString: PostgresConnectionString, migrate: Bool = true, maxBatch: Int = 512) throws(StoreOpenError) {
        self.connectionString = connectionString
        let connection: PostgresConnection
        do {
            connection = try PostgresConnection(connectionString)
        } catch {
            throw .postgres(location: connectionString.description, error)
        }
        do throws(MigrationError) {
            _ = try PostgresMigrator(migrations: Migration.embeddedPostgres)
                .migrate(connection, apply: migrate, now: Int64(Date().timeIntervalSince1970))
        } catch {
            throw .migration(error)
        }
        writer = GroupCommitWriter(
            database: PostgresWriterDatabase(connection: connection, location: connectionString), maxBatch: maxBatch,
            threadName: "permid-pg-writer")
        readers = PostgresConnectionPool(location: connectionString)
    }

    deinit { close() }

    public func close() {
        for listener in listeners.withLock({ $0 }) { listener.stop() }
        writer.close()
    }

    /// Listens (`LISTEN permid_records`, on a connection of its own) for the records every node stores.
    public func observeStoredRecords(_ body: @escaping @Sendable (_ permID: [UInt8]) -> Void) {
        let listener = PostgresChangeListener(location: connectionString, stored: body)
        listeners.withLock { $0.append(listener) }
    }

    // MARK: - Writes

    public func submit(_ record: SignedRecord) -> OneShot<Result<AnnounceOutcome, DirectoryError>> {
        writer.submit(key: record.permID.bytes) { connection throws(PostgresError) in try Self.apply(record, on: connection) }
            .map { $0.mapError(\.directoryError) }
    }

    public func stopWrites() { writer.abort() }

    public func probeWrite() -> OneShot<Result<Bool, DirectoryError>> {
        writer.submit { connection throws(PostgresError) in
            try connection.execute(SQLiteRecordStore.probeSQL)
            return true
        }.map { $0.mapError(\.directoryError) }
    }

    public func announce(batch records: [SignedRecord]) throws(DirectoryError) -> [AnnounceOutcome] {
        do {
            return try writer.perform { connection throws(PostgresError) in
                try records.map { record throws(PostgresError) in try Self.apply(record, on: connection) }
            }
        } catch {
            throw error.directoryError
        }
    }

    /// The sequence rule as one atomic statement: the upsert writes only a strictly greater seq, and
    /// returns a row only when it wrote (`xmax = 0` for a new row). When it returns none, the
    /// conflicting row stays locked by this transaction, so the seq read next is the one that refused it.
    static let upsertSQL = """
        INSERT INTO records AS r (permid, sig_alg, seq, issued_at, expires_at, endpoints, signature, sealed)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
        ON CONFLICT (permid) DO UPDATE SET
            sig_alg = excluded.sig_alg, seq = excluded.seq, issued_at = excluded.issued_at,
            expires_at = excluded.expires_at, endpoints = excluded.endpoints, signature = excluded.signature,
            sealed = excluded.sealed
        WHERE r.seq < excluded.seq
        RETURNING (r.xmax = 0)
        """

    private static func apply(_ record: SignedRecord, on connection: PostgresConnection) throws(PostgresError) -> AnnounceOutcome {
        let permID = record.permID.bytes
        let stored = StoredContent(record.content)
        let written = try connection.query(upsertSQL, [
            .bytes(permID), .int64(Int64(record.scheme.code)), .int64(Int64(record.seq)), .int64(Int64(record.issuedAt)),
            .int64(Int64(record.expiresAt)), .bytes(stored.endpoints), .bytes(record.signature), .bytes(stored.sealed),
        ])
        guard written.count == 1 else {
            let stored = try connection.query("SELECT seq FROM records WHERE permid = $1", [.bytes(permID)])
            return .stale(storedSeq: stored.count == 1 ? UInt64(stored.int64(0, 0)) : 0)
        }
        let created = written.int64(0, 0) != 0
        if !created {
            _ = try connection.query("DELETE FROM record_addresses WHERE permid = $1", [.bytes(permID)])
        }
        for address in Set(record.endpoints.map(\.address.bytes)) {
            _ = try connection.query(
                "INSERT INTO record_addresses (address, permid) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                [.bytes(address), .bytes(permID)])
        }
        return created ? .created : .replaced
    }

    /// Turns up to `$2` expired records into tombstones, skipping rows another node is sweeping or
    /// writing, and deletes their addresses.
    static let sweepSQL = """
        WITH expired AS (
            SELECT permid FROM records WHERE expires_at <= $1 AND signature IS NOT NULL
            ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED
        ), addresses AS (
            DELETE FROM record_addresses WHERE permid IN (SELECT permid FROM expired)
        )
        UPDATE records r SET endpoints = NULL, signature = NULL, sealed = NULL
        FROM expired e WHERE r.permid = e.permid
        RETURNING r.permid
        """

    /// Folds the count deltas the trigger appended into the one counts row.
    static let foldCountsSQL = """
        WITH folded AS (DELETE FROM record_count_deltas RETURNING records, signed, withdrawals)
        UPDATE record_counts SET
            records = records + coalesce((SELECT sum(records) FROM folded), 0),
            signed = signed + coalesce((SELECT sum(signed) FROM folded), 0),
            withdrawals = withdrawals + coalesce((SELECT sum(withdrawals) FROM folded), 0)
        WHERE id = 0
        """

    public func sweep(now: UInt64, limit: Int) throws(DirectoryError) -> Int {
        do {
            return try writer.perform { connection throws(PostgresError) in
                let swept = try connection.query(Self.sweepSQL, [.int64(Int64(now)), .int64(Int64(limit))])
                _ = try connection.query(Self.foldCountsSQL)
                return swept.count
            }
        } catch {
            throw error.directoryError
        }
    }

    // MARK: - Reads

    private static let columns = "permid, sig_alg, seq, issued_at, expires_at, endpoints, signature, sealed"

    static let recordSQL = "SELECT \(columns) FROM records WHERE permid = $1 AND expires_at > $2 AND signature IS NOT NULL"

    public func record(for permID: [UInt8], now: UInt64) throws(DirectoryError) -> SignedRecord? {
        try read { connection throws(PostgresError) in
            let rows = try connection.query(Self.recordSQL, [.bytes(permID), .int64(Int64(now))])
            return rows.count == 1 ? Self.record(from: rows, row: 0) : nil
        }
    }

    public func records(for permIDs: [[UInt8]], now: UInt64) throws(DirectoryError) -> [[UInt8]: SignedRecord] {
        try read { connection throws(PostgresError) in
            var found = [[UInt8]: SignedRecord]()
            for permID in permIDs where found[permID] == nil {
                let rows = try connection.query(Self.recordSQL, [.bytes(permID), .int64(Int64(now))])
                if rows.count == 1, let record = Self.record(from: rows, row: 0) { found[permID] = record }
            }
            return found
        }
    }

    /// A page of live records after a cursor, through the partial index `records_live`, which holds
    /// only rows with a signature: a page reads its own rows and the expired ones not yet swept,
    /// never tombstones.
    static let listSQL = """
        SELECT \(columns) FROM records
        WHERE permid > $1 AND expires_at > $2 AND signature IS NOT NULL
        ORDER BY permid LIMIT $3
        """

    /// A page of live records with an endpoint at an address; `record_addresses` holds only rows of
    /// records with a signature, so this too reads only the page.
    static let listByAddressSQL = """
        SELECT r.permid, r.sig_alg, r.seq, r.issued_at, r.expires_at, r.endpoints, r.signature, r.sealed
        FROM record_addresses a JOIN records r ON r.permid = a.permid
        WHERE a.permid > $1 AND r.expires_at > $2 AND r.signature IS NOT NULL AND a.address = $4
        ORDER BY a.permid LIMIT $3
        """

    public func list(after cursor: [UInt8]?, address: IPAddress?, limit: Int, now: UInt64) throws(DirectoryError) -> RecordPage {
        try read { connection throws(PostgresError) in
            var parameters: [PostgresValue] = [.bytes(cursor ?? []), .int64(Int64(now)), .int64(Int64(limit + 1))]
            if let address { parameters.append(.bytes(address.bytes)) }
            let rows = try connection.query(address == nil ? Self.listSQL : Self.listByAddressSQL, parameters)
            var records = (0..<rows.count).compactMap { Self.record(from: rows, row: $0) }
            let more = records.count > limit
            if more { records.removeLast(records.count - limit) }
            return RecordPage(records: records, nextCursor: more ? records.last?.permID.bytes : nil)
        }
    }

    /// The counts: the counts row plus the deltas not yet folded, less the signed rows expired at
    /// `$1` but not yet swept (read through partial indexes on `expires_at`; the sweeper keeps them few).
    static let countsSQL = """
        SELECT (c.records + coalesce(d.records, 0))::bigint,
               (c.signed + coalesce(d.signed, 0)
                - (SELECT count(*) FROM records WHERE signature IS NOT NULL AND expires_at <= $1))::bigint,
               (c.withdrawals + coalesce(d.withdrawals, 0)
                - (SELECT count(*) FROM records WHERE signature IS NOT NULL AND endpoints = ''::bytea AND expires_at <= $1))::bigint,
               (pg_total_relation_size('records') + pg_total_relation_size('record_addresses'))::bigint
        FROM record_counts c,
             (SELECT sum(records) AS records, sum(signed) AS signed, sum(withdrawals) AS withdrawals FROM record_count_deltas) d
        WHERE c.id = 0
        """

    public func counts(now: UInt64) throws(DirectoryError) -> StoreCounts {
        try read { connection throws(PostgresError) in
            let rows = try connection.query(Self.countsSQL, [.int64(Int64(now))])
            guard rows.count == 1 else { throw PostgresError(message: "record_counts has no row") }
            return StoreCounts(
                records: Int(rows.int64(0, 0)), live: Int(rows.int64(0, 1)), withdrawn: Int(rows.int64(0, 2)),
                storageBytes: Int(rows.int64(0, 3)))
        }
    }

    public func checkHealth() throws(DirectoryError) {
        try read { connection throws(PostgresError) in _ = try connection.query("SELECT count(*) FROM schema_migrations") }
    }

    private func read<T>(_ body: (PostgresConnection) throws(PostgresError) -> T) throws(DirectoryError) -> T {
        do {
            return try readers.withConnection(body)
        } catch {
            throw error.directoryError
        }
    }

    /// A record from `row`, in the column order of ``columns``.
    private static func record(from rows: PostgresResult, row: Int) -> SignedRecord? {
        guard let permIDBytes = rows.bytes(row, 0), let permID = PermID(canonicalLayout: permIDBytes),
              let scheme = SignatureScheme(code: UInt8(truncatingIfNeeded: rows.int64(row, 1))),
              let content = StoredContent(endpoints: rows.bytes(row, 5), sealed: rows.bytes(row, 7)).content,
              let signature = rows.bytes(row, 6)
        else { return nil }
        return SignedRecord(
            permID: permID, scheme: scheme, seq: UInt64(rows.int64(row, 2)), issuedAt: UInt64(rows.int64(row, 3)),
            expiresAt: UInt64(rows.int64(row, 4)), content: content, signature: signature)
    }
}

/// Connections handed to one thread at a time; opened on demand, kept for reuse while they work.
final class PostgresConnectionPool: Sendable {
    private let location: PostgresConnectionString
    private let idle = Mutex<[PostgresConnection]>([])

    init(location: PostgresConnectionString) { self.location = location }

    /// Runs `body` with a connection no other thread is using. A read that fails because a pooled
    /// connection was lost (the server restarted) runs once more on a new connection.
    func withConnection<T>(_ body: (PostgresConnection) throws(PostgresError) -> T) throws(PostgresError) -> T {
        let reused = idle.withLock { $0.popLast() }
        if let reused {
            do {
                return try run(body, on: reused)
            } catch where !error.connectionLost {
                throw error
            }
        }
        return try run(body, on: PostgresConnection(location))
    }

    private func run<T>(_ body: (PostgresConnection) throws(PostgresError) -> T, on connection: PostgresConnection) throws(PostgresError) -> T {
        defer { if !connection.isBroken { idle.withLock { $0.append(connection) } } }
        return try body(connection)
    }
}
