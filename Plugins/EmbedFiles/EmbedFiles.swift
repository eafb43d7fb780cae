import Foundation
import PackagePlugin

/// Compiles top-level files into a module so an installed binary carries them while the files in the
/// repository stay the single source: `Migrations/sqlite/*.sql` and `Migrations/postgres/*.sql` into
/// PermIDStore (`embeddedMigrations`, `embeddedPostgresMigrations`) and `openapi.yaml` into
/// PermIDServer (`embeddedOpenAPI`).
@main
struct EmbedFiles: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let root = context.package.directoryURL
        let embeddings: [(variable: String, files: [URL])]
        switch target.name {
        case "PermIDStore":
            embeddings = [
                ("embeddedMigrations", try sqlFiles(in: root.appending(path: "Migrations/sqlite"))),
                ("embeddedPostgresMigrations", try sqlFiles(in: root.appending(path: "Migrations/postgres"))),
            ]
        case "PermIDServer":
            embeddings = [("embeddedOpenAPI", [root.appending(path: "openapi.yaml")])]
        default:
            return []
        }
        return try embeddings.map { variable, files in
            let output = context.pluginWorkDirectoryURL.appending(path: "\(variable).swift")
            return .buildCommand(
                displayName: "Embedding \(files.count) file(s) as \(variable)",
                executable: try context.tool(named: "embed-files").url,
                arguments: [output.path, variable] + files.map(\.path),
                inputFiles: files,
                outputFiles: [output])
        }
    }

    /// The `.sql` files of `directory`, in name order.
    private func sqlFiles(in directory: URL) throws -> [URL] {
        try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "sql" }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
    }
}
