import ArgumentParser
import Foundation
import PermIDKit
import PermIDStore

/// `permidd export`: NDJSON of every live signed record, which anyone can verify.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write every live record as NDJSON (one signed record per line) to standard output or a file.",
        discussion: "Examples:\n  permidd export > records.ndjson\n  permidd export --output records.ndjson"
    )

    @OptionGroup var database: DatabaseOptions

    @Option(help: "Write to this file instead of standard output.")
    var output: String?

    func run() throws {
        let store = try database.openStore()
        defer { store.close() }
        let handle: FileHandle
        if let output {
            guard FileManager.default.createFile(atPath: output, contents: nil) else {
                throw CommandFailure("cannot create \(output)")
            }
            handle = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
        } else {
            handle = FileHandle.standardOutput
        }
        let now = UInt64(Date().timeIntervalSince1970)
        var cursor: [UInt8]?
        var count = 0
        repeat {
            let page = try store.list(after: cursor, address: nil, limit: ProtocolConstants.listingLimits.upperBound, now: now)
            var lines = [UInt8]()
            for record in page.records { lines += record.json + [0x0A] }
            handle.write(Data(lines))
            count += page.records.count
            cursor = page.nextCursor
        } while cursor != nil
        FileHandle.standardError.write(Data("exported \(count) records\n".utf8))
    }
}
