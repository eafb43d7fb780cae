import Dispatch
import Foundation
import PermIDKit
import Synchronization

/// The single writer of a database: a thread that takes every job queued since its last commit,
/// runs them in one transaction and fulfils each job's one-shot only after that transaction has
/// committed (group commit). A job that fails rolls back the whole batch, and every job in it gets the error.
final class GroupCommitWriter: Sendable {
    private struct State {
        var queue: [any QueuedJob] = []
        var closed = false
    }

    private let connection: SQLiteConnection
    private let maxBatch: Int
    private let state = Mutex(State())
    private let wake = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)
    private let threadEnded = Atomic(false)

    /// Starts the writer thread on `connection`, which nothing else may use afterwards.
    init(connection: SQLiteConnection, maxBatch: Int) {
        self.connection = connection
        self.maxBatch = maxBatch
        let thread = Thread { [self] in run() }
        thread.name = "permid-writer"
        thread.start()
    }

    /// Queues `job`; the one-shot holds what it returned once its batch has committed, or the error.
    func submit<T: Sendable>(_ job: @escaping @Sendable (SQLiteConnection) throws(SQLiteError) -> T) -> OneShot<Result<T, SQLiteError>> {
        let queued = Job(job)
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
    func perform<T: Sendable>(_ job: @escaping @Sendable (SQLiteConnection) throws(SQLiteError) -> T) throws(SQLiteError) -> T {
        try submit(job).wait().get()
    }

    /// Finishes the queued jobs, stops the thread and waits for it. Idempotent.
    func close() { stop(failingQueued: false) }

    /// Stops at once: queued jobs fail with ``SQLiteError/closed``, a batch waiting on a lock gives up
    /// (and fails), and the thread ends. Returns when it has. Idempotent.
    func abort() { stop(failingQueued: true) }

    private func stop(failingQueued: Bool) {
        let dropped = state.withLock { state -> [any QueuedJob] in
            state.closed = true
            guard failingQueued else { return [] }
            defer { state.queue = [] }
            return state.queue
        }
        if failingQueued { connection.cancelLockWaits() }
        for job in dropped { job.finish(.closed) }
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
                if !batch.isEmpty { commit(batch) }
                if closed && batch.isEmpty {
                    threadEnded.store(true, ordering: .releasing)
                    finished.signal()
                    return
                }
                if batch.isEmpty { break }
            }
        }
    }

    private func commit(_ batch: [any QueuedJob]) {
        let outcome: SQLiteError?
        do {
            try connection.transaction { () throws(SQLiteError) in
                for job in batch { try job.run(on: connection) }
            }
            outcome = nil
        } catch {
            outcome = error
        }
        for job in batch { job.finish(outcome) }
    }
}

/// A queued job, whatever it returns.
private protocol QueuedJob: Sendable {
    /// Runs the job inside the batch's transaction (writer thread).
    func run(on connection: SQLiteConnection) throws(SQLiteError)
    /// Delivers the job's value, or `error` when its batch failed (writer thread, after the commit).
    func finish(_ error: SQLiteError?)
}

/// One job and the one-shot its caller holds.
private final class Job<T: Sendable>: QueuedJob, @unchecked Sendable {
    // @unchecked Sendable: `value` is written by `run` and read by `finish`, both on the writer thread
    // (or by `finish` alone, on the caller's thread, for a job refused before it was queued).
    private let body: @Sendable (SQLiteConnection) throws(SQLiteError) -> T
    private var value: T?
    let result = OneShot<Result<T, SQLiteError>>()

    init(_ body: @escaping @Sendable (SQLiteConnection) throws(SQLiteError) -> T) { self.body = body }

    func run(on connection: SQLiteConnection) throws(SQLiteError) { value = try body(connection) }

    func finish(_ error: SQLiteError?) {
        if let error {
            result.fulfill(.failure(error))
        } else if let value {
            result.fulfill(.success(value))
        } else {
            result.fulfill(.failure(SQLiteError(code: 1, message: "writer job produced no result")))
        }
    }
}
