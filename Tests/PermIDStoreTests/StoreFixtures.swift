import Foundation
import Testing
import PermIDKit
@testable import PermIDStore

/// Small factories for store tests: a temporary directory, a signing key, and signed records.
enum StoreFixtures {
    /// A fresh temporary directory for one test.
    static func temporaryDirectory() -> String {
        let path = NSTemporaryDirectory() + "permid-store-\(UUID().uuidString)"
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// A new store in a fresh directory.
    static func store(sync: SyncMode = .normal) throws -> SQLiteRecordStore {
        try SQLiteRecordStore(path: temporaryDirectory() + "/permid.sqlite", sync: sync)
    }

    static let now: UInt64 = 1_764_028_800

    /// The backends every store test runs on: SQLite, and PostgreSQL when `PERMID_TEST_POSTGRES`
    /// names a server (`make test` starts one with Tests/postgres.sh and sets it). Once set, a server
    /// that cannot be reached fails the PostgreSQL cases; it never skips them.
    static let backends: [StoreBackend] =
        ProcessInfo.processInfo.environment["PERMID_TEST_POSTGRES"].map { [.sqlite, .postgres(server: $0)] } ?? [.sqlite]

    /// A new, empty store on `backend`: a fresh file, or a fresh PostgreSQL database.
    static func store(_ backend: StoreBackend, maxBatch: Int = 512) throws -> any DatabaseRecordStore {
        switch backend {
        case .sqlite: try SQLiteRecordStore(path: temporaryDirectory() + "/permid.sqlite", sync: .normal, maxBatch: maxBatch)
        case .postgres(let server):
            try PostgresRecordStore(connectionString: PostgresConnectionString(freshPostgresDatabase(on: server)), maxBatch: maxBatch)
        }
    }

    /// Creates an empty database on the server at `url` and returns its URL.
    static func freshPostgresDatabase(on url: String) throws -> String {
        let name = "permid_test_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        let admin = try PostgresConnection(PostgresConnectionString(url))
        try admin.execute("CREATE DATABASE \(name)")
        var components = try #require(URLComponents(string: url))
        components.path = "/" + name
        return try #require(components.string)
    }

    /// A signed record for `key`, valid for an hour from ``now``.
    static func record(
        _ key: PrivateKey, seq: UInt64, endpoints: [String] = ["203.0.113.5:6881"], expiresAt: UInt64 = now + 3600
    ) -> SignedRecord {
        try! SignedRecord.sign(
            with: key, seq: seq, issuedAt: now, expiresAt: expiresAt, endpoints: endpoints.map { Endpoint($0)! })
    }

    /// A signed sealed record for `key` with `boxes` boxes of `length` bytes (their content does not matter to a store).
    static func sealedRecord(_ key: PrivateKey, seq: UInt64, boxes: Int = 8, length: Int = 208, expiresAt: UInt64 = now + 3600) -> SignedRecord {
        let content = RecordContent.sealed((0..<boxes).map { index in [UInt8](repeating: UInt8(truncatingIfNeeded: index), count: length) })
        return try! SignedRecord.sign(with: key, seq: seq, issuedAt: now, expiresAt: expiresAt, content: content)
    }

    /// The directory holding the test bundle and the package's other built products.
    static var productsDirectory: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .pathComponents.contains(where: { $0.hasSuffix(".xctest") })
            ? URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().deletingLastPathComponent()
            : Bundle.main.bundleURL
    }
}

/// A storage backend a store test runs on.
enum StoreBackend: Sendable, CustomTestStringConvertible {
    case sqlite
    /// A PostgreSQL server, by the URL of a database on it that permid may create databases from.
    case postgres(server: String)

    var testDescription: String {
        switch self {
        case .sqlite: "SQLite"
        case .postgres: "PostgreSQL"
        }
    }
}
