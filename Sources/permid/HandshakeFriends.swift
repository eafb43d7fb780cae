import ArgumentParser
import Foundation
import PermIDClient
import PermIDKit

/// The friends file (`permid friends`) as the handshake sees it: a friend's name by PermID.
struct HandshakeFriends: Sendable {
    let list: FriendsList
    private let names: [PermID: String]

    /// Reads the friends file beside the standard keyring (none when there is no file).
    init() throws {
        list = FriendsList(beside: Keyring.standard())
        var names = [PermID: String]()
        for friend in try list.load() where names[friend.permID] == nil { names[friend.permID] = friend.name }
        self.names = names
    }

    /// The friend's name for a PermID, `nil` for a stranger.
    func name(of permID: PermID) -> String? { names[permID] }
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
func announcePeer(_ peer: PermID, _ friends: HandshakeFriends) {
    var text = "authenticated \(peer.text)\n"
    if let name = friends.name(of: peer) { text += "friend \(name)\n" }
    FileHandle.standardError.write(Data(text.utf8))
}
