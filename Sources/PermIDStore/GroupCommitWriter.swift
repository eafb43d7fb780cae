import Dispatch
import Foundation
import PermIDKit
import Synchronization

/// The single writer of a database: a thread that takes every job queued since its last commit,
/// hands them to its ``WriterDatabase`` to run in one transaction, and fulfils each job's one-shot
/// only after that transaction has committed (group commit). A batch that fails rolls back, and
/// every job in it gets the error. The same writer serves SQLite and PostgreSQL; what differs (the
/// transaction, ordering, retries, interrupting a wait) is the database's.
///
/// A database whose commits become durable only when it is flushed (``WriterDatabase/flushesApart``:
/// SQLite, whose WAL is synced apart from the commit) gets a second thread, the flusher: the writer
/// hands it each committed batch and goes on to the next one while the flusher syncs, and the jobs
/// are fulfilled once a flush that began after their commit has succeeded, or with its error.
final class GroupCommitWriter<Database: WriterDatabase>: Sendable {
    typealias Connection = Database.Connection
    typealias Failure = Database.Failure

    private struct State {
        var queue: [any QueuedJob<Connection, Failure>] = []
        var closed = false
    }

    private let database: Database
    private let maxBatch: Int
    private let state = Mutex(State())
    private let wake = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)
    private let threadEnded = Atomic(false)
    /// Committed batches waiting for the flusher, and whether the writer has ended.
    private let flushing = Mutex((batches: [[any QueuedJob<Connection, Failure>]](), writerEnded: false))
    private let flushWake = DispatchSemaphore(value: 0)
    private let flusherEnded = DispatchSemaphore(value: 0)

    /// Starts the writer thread on `database`, whose connection nothing else may use afterwards, and
    /// the flusher thread when the database flushes apart (named `threadName` and `flusherName`).
    init(database: Database, maxBatch: Int, threadName: String, flusherName: String = "") {
        self.database = database
        self.maxBatch = maxBatch
        let thread = Thread { [self] in run() }
        thread.name = threadName
        thread.start()
        if database.flushesApart {
            let flusher = Thread { [self] in flush() }
            flusher.name = flusherName
            flusher.start()
        }
    }

    /// Queues `job` (with `key`, the PermID it writes, for databases that order a batch's writes);
    /// the one-shot holds what it returned once its batch has committed, or the error.
    func submit<T: Sendable>(key: [UInt8] = [], _ job: @escaping @Sendable (Connection) throws(Failure) -> T) -> OneShot<Result<T, Failure>> {
        let queued = Job<Database, T>(key: key, job)
        let accepted = state.withLock { state in
            guard !state.closed else { return false }
            state.queue.append(queued)
            return true
        }
        guard accepted else {
            queued.finish(Database.closed)
            return queued.result
        }
        wake.signal()
        return queued.result
    }

    /// Queues `job`, blocks until its batch has committed, and returns what the job returned.
    func perform<T: Sendable>(_ job: @escaping @Sendable (Connection) throws(Failure) -> T) throws(Failure) -> T {
        try submit(job).wait().get()
    }

    /// Finishes the queued jobs, stops the thread and waits for it. Idempotent.
    func close() { stop(failingQueued: false) }

    /// Stops at once: queued jobs fail with ``WriterDatabase/closed``, a batch waiting on the
    /// database gives up (and fails), and the thread ends. Returns when it has. Idempotent.
    func abort() { stop(failingQueued: true) }

    private func stop(failingQueued: Bool) {
        let dropped = state.withLock { state -> [any QueuedJob<Connection, Failure>] in
            state.closed = true
            guard failingQueued else { return [] }
            defer { state.queue = [] }
            return state.queue
        }
        if failingQueued { database.interrupt() }
        for job in dropped { job.finish(Database.closed) }
        wake.signal()
        // Every caller waits for the thread's end; the first to see it passes the signal on.
        if !threadEnded.load(ordering: .acquiring) {
            finished.wait()
            finished.signal()
        }
    }

    private func run() {
        while true {
            wake.wait()
            while true {
                let (batch, closed) = state.withLock { state in
                    let count = min(state.queue.count, maxBatch)
                    let batch = Array(state.queue.prefix(count))
                    state.queue.removeFirst(count)
                    return (batch, state.closed && state.queue.isEmpty)
                }
                if !batch.isEmpty {
                    let outcome = database.commit(batch)
                    if outcome == nil && database.flushesApart {
                        flushing.withLock { $0.batches.append(batch) }
                        flushWake.signal()
                    } else {
                        for job in batch { job.finish(outcome) }
                    }
                }
                if closed && batch.isEmpty {
                    if database.flushesApart {
                        flushing.withLock { $0.writerEnded = true }
                        flushWake.signal()
                        flusherEnded.wait()
                    }
                    database.writerEnded()
                    threadEnded.store(true, ordering: .releasing)
                    finished.signal()
                    return
                }
                if batch.isEmpty { break }
            }
        }
    }

    /// The flusher thread: flushes once for every batch committed since its last flush, and fulfils
    /// their jobs. Ends after the writer has, with nothing left to flush.
    private func flush() {
        while true {
            flushWake.wait()
            let (batches, writerEnded) = flushing.withLock { state in
                defer { state.batches = [] }
                return (state.batches, state.writerEnded)
            }
            if !batches.isEmpty {
                let outcome = database.flush()
                for batch in batches {
                    for job in batch { job.finish(outcome) }
                }
            }
            if writerEnded {
                flusherEnded.signal()
                return
            }
        }
    }
}

