import Foundation
import PermIDKit

/// A failed libpq call: PostgreSQL's SQLSTATE (when the server answered), libpq's message, and whether
/// the connection it ran on is gone.
public struct PostgresError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The five-character SQLSTATE, or `nil` when the failure was the client's or the network's.
    public let sqlState: String?
    /// libpq's or the server's message. Never holds the password: libpq does not echo it.
    public let message: String
    /// Whether the connection is unusable now (it will be replaced on next use).
    public let connectionLost: Bool

    /// Makes an error.
    public init(sqlState: String? = nil, message: String, connectionLost: Bool = false) {
        self.sqlState = sqlState
        self.message = message
        self.connectionLost = connectionLost
    }

    /// Whether retrying the whole transaction may succeed: a deadlock (40P01) or serialization failure (40001).
    var isRetryable: Bool { sqlState == "40P01" || sqlState == "40001" }

    public var description: String {
        // One line: libpq's messages may carry a tab-indented hint on a second line.
        let text = message.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        return sqlState.map { "\(text) (SQLSTATE \($0))" } ?? text
    }
}

extension PostgresError {
    /// What a write gets after the store stopped taking them.
    static let closed = PostgresError(message: "the store is closed")

    /// The ``DirectoryError`` the HTTP layer sees. Every PostgreSQL failure is the environment's
    /// (server down, network, restarts, locks, disk), so every one is a 503, never a 500.
    var directoryError: DirectoryError {
        if self == .closed { return .serviceUnavailable("the directory is shutting down") }
        if connectionLost { return .serviceUnavailable("the directory's database is unreachable") }
        return switch sqlState?.prefix(2) {
        case "53": .serviceUnavailable("the directory's database is out of resources")
        case "57": .serviceUnavailable("the directory's database is shutting down or restarting")
        case "40": .serviceUnavailable("the directory's database is busy")
        default: .serviceUnavailable("the directory's database failed")
        }
    }
}
