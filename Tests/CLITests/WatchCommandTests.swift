import Foundation
import PermIDKit
import Testing

/// `permid watch` against a real permidd: the current record, then each new one as it is stored.
@Suite struct WatchCommandTests {
    @Test func printsEachNewRecordAsItArrives() throws {
        let directory = try Directory()
        let key = directory.directory + "/key.pem"
        let permID = try directory.permid(["keygen", "--out", key]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try directory.permid(["announce", "--key", key, "--port", "7301"]).status == 0)
        #expect(try directory.permid(["friends", "add", "alice", permID]).status == 0)

        // Change the record twice, each time after the watcher printed the record before: it prints
        // three records, each when it is stored, and exits.
        let watcher = Process()
        watcher.executableURL = Processes.products.appendingPathComponent("permid")
        watcher.arguments = ["watch", "alice", "--count", "3", "--wait", "30"]
        watcher.environment = ProcessInfo.processInfo.environment.merging(
            ["PERMID_SERVER": directory.url, "XDG_CONFIG_HOME": directory.directory + "/config"]) { $1 }
        let out = Pipe()
        watcher.standardOutput = out
        watcher.standardError = FileHandle.nullDevice
        try watcher.run()
        defer { if watcher.isRunning { watcher.terminate() } }
        var printed = ""
        func awaitLines(_ count: Int) {
            let deadline = Date().addingTimeInterval(20)
            while printed.split(separator: "\n").count < count && Date() < deadline {
                let data = out.fileHandleForReading.availableData
                if data.isEmpty { break }
                printed += String(decoding: data, as: UTF8.self)
            }
        }
        awaitLines(1)
        #expect(try directory.permid(["announce", "--key", key, "--port", "7302"]).status == 0)
        let announced = Date()
        awaitLines(2)
        #expect(Date().timeIntervalSince(announced) < 10, "woken by the store, not by the end of the wait")
        #expect(try directory.permid(["withdraw", "--key", key]).status == 0)
        awaitLines(3)
        watcher.waitUntilExit()
        #expect(watcher.terminationStatus == 0)
        let lines = printed.split(separator: "\n")
        #expect(lines.count == 3 && lines[0].contains("127.0.0.1:7301") && lines[1].contains("127.0.0.1:7302") && lines[2].contains("withdrawn"),
                "\(printed)")

        let json = try directory.permid(["watch", permID, "--count", "1", "--json"])
        let record = try RecordValidator().validateRecord(
            json: Array(json.stdout.trimmingCharacters(in: .whitespacesAndNewlines).utf8), now: UInt64(Date().timeIntervalSince1970),
            freshness: .standalone)
        #expect(record.permID.text == permID && record.endpoints.isEmpty, "NDJSON lines are the signed records themselves")
        #expect(try directory.permid(["watch", permID, "--wait", "0"]).status == 1)
    }

    @Test func aForgedRecordIsReportedNeverPrinted() throws {
        let honest = try PrivateKey.generate(.ed25519)
        let other = try PrivateKey.generate(.ed25519)
        let now = UInt64(Date().timeIntervalSince1970)
        let foreign = try SignedRecord.sign(
            with: other, seq: 1, issuedAt: now, expiresAt: now + 600, endpoints: [Endpoint("198.51.100.7:1")!])
        let liar = try LyingDirectory { _ in .init(status: 200, headers: ["Content-Type": "application/json"], body: String(decoding: foreign.json, as: UTF8.self)) }
        let watched = try Processes.run(
            "permid", ["watch", honest.permID.text, "--server", liar.url, "--wait", "1"], terminateAfter: 3)
        #expect(watched.status == SIGTERM && !watched.stderr.contains("Fatal error") && watched.stdout.isEmpty, "\(watched.stdout)")
        #expect(watched.stderr.contains("FORGED record refused"), "\(watched.stderr)")
        #expect(liar.requests.count <= 4, "it backs off instead of asking again at once: \(liar.requests.count) requests in 3 s")
    }
}
