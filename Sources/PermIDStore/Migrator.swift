import Foundation
import PermIDKit

/// One versioned schema change: a file `NNNN_name.sql` of `Migrations/sqlite/` or
/// `Migrations/postgres/`, compiled into the binary by the EmbedFiles build plugin.
public struct Migration: Hashable, Sendable {
    /// The number before the first underscore of the file name.
    public let version: Int
    /// The file name.
    public let name: String
    /// The SQL text.
    public let sql: String

    /// Lowercase hex SHA-256 of the SQL text, recorded when applied and checked on every start.
    public var checksum: String { Digest.sha256(Array(sql.utf8)).hexString }

    /// The SQLite migrations this binary carries, in version order.
    public static let embedded: [Migration] = parse(embeddedMigrations)

    /// The PostgreSQL migrations this binary carries, in version order.
    public static let embeddedPostgres: [Migration] = parse(embeddedPostgresMigrations)

    private static func parse(_ files: [(name: String, text: String)]) -> [Migration] {
        files.compactMap { entry in
            guard let version = Int(entry.name.prefix { $0 != "_" }) else { return nil }
            return Migration(version: version, name: entry.name, sql: entry.text)
        }.sorted { $0.version < $1.version }
    }
}

/// Why the schema could not be brought up to date.
public enum MigrationError: Error, Hashable, Sendable, CustomStringConvertible {
    /// An applied migration's file differs from the one this binary carries.
    case checksumMismatch(version: Int, name: String)
    /// The database has migrations this binary does not know: it was written by a newer permidd.
    case databaseNewer(databaseVersion: Int, binaryVersion: Int)
    /// The database needs migrations and the caller asked not to apply them.
    case needsMigration
    /// SQLite failed.
    case database(SQLiteError)
    /// PostgreSQL failed.
    case postgres(PostgresError)

    public var description: String {
        switch self {
        case .checksumMismatch(let version, let name):
            "migration \(version) (\(name)) was applied with different contents; refusing to start"
        case .databaseNewer(let databaseVersion, let binaryVersion):
            "the database is at schema version \(databaseVersion) but this permidd knows only up to \(binaryVersion); use a newer permidd"
        case .needsMigration: "the database schema is out of date; run `permidd migrate`"
        case .database(let error): "database error: \(error)"
        case .postgres(let error): "PostgreSQL error: \(error)"
        }
    }
}

extension Migration {
    /// The migrations of `migrations` (in order) that a database with `applied` (version → checksum)
    /// still needs, after checking it against them: the rule both backends' migrators share.
    ///
    /// - Throws: ``MigrationError/databaseNewer(databaseVersion:binaryVersion:)`` when the database has
    ///   a version this binary does not know; ``MigrationError/checksumMismatch(version:name:)`` when
    ///   an applied migration differs from the binary's.
    static func toApply(_ migrations: [Migration], applied: [Int: String]) throws(MigrationError) -> [Migration] {
        let known = migrations.last?.version ?? 0
        if let newest = applied.keys.max(), newest > known {
            throw .databaseNewer(databaseVersion: newest, binaryVersion: known)
        }
        for migration in migrations {
            if let checksum = applied[migration.version], checksum != migration.checksum {
                throw .checksumMismatch(version: migration.version, name: migration.name)
            }
        }
        return migrations.filter { applied[$0.version] == nil }
    }
}

/// Applies ``Migration``s in order, each in its own transaction, recording them in `schema_migrations`.
struct Migrator {
    let migrations: [Migration]

    /// How many migrations are not yet applied (0 for an up-to-date database).
    func pending(_ connection: SQLiteConnection) throws(MigrationError) -> Int {
        do {
            let exists = try connection.statement(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'")
            _ = try exists.step()
            guard exists.int64(0) > 0 else { return migrations.count }
            let select = try connection.statement("SELECT count(*) FROM schema_migrations")
            _ = try select.step()
            return max(0, migrations.count - Int(select.int64(0)))
        } catch {
            throw .database(error)
        }
    }

    /// Brings the schema up to date; returns the migrations applied now.
    func migrate(_ connection: SQLiteConnection, now: Int64) throws(MigrationError) -> [Migration] {
        do {
            try connection.execute("""
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version    INTEGER NOT NULL PRIMARY KEY,
                    name       TEXT    NOT NULL,
                    sha256     TEXT    NOT NULL,
                    applied_at INTEGER NOT NULL
                )
                """)
            var applied = [Int: String]()
            let select = try connection.statement("SELECT version, sha256 FROM schema_migrations ORDER BY version")
            while try select.step() { applied[Int(select.int64(0))] = select.text(1) ?? "" }

            var ran = [Migration]()
            for migration in try Migration.toApply(migrations, applied: applied) {
                try connection.transaction { () throws(SQLiteError) in
                    try connection.execute(migration.sql)
                    let insert = try connection.statement(
                        "INSERT INTO schema_migrations (version, name, sha256, applied_at) VALUES (?, ?, ?, ?)")
                    try insert.bind(Int64(migration.version), at: 1)
                    try insert.bind(migration.name, at: 2)
                    try insert.bind(migration.checksum, at: 3)
                    try insert.bind(now, at: 4)
                    try insert.run()
                }
                ran.append(migration)
            }
            return ran
        } catch let error as MigrationError {
            throw error
        } catch let error as SQLiteError {
            throw .database(error)
        } catch {
            throw .database(SQLiteError(code: -1, message: "\(error)"))
        }
    }
}
