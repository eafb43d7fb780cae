import ArgumentParser
import PermIDClient
import PermIDKit

/// `permid friends list`: every friend.
struct FriendsListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List friends: NAME PERMID, one a line.")

    @Flag(help: "Print JSON: one object per friend with name and permid.")
    var json = false

    func run() throws {
        let friends = try FriendsList(beside: Keyring.standard()).load()
        if json {
            var writer = JSONWriter()
            writer.beginArray()
            for friend in friends {
                writer.beginObject()
                writer.string("name", friend.name)
                writer.string("permid", friend.permID.text)
                writer.endObject()
            }
            writer.endArray()
            printJSON(writer)
        } else {
            for friend in friends { print("\(friend.name) \(friend.permID.text)") }
        }
    }
}
