import Foundation

/// Applies ``Migration``s to PostgreSQL in order, each in its own transaction, recording them in
/// `schema_migrations`, under a session advisory lock: when several nodes start together, one
/// migrates and the others wait, then find nothing left to do.
struct PostgresMigrator {
    /// The advisory lock key every permidd takes while it checks or applies migrations ("permid" in ASCII).
    static let lockKey: Int64 = 0x7065_726D_6964

    let migrations: [Migration]

    /// Brings the schema up to date (or, with `apply` false, refuses a database that needs it);
    /// returns the migrations applied now.
    func migrate(_ connection: PostgresConnection, apply: Bool = true, now: Int64) throws(MigrationError) -> [Migration] {
        do {
            _ = try connection.query("SELECT pg_advisory_lock($1)", [.int64(Self.lockKey)])
            defer { _ = try? connection.query("SELECT pg_advisory_unlock($1)", [.int64(Self.lockKey)]) }
            try connection.execute("""
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version    integer NOT NULL PRIMARY KEY,
                    name       text    NOT NULL,
                    sha256     text    NOT NULL,
                    applied_at bigint  NOT NULL
                )
                """)
            var applied = [Int: String]()
            let rows = try connection.query("SELECT version::bigint, sha256 FROM schema_migrations ORDER BY version")
            for row in 0..<rows.count { applied[Int(rows.int64(row, 0))] = rows.text(row, 1) ?? "" }

            var ran = [Migration]()
            for migration in try Migration.toApply(migrations, applied: applied) {
                guard apply else { throw MigrationError.needsMigration }
                try connection.execute("BEGIN")
                do {
                    try connection.execute(migration.sql)
                    _ = try connection.query(
                        "INSERT INTO schema_migrations (version, name, sha256, applied_at) VALUES ($1::bigint, $2, $3, $4)",
                        [.int64(Int64(migration.version)), .text(migration.name), .text(migration.checksum), .int64(now)])
                    try connection.execute("COMMIT")
                } catch {
                    if !connection.isBroken { try? connection.execute("ROLLBACK") }
                    throw error
                }
                ran.append(migration)
            }
            return ran
        } catch let error as MigrationError {
            throw error
        } catch let error as PostgresError {
            throw .postgres(error)
        } catch {
            throw .postgres(PostgresError(message: "\(error)"))
        }
    }
}
