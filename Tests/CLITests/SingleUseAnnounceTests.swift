import Foundation
import PermIDKit
import Testing

/// `permid announce --single-use`: a fresh key in memory, its PermID printed, kept alive, withdrawn on SIGTERM,
/// and nothing written to disk.
@Suite struct SingleUseAnnounceTests {
    @Test func aSingleUsePermIDIsAnnouncedAndWithdrawnWithoutTouchingTheDisk() throws {
        let directory = try Directory()
        let home = directory.directory + "/home"
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        let process = Process()
        process.executableURL = Processes.products.appendingPathComponent("permid")
        process.arguments = ["announce", "--single-use", "--port", "7300", "--ttl", "60"]
        process.environment = ProcessInfo.processInfo.environment.merging(
            ["PERMID_SERVER": directory.url, "XDG_CONFIG_HOME": directory.directory + "/config", "HOME": home]) { $1 }
        process.currentDirectoryURL = URL(fileURLWithPath: home)
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        var text = ""
        while !text.contains("announced") {
            let data = out.fileHandleForReading.availableData
            if data.isEmpty { break }
            text += String(decoding: data, as: UTF8.self)
        }
        let permID = String(text.split(separator: "\n").first ?? "")
        #expect(try PublicKey(text: permID).permID.keyType == .ed25519, "the first line is the PermID: \(text)")
        let live = try directory.permid(["resolve", permID])
        #expect(live.status == 0 && live.stdout == "127.0.0.1:7300\n", "\(live.stderr)")

        process.terminate()
        process.waitUntilExit()
        text += String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus == 0 && text.split(separator: "\n").last?.contains("withdrawn") == true, "\(text)")
        let after = try directory.permid(["resolve", permID, "--json"])
        #expect(after.stdout.contains("\"status\":\"withdrawn\""), "\(after.stdout)")

        #expect(!FileManager.default.fileExists(atPath: directory.directory + "/config"), "nothing is written under the config directory")
        // Foundation's URLSession makes empty cache directories under HOME (swift-corelibs-foundation's URLCache
        // does so at start-up whatever the session asks); no file is written there.
        let files = FileManager.default.enumerator(atPath: home)?.compactMap { $0 as? String }
            .filter { (try? FileManager.default.attributesOfItem(atPath: home + "/" + $0)[.type] as? FileAttributeType) != .typeDirectory }
        #expect(files == [], "no file is written under HOME: \(files ?? [])")
        #expect(try directory.permid(["announce", "--single-use", "--key", "x", "--port", "1"]).status == 1)
    }
}
