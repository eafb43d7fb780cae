import Foundation
import PermIDClient
import PermIDKit
import Testing

/// `permid announce --friends-only`, `permid resolve FRIEND`, `permid withdraw --friends-only` and
/// `permid connect FRIEND` (FRIENDS-v1 parts A and B) against a real permidd, and `resolve` against a
/// directory that serves lying sealed records.
@Suite struct FriendsOnlyCommandTests {
    @Test func aFriendOpensTheSealedRecordAStrangerFallsBackToThePublicOne() throws {
        let directory = try Directory()
        let alice = try directory.keygen("alice"), bob = try directory.keygen("bob", "p256"), eve = try directory.keygen("eve", "libnacl")
        #expect(try directory.permid(["friends", "add", "alice", alice.permID]).status == 0)
        #expect(try directory.permid(["friends", "add", "bob", bob.permID]).status == 0)

        let announce = try directory.permid(["announce", "--key", alice.path, "--friends-only", "--friend", "bob", "--endpoint", "203.0.113.7:7000"])
        let blinded = try directory.permid(["blind", alice.permID]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(announce.status == 0 && announce.stdout.contains("sealed in 8 boxes under \(blinded)"), "\(announce.stdout) \(announce.stderr)")
        #expect(!announce.stdout.contains(alice.permID), "the long-term PermID is never sent")

        let resolved = try directory.permid(["resolve", "alice", "--key", bob.path])
        #expect(resolved.status == 0 && resolved.stdout == "203.0.113.7:7000\n", "\(resolved.stderr)")
        let json = try directory.permid(["resolve", "alice", "--key", bob.path, "--json"])
        #expect(json.stdout.contains(#""friend":"alice","status":"ok","sealed":true,"blinded_permid":"\#(blinded)","endpoints":["203.0.113.7:7000"]"#), "\(json.stdout)")

        let stranger = try directory.permid(["resolve", "alice", "--key", eve.path])
        #expect(stranger.status == 6 && stranger.stderr.contains("not shared with you") && stranger.stdout.isEmpty, "\(stranger.stderr)")
        #expect(try directory.permid(["resolve", "alice", "--key", eve.path, "--json"]).stdout.contains(#""status":"not-shared""#))
        #expect(try directory.permid(["resolve", alice.permID]).status == 2, "a PermID (not a friend's name) is resolved publicly only")

        #expect(try directory.permid(["announce", "--key", alice.path, "--port", "7100"]).status == 0)
        let fallback = try directory.permid(["resolve", "alice", "--key", eve.path])
        #expect(fallback.status == 0 && fallback.stdout == "127.0.0.1:7100\n", "\(fallback.stderr)")
        #expect(fallback.stderr.contains("not shared with you; this is its public record"))
        #expect(try directory.permid(["resolve", "alice", "--key", bob.path]).stdout == "203.0.113.7:7000\n", "the friend still reads the sealed one")

        let withdrawn = try directory.permid(["withdraw", "--key", alice.path, "--friends-only"])
        #expect(withdrawn.status == 0 && withdrawn.stdout.contains("withdrew \(blinded)"), "\(withdrawn.stderr)")
        let after = try directory.permid(["resolve", "alice", "--key", bob.path, "--json"])
        #expect(after.status == 0 && after.stdout.contains(#""status":"withdrawn","sealed":false,"blinded_permid":"\#(blinded)""#), "\(after.stdout)")
    }

    @Test func friendsOnlyArgumentsThatCannotWorkAreRefusedClearly() throws {
        let directory = try Directory()
        let alice = try directory.keygen("alice"), k1 = try directory.keygen("k1", "secp256k1"), binary = try directory.keygen("binary", "sect233k1")
        let bob = try directory.keygen("bob", "p384")
        let announce = ["announce", "--key", alice.path, "--endpoint", "203.0.113.7:7000"]
        let cases: [([String], String)] = [
            (announce + ["--friend", bob.permID], "--friend needs --friends-only"),
            (["announce", "--port", "7000", "--friends-only", "--single-use"], "do not go together"),
            (announce + ["--friends-only", "--scheme", "ed25519", "--friend", bob.permID], "drop --scheme"),
            (announce + ["--friends-only", "--friend", k1.permID], "secp256k1 keys cannot receive sealed records"),
            (announce + ["--friends-only"], "no friend can open a sealed record"),
            (["announce", "--key", binary.path, "--endpoint", "203.0.113.7:7000", "--friends-only", "--friend", bob.permID], "cannot be blinded"),
        ]
        for (arguments, message) in cases {
            let result = try directory.permid(arguments)
            #expect(result.status == 1 && result.stderr.contains(message), "\(arguments): \(result.stderr)")
        }
        #expect(try directory.permid(["friends", "add", "k1", k1.permID]).status == 0)
        #expect(try directory.permid(["friends", "add", "bob", bob.permID]).status == 0)
        let some = try directory.permid(announce + ["--friends-only"])
        #expect(some.status == 0 && some.stderr.contains("leaving out k1"), "\(some.stderr)")
        #expect(try directory.permid(["friends", "add", "alice", alice.permID]).status == 0)
        #expect(try directory.permid(["resolve", "alice", "--key", bob.path]).stdout == "203.0.113.7:7000\n")
        let noKey = try directory.permid(["resolve", "alice", "--key", directory.directory + "/missing.pem"])
        #expect(noKey.status == 5, "an explicit --key that cannot be read is an error: \(noKey.stderr)")
    }

    @Test func connectFindsAFriendThroughItsSealedRecord() throws {
        let directory = try Directory(extraArguments: ["--endpoint-policy", "any", "--allow-private"])
        let server = try directory.keygen("server", "p384"), client = try directory.keygen("client", "libnacl")
        #expect(try directory.permid(["friends", "add", "server", server.permID]).status == 0)
        #expect(try directory.permid(["friends", "add", "client", client.permID]).status == 0)
        let listener = try HandshakeCommandTests.Listener(directory, key: server.path, stdin: "hello friend\n")
        let announce = try directory.permid([
            "announce", "--key", server.path, "--friends-only", "--friend", "client", "--endpoint", "127.0.0.1:\(listener.port)",
        ])
        #expect(announce.status == 0, "\(announce.stderr)")
        let connect = try directory.permid(["connect", "server", "--key", client.path], stdin: "hi\n")
        #expect(connect.status == 0 && connect.stdout == "hello friend\n", "\(connect.stderr)")
        #expect(connect.stderr.contains("authenticated \(server.permID)"), "the peer proved its long-term PermID: \(connect.stderr)")
        #expect(listener.finish().status == 0)
    }

    /// The directory serves, under the friend's blinded PermID: a record of another PermID; a sealed record
    /// with a broken signature; a validly signed record whose box for us holds no endpoints. Each is FORGED
    /// (exit 3), never endpoints.
    @Test func lyingSealedRecordsAreForged() throws {
        let owner = try PrivateKey.generate(.ed25519)
        let friend = try PrivateKey.generate(.ed25519)
        let home = NSTemporaryDirectory() + "permid-sealed-liar-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: home) }
        let keyPath = home + "/friend.pem"
        try Data(try friend.pkcs8PEM().utf8).write(to: URL(fileURLWithPath: keyPath))
        chmod(keyPath, 0o600)
        let now = UInt64(Date().timeIntervalSince1970)
        let blinded = try owner.blinded(epoch: Blinding.epoch(at: now))
        let info = SealedBox.info(permID: blinded.permID, seq: 1)
        let recipient = try SealingPublicKey(permID: friend.permID)
        var garbled = SealedBox.plaintext(endpoints: [Endpoint("203.0.113.9:1")!])
        garbled[0] = 9
        let badPlaintext = try SignedRecord.sign(
            with: blinded, seq: 1, issuedAt: now, expiresAt: now + 600, content: .sealed([try SealedRecords.seal(garbled, to: recipient, info: info)]))
        let good = try SignedRecord.sign(
            with: blinded, seq: 1, issuedAt: now, expiresAt: now + 600,
            content: .sealed([try SealedRecords.seal(SealedBox.plaintext(endpoints: [Endpoint("203.0.113.9:1")!]), to: recipient, info: info)]))
        var badSignature = String(decoding: good.json, as: UTF8.self)
        badSignature = badSignature.replacingOccurrences(of: "\"seq\":1", with: "\"seq\":2")
        let otherPermID = try SignedRecord.sign(with: try PrivateKey.generate(.ed25519), seq: 1, issuedAt: now, expiresAt: now + 600, endpoints: [])
        let lies: [(String, String)] = [
            ("a box that opens to no endpoints", String(decoding: badPlaintext.json, as: UTF8.self)),
            ("a changed seq", badSignature),
            ("another PermID's record", String(decoding: otherPermID.json, as: UTF8.self)),
        ]
        for (name, body) in lies {
            let liar = try LyingDirectory { request in
                request.path == "/v1/peers/\(blinded.permID.text)"
                    ? LyingDirectory.Answer(status: 200, headers: ["Content-Type": "application/json"], body: body)
                    : .problem(404, #""type":"https://permid.example/problems/not-found""#)
            }
            let result = try Processes.run(
                "permid", ["resolve", owner.permID.text, "--key", keyPath, "--server", liar.url],
                environment: ["XDG_CONFIG_HOME": home])
            // A PermID argument is resolved publicly; through the friends list it is resolved privately.
            #expect(result.status == 2, "\(name): \(result.stderr)")
            let friendsFile = home + "/permid/friends"
            try FileManager.default.createDirectory(atPath: home + "/permid", withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            try "owner \(owner.permID.text)\n".write(toFile: friendsFile, atomically: true, encoding: .utf8)
            chmod(friendsFile, 0o600)
            let friendly = try Processes.run("permid", ["resolve", "owner", "--key", keyPath, "--server", liar.url], environment: ["XDG_CONFIG_HOME": home])
            #expect(friendly.status == 3 && friendly.stderr.contains("FORGED") && friendly.stdout.isEmpty, "\(name): \(friendly.stderr)")
        }
    }
}
