internal import CSQLite
internal import CShims
import Foundation
import Synchronization

/// One SQLite connection. Owns its `sqlite3` handle, closed in `deinit`, and a cache of prepared
/// statements. Not thread-safe: one thread uses it at a time (the pool and the writer ensure that).
final class SQLiteConnection: @unchecked Sendable {
    // @unchecked Sendable: a connection is used by one thread at a time — the writer thread owns the
    // write connection, and ReadConnectionPool hands each read connection to one caller at a time.
    private let handle: OpaquePointer
    private var statements: [String: SQLiteStatement] = [:]
    private var lastStatement: SQLiteStatement?
    private let lockWait: LockWait
    /// The database file's path.
    let path: String

    /// Opens a connection.
    ///
    /// - Parameters:
    ///   - path: the database file.
    ///   - readOnly: open without write access (lookups).
    ///   - busyTimeoutMilliseconds: how long a call waits for a lock before failing with SQLITE_BUSY.
    /// - Throws: ``SQLiteError``; the handle is closed on every failure path.
    init(path: String, readOnly: Bool, busyTimeoutMilliseconds: Int32 = 5_000) throws(SQLiteError) {
        var opened: OpaquePointer?
        let flags = (readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)
            | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE
        let code = sqlite3_open_v2(path, &opened, flags, nil)
        guard code == SQLITE_OK, let handle = opened else {
            let message = opened.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(code))
            sqlite3_close_v2(opened)
            throw SQLiteError(code: code, message: message)
        }
        self.handle = handle
        self.path = path
        lockWait = LockWait(timeoutMilliseconds: Int(busyTimeoutMilliseconds))
        sqlite3_busy_handler(handle, lockWaitTrampoline, Unmanaged.passUnretained(lockWait).toOpaque())
        do {
            // Reading the schema fails at once for a file that is not a database.
            try execute("SELECT count(*) FROM sqlite_master")
        } catch {
            statements.removeAll()
            throw error
        }
    }

    deinit {
        lastStatement = nil
        statements.removeAll()
        sqlite3_close_v2(handle)
    }

    /// The path of the database's WAL file (whether or not it exists yet).
    var walPath: String { String(cString: sqlite3_filename_wal(sqlite3_db_filename(handle, "main"))) }

    /// Makes a call waiting for a lock give up now (it fails with SQLITE_BUSY), and every later
    /// one at once. Safe from any thread: it only sets a flag the waiting thread reads.
    func cancelLockWaits() { lockWait.cancelled.store(true, ordering: .relaxed) }

    /// Runs one or more SQL statements that return no rows.
    func execute(_ sql: String) throws(SQLiteError) {
        var message: UnsafeMutablePointer<CChar>?
        let code = sqlite3_exec(handle, sql, nil, nil, &message)
        guard code == SQLITE_OK else {
            let text = message.map { String(cString: $0) } ?? lastMessage
            sqlite3_free(message)
            throw SQLiteError(code: sqlite3_extended_errcode(handle), message: text, sql: sql)
        }
    }

    /// The cached prepared statement for `sql`, reset and with bindings cleared.
    func statement(_ sql: String) throws(SQLiteError) -> SQLiteStatement {
        // The statement used last first: a read connection runs the same lookup over and over, and
        // comparing one static string with itself is a pointer comparison where hashing reads it all.
        if let last = lastStatement, last.sql == sql {
            last.reset()
            return last
        }
        if let cached = statements[sql] {
            cached.reset()
            lastStatement = cached
            return cached
        }
        var prepared: OpaquePointer?
        let code = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &prepared, nil)
        guard code == SQLITE_OK, let prepared else {
            throw SQLiteError(code: sqlite3_extended_errcode(handle), message: lastMessage, sql: sql)
        }
        let statement = SQLiteStatement(handle: prepared, connection: self, sql: sql)
        statements[sql] = statement
        lastStatement = statement
        return statement
    }

    /// Resets every cached statement. A statement stopped before SQLITE_DONE keeps its read
    /// transaction open and pins the connection to an old snapshot, so each use of a connection ends
    /// with this.
    func resetStatements() {
        for statement in statements.values { statement.reset() }
    }

    /// Rows changed by the last INSERT, UPDATE or DELETE.
    var changes: Int { Int(sqlite3_changes(handle)) }

    /// SQLite's message for the last failure on this connection.
    var lastMessage: String { String(cString: sqlite3_errmsg(handle)) }

    /// The extended code of the last failure on this connection.
    var lastCode: Int32 { sqlite3_extended_errcode(handle) }

    /// Runs `body` in a `BEGIN IMMEDIATE` transaction, committing if it returns and rolling back if it throws.
    func transaction<T>(_ body: () throws(SQLiteError) -> T) throws(SQLiteError) -> T {
        try execute("BEGIN IMMEDIATE")
        do {
            let result = try body()
            resetStatements()
            try execute("COMMIT")
            return result
        } catch {
            resetStatements()
            try? execute("ROLLBACK")
            throw error
        }
    }

    /// Copies the whole database into a new file at `destination` with SQLite's online backup API,
    /// a few pages at a time so writers are not held up.
    func backup(to destination: String) throws(SQLiteError) {
        let target = try SQLiteConnection(path: destination, readOnly: false)
        guard let backup = sqlite3_backup_init(target.handle, "main", handle, "main") else {
            throw SQLiteError(code: target.lastCode, message: target.lastMessage)
        }
        var code: Int32
        repeat {
            code = sqlite3_backup_step(backup, 256)
            if code == SQLITE_BUSY || code == SQLITE_LOCKED { sqlite3_sleep(10) }
        } while code == SQLITE_OK || code == SQLITE_BUSY || code == SQLITE_LOCKED
        let finish = sqlite3_backup_finish(backup)
        guard code == SQLITE_DONE, finish == SQLITE_OK else {
            throw SQLiteError(code: code == SQLITE_DONE ? finish : code, message: target.lastMessage)
        }
    }

}

