internal import CPostgres
import Foundation

/// A value bound to a query parameter, sent in binary.
enum PostgresValue {
    case int64(Int64)
    /// A bytea; `nil` is NULL.
    case bytes([UInt8]?)
    case text(String)

    /// The type OID the parameter is declared with (int8, bytea, text).
    fileprivate var typeOID: Oid {
        switch self {
        case .int64: 20
        case .bytes: 17
        case .text: 25
        }
    }

    /// The binary wire form; `nil` for NULL.
    fileprivate var wireBytes: [UInt8]? {
        switch self {
        case .int64(let value): withUnsafeBytes(of: value.bigEndian) { Array($0) }
        case .bytes(let bytes): bytes
        case .text(let text): Array(text.utf8)
        }
    }
}

/// One PostgreSQL connection. Owns its `PGconn` (closed in `deinit`), the `PGcancel` that interrupts
/// its running query from another thread, and the names of the statements prepared on it.
/// Not thread-safe: one thread uses it at a time (the pool and the writer ensure that), except
/// ``cancel()``, which libpq makes safe from any thread.
final class PostgresConnection: @unchecked Sendable {
    // @unchecked Sendable: used by one thread at a time — the writer thread owns the write connection,
    // and PostgresConnectionPool hands each read connection to one caller at a time. `cancel()` only
    // touches `canceller`, which libpq's PQcancel allows from any thread.
    private let handle: OpaquePointer
    private let canceller: OpaquePointer?
    private var prepared: [String: String] = [:]
    private let location: PostgresConnectionString

    /// Connects, waiting at most `connectTimeoutSeconds` unless the string sets `connect_timeout`.
    ///
    /// - Throws: ``PostgresError`` (password masked); the handle is closed on every failure path.
    init(_ location: PostgresConnectionString, connectTimeoutSeconds: Int = 5) throws(PostgresError) {
        // Defaults first: parameters from the expanded string (`dbname`, last) override them.
        let keywords = ["connect_timeout", "application_name", "dbname"]
        let values = [String(connectTimeoutSeconds), "permidd", location.conninfo]
        let opened = Self.withCStrings(keywords) { keywordPointers in
            Self.withCStrings(values) { valuePointers in PQconnectdbParams(keywordPointers, valuePointers, 1) }
        }
        guard let opened else { throw PostgresError(message: "out of memory opening a PostgreSQL connection", connectionLost: true) }
        guard PQstatus(opened) == CONNECTION_OK else {
            let message = location.masking(String(cString: PQerrorMessage(opened)))
            PQfinish(opened)
            throw PostgresError(message: message.trimmingCharacters(in: .whitespacesAndNewlines), connectionLost: true)
        }
        handle = opened
        // libpq would print the server's notices (and a FATAL sent as the server shuts down) on stderr,
        // past permidd's logger; what matters of them reaches permidd as a failed call.
        PQsetNoticeProcessor(opened, discardNotice, nil)
        canceller = PQgetCancel(opened)
        self.location = location
        // libpq prints the server's notices (such as "already exists, skipping") on stderr.
        try execute("SET client_min_messages TO warning")
    }

    deinit {
        if let canceller { PQfreeCancel(canceller) }
        PQfinish(handle)
    }

    /// Whether the connection is gone (the server closed it, restarted, or the network failed).
    var isBroken: Bool { PQstatus(handle) != CONNECTION_OK }

    /// Asks the server to stop the query running on this connection (it then fails). Safe from any thread.
    func cancel() {
        guard let canceller else { return }
        var buffer = [CChar](repeating: 0, count: 256)
        _ = PQcancel(canceller, &buffer, Int32(buffer.count))
    }

    /// Waits up to `milliseconds` for notifications (after `LISTEN`) and returns their payloads.
    ///
    /// - Throws: ``PostgresError`` with `connectionLost` when the connection is gone.
    func notifications(waiting milliseconds: Int32) throws(PostgresError) -> [String] {
        var descriptor = pollfd(fd: PQsocket(handle), events: Int16(POLLIN), revents: 0)
        guard descriptor.fd >= 0 else { throw PostgresError(message: "the PostgreSQL connection is closed", connectionLost: true) }
        _ = poll(&descriptor, 1, milliseconds)
        guard PQconsumeInput(handle) == 1 else {
            throw PostgresError(message: location.masking(String(cString: PQerrorMessage(handle))), connectionLost: true)
        }
        var payloads = [String]()
        while let notification = PQnotifies(handle) {
            payloads.append(String(cString: notification.pointee.extra))
            PQfreemem(notification)
        }
        return payloads
    }

    /// Runs one or more SQL statements without parameters (migrations, transaction control).
    func execute(_ sql: String) throws(PostgresError) {
        let result = PQexec(handle, sql)
        defer { PQclear(result) }
        try check(result, sql: sql)
    }

