import Dispatch
import Foundation
import PermIDKit
import Synchronization

/// The single writer of one permidd to PostgreSQL: a thread that takes every job queued since its
/// last commit, runs them in one transaction and fulfils each job's one-shot only after COMMIT
/// (group commit). Jobs run in order of their keys (a PermID), so two nodes' batches lock rows in
/// the same order; a batch PostgreSQL still aborts as a deadlock or serialization failure is
/// retried. A batch that fails otherwise rolls back, and every job in it gets the error.
/// A lost connection is replaced when the next batch starts.
final class PostgresWriter: Sendable {
    private struct State {
        var queue: [any PostgresJob] = []
        var closed = false
    }

    /// Attempts at a batch PostgreSQL aborted as a deadlock or serialization failure.
    private static let attempts = 3

    private let location: PostgresConnectionString
    private let maxBatch: Int
    private let state = Mutex(State())
    /// The connection in use, shared only so that ``abort()`` can cancel its running query.
    private let connection: Mutex<PostgresConnection?>
    private let wake = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)
    private let threadEnded = Atomic(false)

    /// Starts the writer thread on `connection`, which nothing else may use afterwards.
    init(connection: PostgresConnection, location: PostgresConnectionString, maxBatch: Int) {
        self.connection = Mutex(connection)
        self.location = location
        self.maxBatch = maxBatch
        let thread = Thread { [self] in run() }
        thread.name = "permid-pg-writer"
        thread.start()
    }

    /// Queues `job`, run in order of `key` within its batch; the one-shot holds what it returned once
    /// its batch has committed, or the error.
    func submit<T: Sendable>(
        key: [UInt8] = [], _ job: @escaping @Sendable (PostgresConnection) throws(PostgresError) -> T
    ) -> OneShot<Result<T, PostgresError>> {
        let queued = Job(key: key, job)
        let accepted = state.withLock { state in
            guard !state.closed else { return false }
            state.queue.append(queued)
            return true
        }
        guard accepted else {
            queued.finish(.closed)
            return queued.result
        }
        wake.signal()
        return queued.result
    }

    /// Queues `job`, blocks until its batch has committed, and returns what the job returned.
    func perform<T: Sendable>(_ job: @escaping @Sendable (PostgresConnection) throws(PostgresError) -> T) throws(PostgresError) -> T {
        try submit(job).wait().get()
    }

    /// Finishes the queued jobs, stops the thread and waits for it. Idempotent.
    func close() { stop(failingQueued: false) }

    /// Stops at once: queued jobs fail with ``PostgresError/closed``, the batch in progress is
    /// cancelled on the server (and fails), and the thread ends. Returns when it has. Idempotent.
    func abort() { stop(failingQueued: true) }

    private func stop(failingQueued: Bool) {
        let dropped = state.withLock { state -> [any PostgresJob] in
            state.closed = true
            guard failingQueued else { return [] }
            defer { state.queue = [] }
            return state.queue
        }
        if failingQueued { connection.withLock { $0 }?.cancel() }
        for job in dropped { job.finish(.closed) }
        wake.signal()
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
                if !batch.isEmpty { commit(batch) }
                if closed && batch.isEmpty {
                    connection.withLock { $0 = nil }
                    threadEnded.store(true, ordering: .releasing)
                    finished.signal()
                    return
                }
                if batch.isEmpty { break }
            }
        }
    }

    private func commit(_ batch: [any PostgresJob]) {
        // A stable sort: jobs for one PermID keep their order, so their outcomes do too.
        let ordered = batch.enumerated().sorted {
            $0.element.key == $1.element.key ? $0.offset < $1.offset : $0.element.key.lexicographicallyPrecedes($1.element.key)
        }.map(\.element)
        var outcome: PostgresError?
        for attempt in 1...Self.attempts {
            do throws(PostgresError) {
                let current = try usableConnection()
                try current.execute("BEGIN")
                do throws(PostgresError) {
                    for job in ordered { try job.run(on: current) }
                    try current.execute("COMMIT")
                } catch {
                    if !current.isBroken { try? current.execute("ROLLBACK") }
                    throw error
                }
                outcome = nil
                break
            } catch {
                outcome = error
                guard error.isRetryable, attempt < Self.attempts else { break }
            }
        }
        for job in ordered { job.finish(outcome) }
    }

    /// The connection, replaced by a new one when the last was lost.
    private func usableConnection() throws(PostgresError) -> PostgresConnection {
        if let current = connection.withLock({ $0 }), !current.isBroken { return current }
        connection.withLock { $0 = nil }
        let fresh = try PostgresConnection(location)
        connection.withLock { $0 = fresh }
        return fresh
    }
}

/// A queued job, whatever it returns.
private protocol PostgresJob: Sendable {
    /// The PermID it writes, to order a batch's row locks.
    var key: [UInt8] { get }
    /// Runs the job inside the batch's transaction (writer thread).
    func run(on connection: PostgresConnection) throws(PostgresError)
    /// Delivers the job's value, or `error` when its batch failed (writer thread, after the commit).
    func finish(_ error: PostgresError?)
}

/// One job and the one-shot its caller holds.
private final class Job<T: Sendable>: PostgresJob, @unchecked Sendable {
    // @unchecked Sendable: `value` is written by `run` and read by `finish`, both on the writer thread
    // (or by `finish` alone, on the caller's thread, for a job refused before it was queued).
    let key: [UInt8]
    private let body: @Sendable (PostgresConnection) throws(PostgresError) -> T
    private var value: T?
    let result = OneShot<Result<T, PostgresError>>()

    init(key: [UInt8], _ body: @escaping @Sendable (PostgresConnection) throws(PostgresError) -> T) {
        self.key = key
        self.body = body
    }

    func run(on connection: PostgresConnection) throws(PostgresError) { value = try body(connection) }

    func finish(_ error: PostgresError?) {
        if let error {
            result.fulfill(.failure(error))
        } else if let value {
            result.fulfill(.success(value))
        } else {
            result.fulfill(.failure(PostgresError(message: "writer job produced no result")))
        }
    }
}