/// One prepared statement. Owns its `sqlite3_stmt`, finalized in `deinit`; used only through its connection.
final class SQLiteStatement {
    private let handle: OpaquePointer
    private unowned let connection: SQLiteConnection
    let sql: String

    fileprivate init(handle: OpaquePointer, connection: SQLiteConnection, sql: String) {
        self.handle = handle
        self.connection = connection
        self.sql = sql
    }

    deinit { sqlite3_finalize(handle) }

    /// Whether it has been bound or stepped since its last reset. A statement is reset when handed out
    /// and when its read connection is checked back in; this makes the second of those free (each
    /// was a `sqlite3_reset` and a `sqlite3_clear_bindings` per lookup).
    private var used = false

    fileprivate func reset() {
        guard used else { return }
        used = false
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    /// Binds an integer to the 1-based parameter `index`.
    func bind(_ value: Int64, at index: Int32) throws(SQLiteError) {
        used = true
        try check(sqlite3_bind_int64(handle, index, value))
    }

    /// Binds a blob (copied by SQLite) to the 1-based parameter `index`; `nil` binds NULL.
    func bind(_ value: [UInt8]?, at index: Int32) throws(SQLiteError) {
        used = true
        guard let value else { try check(sqlite3_bind_null(handle, index)); return }
        let code = value.withUnsafeBytes { buffer in
            // A zero-length blob still needs a non-null pointer, or SQLite binds NULL.
            sqlite3_bind_blob(handle, index, buffer.baseAddress ?? UnsafeRawPointer(bitPattern: 1), Int32(buffer.count), permid_sqlite_transient())
        }
        try check(code)
    }

    /// Binds text (copied by SQLite) to the 1-based parameter `index`.
    func bind(_ value: String, at index: Int32) throws(SQLiteError) {
        used = true
        try check(sqlite3_bind_text(handle, index, value, -1, permid_sqlite_transient()))
    }

    /// Advances to the next row: `true` if there is one, `false` when done.
    func step() throws(SQLiteError) -> Bool {
        used = true
        switch sqlite3_step(handle) {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default:
            let error = SQLiteError(code: connection.lastCode, message: connection.lastMessage, sql: sql)
            sqlite3_reset(handle)
            throw error
        }
    }

    /// Runs a statement that returns no rows.
    func run() throws(SQLiteError) {
        while try step() {}
    }

    /// The virtual-machine instructions run since the statement was prepared or this was last called,
    /// and starts counting again: what a query really cost, which tests compare across data sizes.
    func takeVirtualMachineSteps() -> Int { Int(sqlite3_stmt_status(handle, SQLITE_STMTSTATUS_VM_STEP, 1)) }

    /// The integer in column `index` (0-based) of the current row.
    func int64(_ index: Int32) -> Int64 { sqlite3_column_int64(handle, index) }

    /// The blob in column `index` of the current row, `nil` for NULL.
    func blob(_ index: Int32) -> [UInt8]? {
        guard sqlite3_column_type(handle, index) != SQLITE_NULL else { return nil }
        let count = Int(sqlite3_column_bytes(handle, index))
        guard count > 0, let pointer = sqlite3_column_blob(handle, index) else { return [] }
        return Array(UnsafeRawBufferPointer(start: pointer, count: count))
    }

    /// The text in column `index` of the current row, `nil` for NULL.
    func text(_ index: Int32) -> String? {
        guard let pointer = sqlite3_column_text(handle, index) else { return nil }
        return String(cString: pointer)
    }

    private func check(_ code: Int32) throws(SQLiteError) {
        guard code == SQLITE_OK else { throw SQLiteError(code: code, message: connection.lastMessage, sql: sql) }
    }
}

/// How long a connection waits for a lock held by another connection or process, and whether
/// waiting was cancelled (shutdown). Owned by its connection, which outlives the busy handler.
private final class LockWait: Sendable {
    let timeoutMilliseconds: Int
    let cancelled = Atomic(false)

    init(timeoutMilliseconds: Int) { self.timeoutMilliseconds = timeoutMilliseconds }

    /// The pause before retry number `attempt` (from 0), in milliseconds: short first, then 10 ms.
    static func pause(_ attempt: Int) -> Int { attempt < 5 ? 1 << attempt : 10 }

    /// The milliseconds slept before retry number `attempt`: the sum of the earlier pauses.
    static func waited(before attempt: Int) -> Int { attempt <= 5 ? (1 << attempt) - 1 : 31 + (attempt - 5) * 10 }
}

/// SQLite's busy handler: sleeps and retries until the timeout, or gives up at once when cancelled.
/// A C callback, so a free function (never a closure in main.swift).
private let lockWaitTrampoline: @convention(c) (UnsafeMutableRawPointer?, Int32) -> Int32 = { context, attempt in
    guard let context else { return 0 }
    let wait = Unmanaged<LockWait>.fromOpaque(context).takeUnretainedValue()
    guard !wait.cancelled.load(ordering: .relaxed), LockWait.waited(before: Int(attempt)) < wait.timeoutMilliseconds else { return 0 }
    usleep(useconds_t(LockWait.pause(Int(attempt)) * 1_000))
    return 1
}
