import ArgumentParser
import PermIDClient

/// `permid friends rm`: forgets a friend's name.
struct FriendsRemoveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rm", abstract: "Remove the friend NAME.")

    @Argument(help: "The friend's name.")
    var name: String

    func run() throws {
        try FriendsList(beside: Keyring.standard()).remove(name)
    }
}
