import Foundation
import PackagePlugin

/// Compiles top-level files into a module so an installed binary carries them while the files in the
/// repository stay the single source: `Migrations/*.sql` into PermIDStore (`embeddedMigrations`) and
/// `openapi.yaml` into PermIDServer (`embeddedOpenAPI`).
@main
struct EmbedFiles: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let root = context.package.directoryURL
        let variable: String
        let files: [URL]
        switch target.name {
        case "PermIDStore":
            variable = "embeddedMigrations"
            let directory = root.appending(path: "Migrations")
            files = try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
                .filter { $0.pathExtension == "sql" }
                .sorted { $0.lastPathComponent < $1.lastPathComponent }
        case "PermIDServer":
            variable = "embeddedOpenAPI"
            files = [root.appending(path: "openapi.yaml")]
        default:
            return []
        }
        let output = context.pluginWorkDirectoryURL.appending(path: "\(variable).swift")
        return [
            .buildCommand(
                displayName: "Embedding \(files.count) file(s) as \(variable)",
                executable: try context.tool(named: "embed-files").url,
                arguments: [output.path, variable] + files.map(\.path),
                inputFiles: files,
                outputFiles: [output])
        ]
    }
}
