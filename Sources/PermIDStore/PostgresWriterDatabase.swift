import Dispatch
import Foundation
import PermIDKit
import Synchronization

/// PostgreSQL under a ``GroupCommitWriter``: one transaction per batch, its jobs run in order of
/// their keys (a PermID), so two nodes' batches lock rows in the same order; a batch PostgreSQL still
/// aborts as a deadlock or serialization failure is retried. A lost connection is replaced when the
/// next batch starts; stopping cancels the running query on the server.
final class PostgresWriterDatabase: WriterDatabase {
    /// Attempts at a batch PostgreSQL aborted as a deadlock or serialization failure.
    private static let attempts = 3

    private let location: PostgresConnectionString
    /// The connection in use, shared only so that ``interrupt()`` can cancel its running query.
    private let connection: Mutex<PostgresConnection?>

    /// Writes on `connection` (nothing else may use it afterwards), reconnecting to `location` when it is lost.
    init(connection: PostgresConnection, location: PostgresConnectionString) {
        self.connection = Mutex(connection)
        self.location = location
    }

    static var closed: PostgresError { .closed }
    static var noResult: PostgresError { PostgresError(message: "writer job produced no result") }

    func commit(_ batch: [any QueuedJob<PostgresConnection, PostgresError>]) -> PostgresError? {
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
                return nil
            } catch {
                outcome = error
                guard error.isRetryable, attempt < Self.attempts else { break }
            }
        }
        return outcome
    }

    func interrupt() { connection.withLock { $0 }?.cancel() }

    func writerEnded() { connection.withLock { $0 = nil } }

    /// The connection, replaced by a new one when the last was lost.
    private func usableConnection() throws(PostgresError) -> PostgresConnection {
        if let current = connection.withLock({ $0 }), !current.isBroken { return current }
        connection.withLock { $0 = nil }
        let fresh = try PostgresConnection(location)
        connection.withLock { $0 = fresh }
        return fresh
    }
}
