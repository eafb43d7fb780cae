import Foundation

// Writes a Swift file declaring `embeddedMigrations`: (file name, SQL text) for each SQL file given,
// in the order given. Usage: embed-migrations OUTPUT.swift FILE.sql...
let arguments = CommandLine.arguments.dropFirst()
guard let outputPath = arguments.first else {
    FileHandle.standardError.write(Data("usage: embed-migrations OUTPUT.swift FILE.sql...\n".utf8))
    exit(1)
}
var source = "// Generated from Migrations/ by the EmbedMigrations plugin. Do not edit.\n"
source += "let embeddedMigrations: [(name: String, sql: String)] = [\n"
for path in arguments.dropFirst() {
    let url = URL(fileURLWithPath: path)
    let sql = try String(contentsOf: url, encoding: .utf8)
    let bytes = Array(sql.utf8).map(String.init).joined(separator: ",")
    source += "    (\"\(url.lastPathComponent)\", String(decoding: [\(bytes)] as [UInt8], as: UTF8.self)),\n"
}
source += "]\n"
try source.write(toFile: outputPath, atomically: true, encoding: .utf8)
