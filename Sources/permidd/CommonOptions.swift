import ArgumentParser
import Foundation
import Logging
import PermIDStore

/// Where the database is and how durable commits are; shared by every subcommand that opens it.
struct DatabaseOptions: ParsableArguments {
    @Option(help: "The SQLite database file (its directory is created if missing), or a PostgreSQL database: postgresql://USER:PASSWORD@HOST:PORT/DB, postgres://…, or libpq keywords \"host=… dbname=…\". (env: PERMIDD_DATABASE)")
    var database = "./data/permid.sqlite"

    /// Whether `--database` names a PostgreSQL database rather than an SQLite file.
    var isPostgres: Bool { PostgresConnectionString.names(database) }

    /// `--database` fit for logs and messages: the password of a connection string masked.
    var location: String {
        guard isPostgres else { return database }
        return (try? PostgresConnectionString(database).description) ?? "the PostgreSQL database"
    }

    /// Opens the store (PostgreSQL for a connection string, SQLite for a path, creating its
    /// directory), or exits with one clear line, any password masked. `sync` applies to SQLite only.
    func openStore(sync: SyncMode = .full, migrate: Bool = true) throws -> any DatabaseRecordStore {
        if isPostgres {
            do {
                return try PostgresRecordStore(connectionString: PostgresConnectionString(database), migrate: migrate)
            } catch let error as PostgresError {
                throw CommandFailure(error.description)
            } catch let error as StoreOpenError {
                throw CommandFailure(error.description)
            }
        }
        let directory = URL(fileURLWithPath: database).deletingLastPathComponent().path
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw CommandFailure("cannot create the database directory \(directory): \(error.localizedDescription)")
        }
        do {
            return try SQLiteRecordStore(path: database, sync: sync, migrate: migrate)
        } catch {
            throw CommandFailure(error.description)
        }
    }
}

/// Log level and format.
struct LogOptions: ParsableArguments {
    @Option(help: "Least severe level logged: trace, debug, info, notice, warning, error, critical. Each request is logged at info. (env: PERMIDD_LOG_LEVEL)")
    var logLevel: Logger.Level = .info

    @Option(help: "Log line format: text or json. (env: PERMIDD_LOG_FORMAT)")
    var logFormat: LogFormat = .text

    /// Sets up swift-log for the process and returns the server's logger.
    func bootstrap() -> Logger {
        let level = logLevel
        let format = logFormat
        LoggingSystem.bootstrap { label in
            var handler = StandardErrorLogHandler(label: label, format: format)
            handler.logLevel = level
            return handler
        }
        return Logger(label: "permidd")
    }
}

/// A log line format.
enum LogFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json
}

extension Logger.Level: @retroactive ExpressibleByArgument {}

extension SyncMode: ExpressibleByArgument {}

/// A failure reported as one line on stderr with exit status 1, never a stack trace.
struct CommandFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension CommandFailure: LocalizedError {
    var errorDescription: String? { description }
}
