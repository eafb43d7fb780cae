import ArgumentParser
import Foundation
import PermIDStore

/// `permidd backup PATH`: a consistent copy of a database that may be in use by a running server.
struct BackupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Copy the database with SQLite's online backup API, safely while permidd serves.",
        discussion: "Example:\n  permidd backup --database ./data/permid.sqlite /backups/permid-$(date +%F).sqlite"
    )

    @OptionGroup var database: DatabaseOptions

    @Argument(help: "The new file to write; it must not exist.")
    var path: String

    func run() throws {
        guard !database.isPostgres else {
            throw CommandFailure("permidd backup copies SQLite files; back up a PostgreSQL database with pg_dump (e.g. pg_dump --format=custom --file=permid.dump \(database.location))")
        }
        guard !FileManager.default.fileExists(atPath: path) else {
            throw CommandFailure("\(path) exists; refusing to overwrite it")
        }
        let opened = try database.openStore()
        defer { opened.close() }
        guard let store = opened as? SQLiteRecordStore else { throw CommandFailure("backup needs an SQLite database") }
        do {
            try store.backup(to: path)
        } catch {
            try? FileManager.default.removeItem(atPath: path)
            throw CommandFailure("backup failed: \(error.detail)")
        }
        print("backed up \(database.database) to \(path)")
    }
}
