import Foundation
import PermIDKit
import Testing

/// `permid friends` against a real permidd: names stored beside the keys (0600), accepted by `resolve`.
@Suite struct FriendsTests {
    @Test func aFriendsNameResolvesLikeTheirPermID() throws {
        let directory = try Directory()
        let key = directory.directory + "/alice.pem"
        let alice = try directory.permid(["keygen", "--out", key]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try directory.permid(["announce", "--key", key, "--port", "7200"]).status == 0)

        #expect(try directory.permid(["friends", "add", "alice", alice]).status == 0)
        let file = directory.directory + "/config/permid/friends"
        #expect((try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        #expect(try directory.permid(["friends", "list"]).stdout == "alice \(alice)\n")
        #expect(try directory.permid(["friends", "add", "alice", alice]).status == 5, "a name is never reused without --force")
        #expect(try directory.permid(["friends", "add", "bob", "AAAA"]).status == 1)
        #expect(try directory.permid(["friends", "add", alice, alice]).status == 1, "a PermID is never a name")

        let one = try directory.permid(["resolve", "alice"])
        #expect(one.status == 0 && one.stdout == "127.0.0.1:7200\n", "\(one.stderr)")
        let many = try directory.permid(["resolve", "alice", alice, "--json"])
        #expect(many.status == 0 && many.stdout.contains(#""friend":"alice","status":"ok""#), "\(many.stdout)")
        #expect(try directory.permid(["resolve", "carol"]).status == 1)

        #expect(try directory.permid(["friends", "rm", "alice"]).status == 0)
        #expect(try directory.permid(["friends", "list"]).stdout.isEmpty)
        #expect(try directory.permid(["resolve", "alice"]).status == 1)
        #expect(try directory.permid(["friends", "rm", "alice"]).status == 5)
    }

    @Test func aDamagedFriendsFileIsRefusedWithItsLine() throws {
        let directory = try Directory()
        let file = directory.directory + "/config/permid/friends"
        try FileManager.default.createDirectory(atPath: directory.directory + "/config/permid", withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        try "# mine\nbob notapermid\n".write(toFile: file, atomically: true, encoding: .utf8)
        chmod(file, 0o600)
        let damaged = try directory.permid(["friends", "list"])
        #expect(damaged.status == 5 && damaged.stderr.contains("friends:2"), "\(damaged.stderr)")
        chmod(file, 0o644)
        #expect(try directory.permid(["friends", "list"]).stderr.contains("chmod 600"))
    }
}