/// What a ``GroupCommitWriter`` needs of its database.
protocol WriterDatabase: Sendable {
    /// What a job writes with.
    associatedtype Connection
    /// How a write fails.
    associatedtype Failure: Error
    /// What a job gets once the writer is closed.
    static var closed: Failure { get }
    /// What a job gets whose batch committed without giving it a value (a bug, never a crash).
    static var noResult: Failure { get }
    /// Runs `batch` in one transaction and commits it (writer thread): `nil`, or why it failed.
    func commit(_ batch: [any QueuedJob<Connection, Failure>]) -> Failure?
    /// Makes a batch that waits on the database (a lock, a query) give up now. Any thread.
    func interrupt()
    /// The writer thread has ended (writer thread).
    func writerEnded()
    /// Whether a committed batch is durable only once ``flush()`` has returned, rather than when its
    /// commit has (then a flusher thread flushes while the writer commits the next batch).
    var flushesApart: Bool { get }
    /// Makes every batch committed so far durable (flusher thread): `nil`, or why it failed.
    func flush() -> Failure?
}

extension WriterDatabase {
    var flushesApart: Bool { false }
    func flush() -> Failure? { nil }
}

/// A queued job, whatever it returns.
protocol QueuedJob<Connection, Failure>: Sendable {
    associatedtype Connection
    associatedtype Failure: Error
    /// The PermID it writes (empty when none), for databases that order a batch's writes.
    var key: [UInt8] { get }
    /// Runs the job inside the batch's transaction (writer thread).
    func run(on connection: Connection) throws(Failure)
    /// Delivers the job's value, or `error` when its batch failed (writer thread, after the commit).
    func finish(_ error: Failure?)
}

/// One job and the one-shot its caller holds.
private final class Job<Database: WriterDatabase, T: Sendable>: QueuedJob, @unchecked Sendable {
    typealias Connection = Database.Connection
    typealias Failure = Database.Failure
    // @unchecked Sendable: `value` is written by `run` on the writer thread and read by `finish`, on the
    // writer thread or on the flusher's after the batch has passed through the writer's `flushing`
    // mutex (or by `finish` alone, on the caller's thread, for a job refused before it was queued);
    // `body` is @Sendable.
    let key: [UInt8]
    private let body: @Sendable (Connection) throws(Failure) -> T
    private var value: T?
    let result = OneShot<Result<T, Failure>>()

    init(key: [UInt8], _ body: @escaping @Sendable (Connection) throws(Failure) -> T) {
        self.key = key
        self.body = body
    }

    func run(on connection: Connection) throws(Failure) { value = try body(connection) }

    func finish(_ error: Failure?) {
        if let error {
            result.fulfill(.failure(error))
        } else if let value {
            result.fulfill(.success(value))
        } else {
            result.fulfill(.failure(Database.noResult))
        }
    }
}

/// SQLite under a ``GroupCommitWriter``: one transaction per batch on the writer connection; stopping
/// makes a wait for another process's lock give up. With a `wal`, the connection commits with
/// `synchronous=NORMAL` (the WAL written, not synced) and a batch is durable once the flusher has
/// synced the WAL file.
struct SQLiteWriterDatabase: WriterDatabase {
    let connection: SQLiteConnection
    /// Told after each commit, before the batch's writes are answered (the read pool's snapshots).
    let committed: @Sendable () -> Void
    /// The WAL file the flusher syncs (`full` durability), or nil (`normal`: commits are not synced).
    let wal: WALFile?

    var flushesApart: Bool { wal != nil }

    func flush() -> SQLiteError? {
        do {
            try wal?.sync()
            return nil
        } catch {
            return error
        }
    }

    static var closed: SQLiteError { .closed }
    static var noResult: SQLiteError { SQLiteError(code: 1, message: "writer job produced no result") }

    func commit(_ batch: [any QueuedJob<SQLiteConnection, SQLiteError>]) -> SQLiteError? {
        do {
            try connection.transaction { () throws(SQLiteError) in
                for job in batch { try job.run(on: connection) }
            }
            committed()
            return nil
        } catch {
            return error
        }
    }

    func interrupt() { connection.cancelLockWaits() }

    func writerEnded() {}
}
