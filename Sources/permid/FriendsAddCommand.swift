import ArgumentParser
import PermIDClient
import PermIDKit

/// `permid friends add`: names a PermID.
struct FriendsAddCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "add", abstract: "Add a friend: NAME for PERMID.")

    @Argument(help: "The friend's name.")
    var name: String

    @Argument(help: "The friend's PermID (base64url).")
    var permid: String

    @Flag(help: "Replace the PermID of an existing friend of that name.")
    var force = false

    func run() throws {
        let permID: PermID
        do {
            permID = try PublicKey(text: permid).permID
        } catch {
            throw ValidationError("\(String(permid.prefix(40)).printable) is not a valid PermID: \(error.detail)")
        }
        try FriendsList(beside: Keyring.standard()).add(name, permID, replace: force)
    }
}
