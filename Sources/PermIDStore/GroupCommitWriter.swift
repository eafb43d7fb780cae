import Dispatch
import Foundation
import Synchronization

/// The single writer of a database: a thread that takes every job queued since its last commit,
/// runs them in one transaction and acknowledges each only after that transaction has committed
/// (group commit). A job that fails rolls back the whole batch, and every job in it gets the error.
final class GroupCommitWriter: Sendable {
    /// Work done inside a batch's transaction on the writer connection.
    typealias Job = @Sendable (SQLiteConnection) throws(SQLiteError) -> Void

    private struct Pending {
        let job: Job
        let done: @Sendable (SQLiteError?) -> Void
    }

    private struct State {
        var queue: [Pending] = []
        var closed = false
    }

    private let connection: SQLiteConnection
    private let maxBatch: Int
    private let state = Mutex(State())
    private let wake = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)

    /// Starts the writer thread on `connection`, which nothing else may use afterwards.
    init(connection: SQLiteConnection, maxBatch: Int) {
        self.connection = connection
        self.maxBatch = maxBatch
        let thread = Thread { [self] in run() }
        thread.name = "permid-writer"
        thread.start()
    }

    /// Queues `job`; `done` is called on the writer thread once its batch has committed (`nil`) or failed.
    func submit(_ job: @escaping Job, done: @escaping @Sendable (SQLiteError?) -> Void) {
        let accepted = state.withLock { state in
            guard !state.closed else { return false }
            state.queue.append(Pending(job: job, done: done))
            return true
        }
        guard accepted else {
            done(.closed)
            return
        }
        wake.signal()
    }

    /// Queues `job` and blocks until its batch has committed (or failed).
    func perform(_ job: @escaping Job) throws(SQLiteError) {
        let completion = Completion()
        submit(job) { completion.finish($0) }
        try completion.wait()
    }

    /// Queues `job`, blocks until its batch has committed, and returns what the job returned.
    func perform<T: Sendable>(_ job: @escaping @Sendable (SQLiteConnection) throws(SQLiteError) -> T) throws(SQLiteError) -> T {
        let result = ResultBox<T>()
        try perform { connection throws(SQLiteError) in result.value = try job(connection) }
        guard let value = result.value else { throw SQLiteError(code: 1, message: "writer job produced no result") }
        return value
    }

    /// Finishes the queued jobs, stops the thread and waits for it.
    func close() {
        let wasOpen = state.withLock { state in
            defer { state.closed = true }
            return !state.closed
        }
        guard wasOpen else { return }
        wake.signal()
        finished.wait()
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
                if closed && batch.isEmpty { finished.signal(); return }
                if batch.isEmpty { break }
            }
        }
    }

    private func commit(_ batch: [Pending]) {
        let outcome: SQLiteError?
        do {
            try connection.transaction { () throws(SQLiteError) in
                for pending in batch { try pending.job(connection) }
            }
            outcome = nil
        } catch {
            outcome = error
        }
        for pending in batch { pending.done(outcome) }
    }
}

/// A one-shot signal carrying success or an error from the writer thread to a waiting caller.
private final class Completion: @unchecked Sendable {
    // @unchecked Sendable: `error` is written once before `semaphore.signal()` and read only after
    // `semaphore.wait()` returns, which orders the two accesses.
    private let semaphore = DispatchSemaphore(value: 0)
    private var error: SQLiteError?

    func finish(_ error: SQLiteError?) {
        self.error = error
        semaphore.signal()
    }

    func wait() throws(SQLiteError) {
        semaphore.wait()
        if let error { throw error }
    }
}

/// Carries a job's return value from the writer thread to the caller.
private final class ResultBox<T>: @unchecked Sendable {
    // @unchecked Sendable: written by the writer thread before the job's Completion is signalled,
    // read by the caller after waiting on it.
    var value: T?
}
