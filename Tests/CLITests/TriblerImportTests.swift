import Foundation
import PermIDKit
import Testing

/// Real Tribler/IPv8 identities (made by IPv8's own key code, see Tests/Vectors) are imported and
/// announce with the identity unchanged.
@Suite struct TriblerImportTests {
    struct KeyVector: Decodable, Sendable, CustomTestStringConvertible {
        let name, kind, permid, private_key, private_key_format: String
        var testDescription: String { name }
    }

    static let ipv8Keys: [KeyVector] = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Vectors/keys.json")
        let all = try! JSONDecoder().decode([KeyVector].self, from: Data(contentsOf: url))
        return all.filter { $0.name.hasPrefix("ipv8-") }
    }()

    @Test(arguments: ipv8Keys)
    func importedIPv8KeyAnnouncesUnchanged(vector: KeyVector) throws {
        let directory = try Directory()
        let file = directory.directory + "/tribler.key"
        let bytes = vector.private_key_format == "ipv8-bin" ? Base64URL.decode(vector.private_key)! : Array(vector.private_key.utf8)
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        let imported = try directory.permid(["import-tribler", file, "--out", directory.directory + "/imported"])
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(imported.stdout == vector.permid + "\n", "the identity is unchanged")
        let announce = try directory.permid(["announce", "--key", directory.directory + "/imported", "--port", "7000", "--json"])
        #expect(announce.status == 0, "\(announce.stderr)")
        let expectedScheme = vector.kind.hasPrefix("sect") ? "ecdsa-sha1" : vector.kind == "libnacl" ? "ed25519" : "ecdsa-sha256"
        #expect(announce.stdout.contains("\"sig_alg\":\"\(expectedScheme)\""))
        let resolve = try directory.permid(["resolve", vector.permid])
        #expect(resolve.status == 0 && resolve.stdout == "127.0.0.1:7000\n", "\(resolve.stderr)")
    }
}
