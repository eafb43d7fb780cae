import ArgumentParser

/// The root command: `permidd serve | migrate | export | import | backup`.
struct Permidd: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "permidd",
        abstract: "The PermID directory: peers publish signed (PermID, endpoint) records, clients resolve and verify them.",
        discussion: """
            Every option can also be set with an environment variable named PERMIDD_ and the option's name \
            in capitals with '-' as '_' (for example PERMIDD_DATABASE, PERMIDD_LISTEN). A command-line option \
            wins over the environment. Repeatable options take a comma-separated list from the environment.
            """,
        version: "1.0.0",
        subcommands: [ServeCommand.self, MigrateCommand.self, ExportCommand.self, ImportCommand.self, BackupCommand.self],
        defaultSubcommand: ServeCommand.self
    )
}
