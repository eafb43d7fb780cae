import ArgumentParser
import Foundation
import PermIDClient
import PermIDKit

/// Options shared by `permid listen` and `permid connect`: the key to prove, and the friend names known
/// to the handshake.
struct HandshakeOptions: ParsableArguments {
    @OptionGroup var key: KeyOptions

    @Option(name: .customLong("friend"), help: ArgumentHelp(
        "A friend as NAME=PERMID (repeatable): `connect NAME` reaches it, `listen` prints its name, `--friends-only` admits it.",
        valueName: "name=permid"))
    var friends: [String] = []

    func validate() throws { _ = try friendList() }

    /// The friends given with `--friend`. This is the handshake's hook for a friends list: any source
    /// of NAME ↔ PermID pairs plugs in here.
    func friendList() throws -> FriendList {
        var list = FriendList()
        for entry in friends {
            guard let equals = entry.firstIndex(of: "="), equals != entry.startIndex else {
                throw ValidationError("--friend \(entry.prefix(60)) is not NAME=PERMID")
            }
            let name = String(entry[..<equals])
            do {
                list.add(name: name, permID: try PublicKey(text: entry[entry.index(after: equals)...]).permID)
            } catch {
                throw ValidationError("--friend \(name): not a valid PermID: \(error.detail)")
            }
        }
        return list
    }

    /// Loads the key, with the CLI's failure when it cannot be read.
    func identity() throws -> PrivateKey { try key.load() }
}

/// Friend names by PermID and PermIDs by name.
struct FriendList: Sendable {
    private(set) var names: [PermID: String] = [:]
    private(set) var permIDs: [String: PermID] = [:]

    mutating func add(name: String, permID: PermID) {
        names[permID] = name
        permIDs[name] = permID
    }
}

/// Maps a handshake failure to the CLI's exit statuses: 3 when the peer's proof failed or a side refused
/// the other (TLS alert), 4 for network failures, 5 for this side's certificate.
func handshakeFailure(_ error: HandshakeError, _ context: String) -> CLIFailure {
    switch error {
    case .peerRejected, .tls, .malformedProof: CLIFailure(.verificationFailed, "\(context): \(error)")
    case .network: CLIFailure(.server, "\(context): \(error)")
    case .certificate: CLIFailure(.local, "\(context): \(error)")
    }
}

/// Reports an authenticated peer on stderr: `authenticated PERMID`, then `friend NAME` for a friend.
func announcePeer(_ peer: PermID, _ friends: FriendList) {
    var text = "authenticated \(peer.text)\n"
    if let name = friends.names[peer] { text += "friend \(name)\n" }
    FileHandle.standardError.write(Data(text.utf8))
}
