import Foundation
import PermIDKit
import Testing
@testable import PermIDStore

/// Kills a process writing through the store with SIGKILL at random moments and checks, after each
/// reopen, that every acknowledged write is present and the database passes `PRAGMA integrity_check`.
@Suite struct DurabilityTests {
    @Test(arguments: [SyncMode.full])
    func acknowledgedWritesSurviveKillNine(sync: SyncMode) throws {
        let database = StoreFixtures.temporaryDirectory() + "/permid.sqlite"
        let writer = StoreFixtures.productsDirectory.appendingPathComponent("store-crash-writer").path
        #expect(FileManager.default.isExecutableFile(atPath: writer), "build the package first: \(writer)")
        var totalAcks = 0
        for round in 0..<10 {
            let acknowledged = try runAndKill(writer, database, sync: sync, after: .milliseconds(Int.random(in: 150...600)))
            totalAcks += acknowledged.count
            let store = try SQLiteRecordStore(path: database, sync: sync)
            for (permIDHex, seq) in acknowledged {
                let permID = try #require(hexBytes(permIDHex))
                let storedSeq = try store.record(for: permID, now: UInt64(Date().timeIntervalSince1970))?.seq
                #expect(storedSeq.map { $0 >= seq } == true, "round \(round): acknowledged seq \(seq) lost")
            }
            #expect(try integrityCheck(database) == "ok")
            store.close()
        }
        #expect(totalAcks > 10, "the writer acknowledged too little to test anything")
    }

    /// Starts the writer, kills it with SIGKILL after `delay`, and returns the highest acknowledged seq per PermID.
    private func runAndKill(_ writer: String, _ database: String, sync: SyncMode, after delay: Duration) throws -> [String: UInt64] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: writer)
        process.arguments = [database, sync.rawValue]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        Thread.sleep(forTimeInterval: Double(delay.components.attoseconds) / 1e18 + Double(delay.components.seconds))
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        var acknowledged = [String: UInt64]()
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ")
            // A line cut short by the kill was never fully printed, so it was not an acknowledgement.
            guard parts.count == 3, parts[0] == "ack", let seq = UInt64(parts[1]), parts[2].count >= 88 else { continue }
            acknowledged[String(parts[2])] = max(acknowledged[String(parts[2])] ?? 0, seq)
        }
        return acknowledged
    }

    private func integrityCheck(_ database: String) throws -> String? {
        let connection = try SQLiteConnection(path: database, readOnly: true)
        let check = try connection.statement("PRAGMA integrity_check")
        return try check.step() ? check.text(0) : nil
    }

    private func hexBytes(_ hex: String) -> [UInt8]? {
        let digits = Array(hex.utf8)
        guard digits.count % 2 == 0 else { return nil }
        return stride(from: 0, to: digits.count, by: 2).compactMap { UInt8(String(decoding: digits[$0..<($0 + 2)], as: UTF8.self), radix: 16) }
    }
}
