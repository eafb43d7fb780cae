import Foundation
import PermIDKit
import Testing

@Suite struct CommandLineTests {
    @Test(arguments: KeyType.all)
    func keygenAnnounceResolveForEveryKeyType(type: KeyType) throws {
        let directory = try Directory()
        let keyPath = directory.directory + "/\(type.name).pem"
        let keygen = try directory.permid(["keygen", "--type", type.name, "--out", keyPath])
        #expect(keygen.status == 0, "\(keygen.stderr)")
        let permID = keygen.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try PublicKey(text: permID).permID.keyType == type)
        let attributes = try FileManager.default.attributesOfItem(atPath: keyPath)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)

        let announce = try directory.permid(["announce", "--key", keyPath, "--port", "6881", "--json"])
        #expect(announce.status == 0, "\(announce.stderr)")
        #expect(announce.stdout.contains("\"sig_alg\":\"\(type.defaultScheme.rawValue)\""))
        let resolve = try directory.permid(["resolve", permID])
        #expect(resolve.status == 0 && resolve.stdout == "127.0.0.1:6881\n", "\(resolve.stderr)")
    }

    @Test func keysAreNeverOverwrittenWithoutForceAndLandInTheDefaultPlace() throws {
        let directory = try Directory()
        let first = try directory.permid(["keygen"])
        #expect(first.status == 0)
        let defaultPath = directory.directory + "/config/permid/default.pem"
        let original = try Data(contentsOf: URL(fileURLWithPath: defaultPath))
        let again = try directory.permid(["keygen"])
        #expect(again.status == 5 && again.stderr.contains("--force"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: defaultPath)) == original)
        #expect(try directory.permid(["keygen", "--force"]).status == 0)
        #expect(try Data(contentsOf: URL(fileURLWithPath: defaultPath)) != original)
        let id = try directory.permid(["id", "--json"])
        #expect(id.status == 0 && id.stdout.contains("\"member_id\""))
    }

    @Test func resolveRefusesARecordAlteredInTransit() throws {
        let directory = try Directory()
        #expect(try directory.permid(["keygen"]).status == 0)
        #expect(try directory.permid(["announce", "--port", "6881"]).status == 0)
        let permID = try directory.permid(["id", "--quiet"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let honest = try directory.permid(["resolve", permID])
        #expect(honest.status == 0 && honest.stdout == "127.0.0.1:6881\n")

        let proxy = try TamperingProxy(upstream: directory.url, path: "/v1/peers/" + permID)
        let forged = try directory.permid(["resolve", permID, "--server", proxy.url])
        #expect(forged.status == 3, "\(forged.stdout) \(forged.stderr)")
        #expect(forged.stderr.contains("FORGED") && forged.stdout.isEmpty)

        let served = try Processes.run("permid", ["verify", "-"], stdin: fetch(proxy.url + "/v1/peers/" + permID))
        #expect(served.status == 3)
        let good = try Processes.run("permid", ["verify", "-"], stdin: fetch(directory.url + "/v1/peers/" + permID))
        #expect(good.status == 0 && good.stdout.hasPrefix("valid: "))
    }

    @Test func keepAliveReannouncesBeforeExpiryAndWithdrawsOnExit() throws {
        let directory = try Directory()
        #expect(try directory.permid(["keygen"]).status == 0)
        let permID = try directory.permid(["id", "--quiet"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let process = Process()
        process.executableURL = Processes.products.appendingPathComponent("permid")
        process.arguments = ["announce", "--port", "6881", "--ttl", "4", "--keep-alive", "--withdraw-on-exit"]
        process.environment = ProcessInfo.processInfo.environment.merging(
            ["PERMID_SERVER": directory.url, "XDG_CONFIG_HOME": directory.directory + "/config"]) { $1 }
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        Thread.sleep(forTimeInterval: 5.5)
        let live = try Processes.run("permid", ["resolve", permID, "--server", directory.url])
        #expect(live.status == 0 && live.stdout == "127.0.0.1:6881\n", "the record was renewed before its 4 s TTL ran out")
        process.terminate()
        process.waitUntilExit()
        let lines = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).split(separator: "\n")
        #expect(lines.filter { $0.contains("announced") }.count >= 3, "\(lines)")
        #expect(lines.last?.contains("withdrawn") == true)
        let after = try Processes.run("permid", ["resolve", permID, "--server", directory.url, "--json"])
        #expect(after.stdout.contains("\"status\":\"withdrawn\""))
    }

    @Test func serverDownAndNotFoundHaveTheirExitStatus() throws {
        let directory = try Directory()
        #expect(try directory.permid(["keygen"]).status == 0)
        let permID = try directory.permid(["id", "--quiet"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try directory.permid(["resolve", permID]).status == 2)
        let down = try directory.permid(["resolve", permID, "--server", "http://127.0.0.1:1"])
        #expect(down.status == 4 && down.stderr.hasPrefix("permid: cannot reach"))
        #expect(try directory.permid(["resolve", "AAAA"]).status == 1)
        #expect(try directory.permid(["announce"]).status == 1)
        let help = try directory.permid(["announce", "--help"])
        #expect(help.status == 0 && help.stdout.contains("Examples:"))
    }

    private func fetch(_ url: String) -> String {
        (try? String(contentsOf: URL(string: url)!, encoding: .utf8)) ?? ""
    }
}
