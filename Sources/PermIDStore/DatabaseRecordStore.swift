import PermIDKit

/// A ``RecordStore`` on a database permidd opens and closes itself: SQLite (``SQLiteRecordStore``)
/// or PostgreSQL (``PostgresRecordStore``). What `permidd` needs beyond the HTTP seam.
public protocol DatabaseRecordStore: RecordStore {
    /// Where the database is, fit for logs: a file path, or a connection string with its password masked.
    var location: String { get }

    /// Finishes queued writes and stops the writer. Later writes fail with a 503.
    func close()

    /// Applies several records in one transaction, each under the sequence rule (import and
    /// benchmark preloading). Returns each record's outcome in order.
    func announce(batch records: [SignedRecord]) throws(DirectoryError) -> [AnnounceOutcome]
}

extension SQLiteRecordStore: DatabaseRecordStore {
    public var location: String { path }
}
