import ArgumentParser
import PermIDStore

/// `permidd migrate`: brings the database schema up to date and reports the version.
struct MigrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Apply the schema migrations this binary carries (serve also does this at start).",
        discussion: "Example:\n  permidd migrate --database ./data/permid.sqlite"
    )

    @OptionGroup var database: DatabaseOptions

    func run() throws {
        let store = try database.openStore()
        store.close()
        let latest = (database.isPostgres ? Migration.embeddedPostgres : Migration.embedded).last
        print("schema is at version \(latest?.version ?? 0) (\(latest?.name ?? "none")) in \(database.location)")
    }
}
