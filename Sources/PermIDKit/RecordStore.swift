
/// What happened to an announcement handed to a ``RecordStore``.
public enum AnnounceOutcome: Hashable, Sendable {
    /// Stored; the directory had never stored anything for this PermID (HTTP 201).
    case created
    /// Stored, replacing a record with a lower `seq` (HTTP 200).
    case replaced
    /// Refused: the stored `seq` (live or tombstone) is greater than or equal to the record's (HTTP 409).
    case stale(storedSeq: UInt64)
}

/// Counts of what a store holds at a moment.
public struct StoreCounts: Hashable, Sendable {
    /// PermIDs ever stored, tombstones included.
    public var records: Int
    /// Records not yet expired, withdrawals included.
    public var live: Int
    /// Live records with no endpoints.
    public var withdrawn: Int
    /// Bytes the backend uses to hold them.
    public var storageBytes: Int

    /// Makes a set of counts.
    public init(records: Int, live: Int, withdrawn: Int, storageBytes: Int) {
        self.records = records
        self.live = live
        self.withdrawn = withdrawn
        self.storageBytes = storageBytes
    }
}

/// One page of a listing, in PermID byte order.
public struct RecordPage: Hashable, Sendable {
    /// The live records on this page.
    public var records: [SignedRecord]
    /// The PermID bytes to continue after, or `nil` on the last page.
    public var nextCursor: [UInt8]?

    /// Makes a page.
    public init(records: [SignedRecord], nextCursor: [UInt8]?) {
        self.records = records
        self.nextCursor = nextCursor
    }
}

/// The seam between the HTTP layer and a storage backend: no backend types cross it, and every
/// failure is a ``DirectoryError`` (``DirectoryError/serviceUnavailable(_:)`` for storage faults).
///
/// Implementations are safe to call from many threads at once.
public protocol RecordStore: Sendable {
    /// Submits `record`, to be stored if its `seq` is greater than any ever stored for its PermID,
    /// atomically. The returned one-shot is fulfilled (on a thread of the store's) once the outcome is durable.
    func submit(_ record: SignedRecord) -> OneShot<Result<AnnounceOutcome, DirectoryError>>

    /// Stops taking writes, for shutdown: writes queued or waiting on a lock fail at once with
    /// ``DirectoryError/serviceUnavailable(_:)``, and later ones too. Returns when no write is in progress.
    func stopWrites()

    /// The live record for a PermID's binary form, or `nil` if none is stored or it has expired at `now`.
    func record(for permID: [UInt8], now: UInt64) throws(DirectoryError) -> SignedRecord?

    /// The live records among several PermIDs, keyed by binary form.
    func records(for permIDs: [[UInt8]], now: UInt64) throws(DirectoryError) -> [[UInt8]: SignedRecord]

    /// Up to `limit` live records with PermID after `cursor`, optionally only those with an endpoint at `address`.
    /// Costs the page, not the tombstones between its records.
    func list(after cursor: [UInt8]?, address: IPAddress?, limit: Int, now: UInt64) throws(DirectoryError) -> RecordPage

    /// Counts of records, live records and withdrawals at `now`, and the storage they take, without
    /// reading every record (`/metrics` and `/v1/stats` ask on every request).
    func counts(now: UInt64) throws(DirectoryError) -> StoreCounts

    /// Turns up to `limit` records expired at `now` into tombstones (keeping their `seq`); returns how many.
    func sweep(now: UInt64, limit: Int) throws(DirectoryError) -> Int

    /// Runs a real query, throwing if the backend cannot answer.
    func checkHealth() throws(DirectoryError)

    /// Makes a real write through the writer (a row rewritten with its own value, committed), for
    /// readiness: the one-shot holds the failure when writes fail (full disk, read-only, locked,
    /// database down, shutting down).
    func probeWrite() -> OneShot<Result<Bool, DirectoryError>>

    /// Calls `body`, on a thread of the store's, with the PermID (binary form) of records that other
    /// writers of the same database (other nodes) store, as the store hears of them; it may also name
    /// records this process stored. A store nobody else writes need never call it.
    func observeStoredRecords(_ body: @escaping @Sendable (_ permID: [UInt8]) -> Void)
}

extension RecordStore {
    /// No other writers to hear from.
    public func observeStoredRecords(_ body: @escaping @Sendable (_ permID: [UInt8]) -> Void) {}

    /// Stores `record` under the sequence rule and returns once the outcome is durable.
    public func announce(_ record: SignedRecord) throws(DirectoryError) -> AnnounceOutcome {
        try submit(record).wait().get()
    }
}
