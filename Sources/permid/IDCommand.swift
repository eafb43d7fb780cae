import ArgumentParser
import PermIDKit

/// `permid id`: shows who a key is.
struct IDCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "id",
        abstract: "Print a key's PermID, key type and Tribler member id (SHA-1 of the PermID bytes).",
        discussion: """
            Examples:
              permid id
              permid id --key work --json
              permid id --key ./work.pem
              permid id --quiet        # just the PermID
            """
    )

    @OptionGroup var key: KeyOptions

    @Flag(help: "Print JSON.")
    var json = false

    @Flag(help: "Print only the PermID.")
    var quiet = false

    func run() throws {
        let privateKey = try key.load().key
        let permID = privateKey.permID
        if json {
            var writer = JSONWriter()
            writer.beginObject()
            writer.string("permid", permID.text)
            writer.string("key_type", permID.keyType.name)
            writer.string("member_id", permID.memberID)
            writer.string("default_scheme", permID.keyType.defaultScheme.rawValue)
            writer.endObject()
            printJSON(writer)
        } else if quiet {
            print(permID.text)
        } else {
            print("permid:     \(permID.text)")
            print("key type:   \(permID.keyType.name) (signs with \(permID.keyType.defaultScheme.rawValue))")
            print("member id:  \(permID.memberID)")
        }
    }
}
