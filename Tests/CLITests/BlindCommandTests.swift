import Foundation
import PermIDKit
import Testing

/// `permid blind`, run as the real binary, against Tests/Vectors/blinding.json.
@Suite struct BlindCommandTests {
    struct Vectors: Decodable {
        struct Key: Decodable { let name, kind, permid, private_key, private_key_format: String }
        struct Vector: Decodable { let key, blinded_permid: String; let epoch: UInt64 }
        let keys: [Key]
        let vectors: [Vector]
    }

    static let vectors: Vectors = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Vectors/blinding.json")
        return try! JSONDecoder().decode(Vectors.self, from: Data(contentsOf: url))
    }()

    /// A temporary directory removed when the value goes away.
    final class Scratch {
        let path = NSTemporaryDirectory() + "permid-blind-\(UUID().uuidString)"
        init() throws { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) }
        deinit { try? FileManager.default.removeItem(atPath: path) }

        func permid(_ arguments: [String]) throws -> Processes.Result {
            try Processes.run("permid", arguments, environment: ["XDG_CONFIG_HOME": path + "/config", "PERMID_KEY": ""])
        }
    }

    @Test func blindsPermIDsAndKeyFilesAsTheVectorsSay() throws {
        let scratch = try Scratch()
        let keys = Dictionary(uniqueKeysWithValues: Self.vectors.keys.map { ($0.name, $0) })
        for vector in Self.vectors.vectors {
            let key = keys[vector.key]!
            let byPermID = try scratch.permid(["blind", key.permid, "--epoch", "\(vector.epoch)"])
            #expect(byPermID.status == 0 && byPermID.stdout == vector.blinded_permid + "\n", "\(vector.key): \(byPermID.stderr)")
            let file = scratch.path + "/\(key.name).key"
            let contents = key.private_key_format == "ipv8-bin" ? Base64URL.decode(key.private_key)! : Array(key.private_key.utf8)
            try Data(contents).write(to: URL(fileURLWithPath: file))
            let byKey = try scratch.permid(["blind", "--key", file, "--epoch", "\(vector.epoch)"])
            #expect(byKey.status == 0 && byKey.stdout == vector.blinded_permid + "\n", "\(vector.key): \(byKey.stderr)")
        }
    }

    @Test func blindsAFriendByName() throws {
        let scratch = try Scratch()
        let vector = Self.vectors.vectors.first { $0.key.hasPrefix("blind-libnacl") }!
        let permID = Self.vectors.keys.first { $0.name == vector.key }!.permid
        #expect(try scratch.permid(["friends", "add", "alice", permID]).status == 0)
        let result = try scratch.permid(["blind", "alice", "--epoch", "\(vector.epoch)"])
        #expect(result.status == 0 && result.stdout == vector.blinded_permid + "\n", "\(result.stderr)")
    }

    @Test func defaultsToTheDefaultKeyAndTheCurrentEpoch() throws {
        let scratch = try Scratch()
        #expect(try scratch.permid(["keygen", "--type", "libnacl"]).status == 0)
        let before = Blinding.epoch(at: UInt64(Date().timeIntervalSince1970))
        let result = try scratch.permid(["blind", "--json"])
        let after = Blinding.epoch(at: UInt64(Date().timeIntervalSince1970))
        #expect(result.status == 0, "\(result.stderr)")
        let fields = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as! [String: Any]
        let epoch = try #require(fields["epoch"] as? UInt64)
        #expect(epoch == before || epoch == after)
        let longTerm = try PublicKey(text: fields["permid"] as! String).permID
        #expect(longTerm.keyType == .libnacl)
        let blinded = try PublicKey(text: fields["blinded_permid"] as! String).permID
        #expect(blinded == (try longTerm.blinded(epoch: epoch)) && blinded.keyType == .ed25519)
    }

    @Test func refusesBinaryCurvesBadInputAndBothSources() throws {
        let scratch = try Scratch()
        let file = scratch.path + "/sect233k1.pem"
        #expect(try scratch.permid(["keygen", "--type", "sect233k1", "--out", file]).status == 0)
        let refused = try scratch.permid(["blind", "--key", file])
        #expect(refused.status == 1 && refused.stderr.contains("sect233k1 keys cannot be blinded"), "\(refused.stderr)")
        let permID = try PrivateKey(fileContents: Array(Data(contentsOf: URL(fileURLWithPath: file)))).permID.text
        let byPermID = try scratch.permid(["blind", permID, "--epoch", "3"])
        #expect(byPermID.status == 1 && byPermID.stderr.contains("cannot be blinded") && byPermID.stdout.isEmpty)
        let invalid = try scratch.permid(["blind", "not-a-permid"])
        #expect(invalid.status == 1 && invalid.stderr.contains("nor a valid PermID"), "\(invalid.stderr)")
        let both = try scratch.permid(["blind", permID, "--key", file])
        #expect(both.status == 1 && both.stderr.contains("not both"), "\(both.stderr)")
        let badEpoch = try scratch.permid(["blind", permID, "--epoch", "-1"])
        #expect(badEpoch.status == 1)
    }
}