    /// Runs `sql` with `parameters` ($1, $2, …) as a statement prepared once per connection, and
    /// returns its rows in binary form.
    func query(_ sql: String, _ parameters: [PostgresValue] = []) throws(PostgresError) -> PostgresResult {
        let name: String
        if let known = prepared[sql] {
            name = known
        } else {
            name = "permid_\(prepared.count)"
            let types = parameters.map(\.typeOID)
            let result = PQprepare(handle, name, sql, Int32(types.count), types)
            defer { PQclear(result) }
            try check(result, sql: sql)
            prepared[sql] = name
        }
        var buffer = [UInt8]()
        var offsets = [Int?]()
        var lengths = [Int32]()
        for parameter in parameters {
            guard let bytes = parameter.wireBytes else {
                offsets.append(nil)
                lengths.append(0)
                continue
            }
            offsets.append(buffer.count)
            lengths.append(Int32(bytes.count))
            buffer += bytes
        }
        buffer.append(0)  // never empty, so the base address is never nil, even for empty values
        let formats = [Int32](repeating: 1, count: parameters.count)
        let result = buffer.withUnsafeBufferPointer { bytes -> OpaquePointer? in
            guard let base = bytes.baseAddress else { return nil }
            // A null pointer is SQL NULL.
            let pointers: [UnsafePointer<CChar>?] = offsets.map { offset in
                offset.map { UnsafeRawPointer(base + $0).assumingMemoryBound(to: CChar.self) }
            }
            return PQexecPrepared(handle, name, Int32(parameters.count), pointers, lengths, formats, 1)
        }
        guard let result else {
            throw PostgresError(message: location.masking(String(cString: PQerrorMessage(handle))), connectionLost: isBroken)
        }
        do {
            try check(result, sql: sql)
        } catch {
            PQclear(result)
            throw error
        }
        return PostgresResult(result)
    }

    private func check(_ result: OpaquePointer?, sql: String) throws(PostgresError) {
        let status = result.map(PQresultStatus) ?? PGRES_FATAL_ERROR
        guard status != PGRES_COMMAND_OK, status != PGRES_TUPLES_OK else { return }
        let state = result.flatMap { PQresultErrorField($0, Self.sqlStateField) }.map { String(cString: $0) }
        let message = result.map { String(cString: PQresultErrorMessage($0)) }.flatMap { $0.isEmpty ? nil : $0 }
            ?? String(cString: PQerrorMessage(handle))
        throw PostgresError(
            sqlState: state, message: location.masking(message.trimmingCharacters(in: .whitespacesAndNewlines)),
            connectionLost: isBroken)
    }

    /// `PG_DIAG_SQLSTATE`, a character-literal macro Swift does not import.
    private static let sqlStateField = Int32(UInt8(ascii: "C"))

    /// Calls `body` with a NUL-terminated C array of `strings`, valid only during the call.
    private static func withCStrings<T>(_ strings: [String], _ body: ([UnsafePointer<CChar>?]) -> T) -> T {
        let copies = strings.map { strdup($0) }
        defer { copies.forEach { free($0) } }
        return body(copies.map { UnsafePointer($0) } + [nil])
    }
}

/// The rows of one query, in binary form. Owns its `PGresult`, cleared in `deinit`.
final class PostgresResult {
    private let handle: OpaquePointer

    fileprivate init(_ handle: OpaquePointer) { self.handle = handle }

    deinit { PQclear(handle) }

    /// How many rows there are.
    var count: Int { Int(PQntuples(handle)) }

    /// Whether the value at `row`, `column` is NULL.
    func isNull(_ row: Int, _ column: Int) -> Bool { PQgetisnull(handle, Int32(row), Int32(column)) != 0 }

    /// The integer (int2, int4, int8 or bool) at `row`, `column`; 0 for NULL.
    func int64(_ row: Int, _ column: Int) -> Int64 {
        guard let bytes = bytes(row, column), bytes.count <= 8 else { return 0 }
        let unsigned = bytes.reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        let shift = UInt64(64 - 8 * bytes.count)
        return bytes.isEmpty ? 0 : Int64(bitPattern: unsigned << shift) >> shift
    }

    /// The bytes (bytea, or text as UTF-8) at `row`, `column`; `nil` for NULL.
    func bytes(_ row: Int, _ column: Int) -> [UInt8]? {
        guard !isNull(row, column) else { return nil }
        let length = Int(PQgetlength(handle, Int32(row), Int32(column)))
        guard length > 0, let pointer = PQgetvalue(handle, Int32(row), Int32(column)) else { return [] }
        return Array(UnsafeRawBufferPointer(start: pointer, count: length))
    }

    /// The text at `row`, `column`; `nil` for NULL.
    func text(_ row: Int, _ column: Int) -> String? { bytes(row, column).map { String(decoding: $0, as: UTF8.self) } }
}

/// libpq's notice processor: discards. A C callback, so a free function.
private let discardNotice: PQnoticeProcessor = { _, _ in }
