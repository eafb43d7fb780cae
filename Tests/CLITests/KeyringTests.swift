import Foundation
import PermIDKit
import Testing

/// `permid keys` and `--key NAME|PATH` against a real permidd: named keys in a 0700 keyring with 0600 files,
/// the default key, and refusal of keyring files that are links or readable by others.
@Suite struct KeyringTests {
    /// The keyring directory of `directory`'s runs (XDG_CONFIG_HOME is `directory/config`).
    static func keyring(_ directory: Directory) -> String { directory.directory + "/config/permid" }

    static func mode(_ path: String) throws -> Int {
        try #require((FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue)
    }

    static func line(_ result: Processes.Result) -> String { result.stdout.trimmingCharacters(in: .whitespacesAndNewlines) }

    @Test func namedKeysAreListedAnnouncedAndPrivate() throws {
        let directory = try Directory()
        let work = try directory.permid(["keys", "new", "work", "--type", "p256"])
        #expect(work.status == 0, "\(work.stderr)")
        let workID = Self.line(work)
        #expect(try PublicKey(text: workID).permID.keyType == .ec(.p256))
        let keyring = Self.keyring(directory)
        #expect(try Self.mode(keyring) == 0o700 && Self.mode(keyring + "/keys") == 0o700)
        #expect(try Self.mode(keyring + "/keys/work.pem") == 0o600)
        #expect(try directory.permid(["keys", "new", "work"]).status == 5, "a name is never reused without --force")
        #expect(try directory.permid(["keys", "new", "../evil"]).status == 1)

        let announce = try directory.permid(["announce", "--key", "work", "--port", "7100"])
        #expect(announce.status == 0, "\(announce.stderr)")
        #expect(try Self.mode(keyring + "/keys/work.pem.seq") == 0o600)
        #expect(try directory.permid(["resolve", workID]).stdout == "127.0.0.1:7100\n")

        #expect(try directory.permid(["keygen"]).status == 0)
        let list = try directory.permid(["keys", "list"])
        #expect(list.status == 0)
        let defaultID = Self.line(try directory.permid(["id", "--quiet"]))
        let rows = list.stdout.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
        #expect(rows.count == 2 && rows[0] == ["*", "default", "ed25519", defaultID], "\(list.stdout)")
        #expect(rows[1] == ["work", "p256", workID], "\(list.stdout)")
        let json = try directory.permid(["keys", "list", "--json"])
        #expect(json.stdout.contains(#""name":"work","key_type":"p256","permid":"\#(workID)","default":false"#), "\(json.stdout)")
    }

    @Test func theDefaultKeyIsChosenByName() throws {
        let directory = try Directory()
        let original = Self.line(try directory.permid(["keygen"]))
        let work = Self.line(try directory.permid(["keys", "new", "work"]))
        #expect(Self.line(try directory.permid(["id", "--quiet"])) == original, "default.pem stays the default key")
        #expect(Self.line(try directory.permid(["keys", "default"])) == "default")

        #expect(try directory.permid(["keys", "default", "work"]).status == 0)
        #expect(Self.line(try directory.permid(["id", "--quiet"])) == work)
        #expect(try directory.permid(["keys", "list"]).stdout.contains("* work"))
        #expect(try Self.mode(Self.keyring(directory) + "/default-key") == 0o600)
        #expect(try directory.permid(["keys", "default", "nobody"]).status == 5)

        // --key takes a name or a path; a path is used as it is.
        #expect(Self.line(try directory.permid(["id", "--quiet", "--key", "default"])) == original)
        #expect(Self.line(try directory.permid(["id", "--quiet", "--key", Self.keyring(directory) + "/default.pem"])) == original)
        let missing = try directory.permid(["id", "--key", "nobody"])
        #expect(missing.status == 5 && missing.stderr.contains("no key named nobody"), "\(missing.stderr)")

        // Removing asks; only y or yes removes. Removing the default makes "default" the default again.
        let declined = try directory.permid(["keys", "rm", "work"], stdin: "n\n")
        #expect(declined.status == 1 && declined.stderr.contains("[y/N]"))
        #expect(FileManager.default.fileExists(atPath: Self.keyring(directory) + "/keys/work.pem"))
        #expect(try directory.permid(["keys", "rm", "work"], stdin: "y\n").status == 0)
        #expect(!FileManager.default.fileExists(atPath: Self.keyring(directory) + "/keys/work.pem"))
        #expect(Self.line(try directory.permid(["id", "--quiet"])) == original)
        #expect(try directory.permid(["keys", "rm", "work", "--yes"]).status == 5)
    }

    @Test func keyringFilesThatAreLinksOrReadableByOthersAreRefused() throws {
        let directory = try Directory()
        #expect(try directory.permid(["keys", "new", "work"]).status == 0)
        let file = Self.keyring(directory) + "/keys/work.pem"
        chmod(file, 0o644)
        let loose = try directory.permid(["id", "--key", "work"])
        #expect(loose.status == 5 && loose.stderr.contains("chmod 600"), "\(loose.stderr)")
        #expect(try directory.permid(["keys", "list"]).stdout.contains("unusable"))
        chmod(file, 0o600)
        #expect(try directory.permid(["id", "--key", "work"]).status == 0)

        let elsewhere = directory.directory + "/elsewhere.pem"
        try FileManager.default.moveItem(atPath: file, toPath: elsewhere)
        try FileManager.default.createSymbolicLink(atPath: file, withDestinationPath: elsewhere)
        let linked = try directory.permid(["id", "--key", "work"])
        #expect(linked.status == 5 && linked.stderr.contains("symbolic link"), "\(linked.stderr)")
        #expect(try directory.permid(["id", "--key", elsewhere]).status == 0, "a key file given by path is used as it is")

        chmod(Self.keyring(directory), 0o775)
        let open = try directory.permid(["keys", "list"])
        #expect(open.status == 5 && open.stderr.contains("chmod 700"), "\(open.stderr)")
    }

    @Test func importTriblerCanNameTheKey() throws {
        let directory = try Directory()
        let file = directory.directory + "/other.pem"
        let permID = Self.line(try directory.permid(["keygen", "--out", file]))
        let imported = try directory.permid(["import-tribler", file, "--name", "tribler"])
        #expect(imported.status == 0 && Self.line(imported) == permID, "\(imported.stderr)")
        #expect(Self.line(try directory.permid(["id", "--quiet", "--key", "tribler"])) == permID)
        #expect(try directory.permid(["import-tribler", file, "--name", "tribler"]).status == 5)
    }
}
