import Foundation
import PermIDKit
import Testing

/// The permidd subcommands other than serve, and configuration from the environment.
@Suite struct PermiddCommandTests {
    @Test func exportImportAndBackupCarryVerifiableRecords() throws {
        let directory = try Directory()
        for index in 0..<5 {
            #expect(try directory.permid(["keygen", "--out", directory.directory + "/k\(index).pem"]).status == 0)
            #expect(try directory.permid(["announce", "--key", directory.directory + "/k\(index).pem", "--port", "700\(index)"]).status == 0)
        }
        #expect(try directory.permid(["withdraw", "--key", directory.directory + "/k0.pem"]).status == 0)
        let database = directory.directory + "/permid.sqlite"

        let export = try Processes.run("permidd", ["export", "--database", database])
        #expect(export.status == 0 && export.stderr.contains("exported 5 records"), "\(export.stderr)")
        let lines = export.stdout.split(separator: "\n")
        #expect(lines.count == 5)
        for line in lines {
            let verified = try Processes.run("permid", ["verify", "-"], stdin: String(line))
            #expect(verified.status == 0, "every exported line verifies on its own")
        }

        let copy = directory.directory + "/copy.sqlite"
        let tampered = export.stdout.replacingOccurrences(of: "\"port\":7001", with: "\"port\":7009")
        let imported = try Processes.run("permidd", ["import", "--database", copy, "-"], stdin: tampered + "not json\n")
        #expect(imported.status == 0)
        #expect(imported.stdout.contains("accepted 4, rejected 2 (bad-signature 1, malformed-json 1)"), "\(imported.stdout)")
        let again = try Processes.run("permidd", ["import", "--database", copy, "-"], stdin: export.stdout)
        #expect(again.stdout.contains("accepted 1, rejected 4 (stale-seq 4)"), "\(again.stdout)")

        let backup = directory.directory + "/backup.sqlite"
        let backedUp = try Processes.run("permidd", ["backup", "--database", database, backup])
        #expect(backedUp.status == 0, "\(backedUp.stderr)")
        let fromBackup = try Processes.run("permidd", ["export", "--database", backup])
        #expect(fromBackup.stdout == export.stdout)
        #expect(try Processes.run("permidd", ["backup", "--database", database, backup]).status != 0, "never overwrites")
        // The newest SQLite migration the binary carries: the highest NNNN of Migrations/sqlite/NNNN_name.sql.
        let migrations = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Migrations/sqlite")
        let newest = try FileManager.default.contentsOfDirectory(atPath: migrations.path).filter { $0.hasSuffix(".sql") }.max() ?? ""
        #expect(try Processes.run("permidd", ["migrate", "--database", copy]).stdout.hasPrefix("schema is at version \(Int(newest.prefix(4)) ?? 0) (\(newest))"))
    }

    @Test func optionsComeFromTheEnvironmentAndBadOnesFailClearly() throws {
        let directory = NSTemporaryDirectory() + "permid-env-\(UUID().uuidString)"
        let garbage = directory + "/garbage.sqlite"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try Data(repeating: 0x41, count: 4096).write(to: URL(fileURLWithPath: garbage))
        let refused = try Processes.run("permidd", ["serve"], environment: ["PERMIDD_DATABASE": garbage, "PERMIDD_LISTEN": "127.0.0.1:0"])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("is not a permid database"), "\(refused.stderr)")
        #expect(!refused.stderr.contains("Fatal error"))
        let badListen = try Processes.run("permidd", ["serve", "--database", directory + "/p.sqlite"], environment: ["PERMIDD_LISTEN": "nonsense"])
        #expect(badListen.status != 0 && badListen.stderr.contains("'nonsense' is invalid for '--listen"), "\(badListen.stderr)")
        let help = try Processes.run("permidd", ["serve", "--help"])
        let words = help.stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(words.contains("PERMIDD_ENDPOINT_POLICY") && words.contains("(default: 127.0.0.1:8080)"))
        try? FileManager.default.removeItem(atPath: directory)
    }
}
