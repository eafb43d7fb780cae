internal import CSQLite
import PermIDKit

/// A failed SQLite call: the result code, SQLite's message and the SQL it ran.
public struct SQLiteError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The extended result code.
    public let code: Int32
    /// SQLite's message.
    public let message: String
    /// The statement that failed, if any.
    public let sql: String?

    /// Makes an error from a code, message and statement.
    public init(code: Int32, message: String, sql: String? = nil) {
        self.code = code
        self.message = message
        self.sql = sql
    }

    /// The primary result code (the low byte of the extended one).
    public var primaryCode: Int32 { code & 0xFF }

    /// Whether the failure is the environment's (full disk, read-only, locked, busy, I/O) rather than a bug.
    public var isEnvironmental: Bool {
        [SQLITE_FULL, SQLITE_READONLY, SQLITE_BUSY, SQLITE_LOCKED, SQLITE_IOERR, SQLITE_CANTOPEN, SQLITE_CORRUPT, SQLITE_NOTADB, SQLITE_PERM]
            .contains(primaryCode)
    }

    public var description: String {
        let base = "\(message) (SQLite code \(code))"
        return sql.map { "\(base) in: \($0.prefix(120))" } ?? base
    }
}

extension SQLiteError {
    /// What a write gets after the store was closed.
    static let closed = SQLiteError(code: SQLITE_MISUSE, message: "the store is closed")

    /// A database whose schema is present but whose contents break its own invariants.
    static func corrupt(_ message: String) -> SQLiteError { SQLiteError(code: SQLITE_CORRUPT, message: message) }

    /// The ``DirectoryError`` the HTTP layer sees: a 503 naming the condition an operator can act on
    /// (full disk, read-only or locked database), or a 500 that says nothing of SQLite.
    var directoryError: DirectoryError {
        if self == .closed { return .serviceUnavailable("the directory is shutting down") }
        return switch primaryCode {
        case SQLITE_FULL: .serviceUnavailable("the directory's storage is full")
        case SQLITE_READONLY, SQLITE_PERM, SQLITE_CANTOPEN: .serviceUnavailable("the directory's database is read-only")
        case SQLITE_BUSY, SQLITE_LOCKED: .serviceUnavailable("the directory's database is busy")
        case SQLITE_IOERR: .serviceUnavailable("the directory's storage failed (I/O error)")
        case SQLITE_CORRUPT, SQLITE_NOTADB: .serviceUnavailable("the directory's database cannot be read")
        default: .internalError
        }
    }
}
