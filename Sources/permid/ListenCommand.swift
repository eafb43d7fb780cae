import ArgumentParser
import Foundation
import PermIDClient
import PermIDKit

/// `permid listen`: accepts PermID TLS connections and relays each one with stdin/stdout.
struct ListenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "listen",
        abstract: "Accept PermID TLS connections (FRIENDS-v1 part C) and relay stdin/stdout.",
        discussion: """
            Each connection runs the PermID TLS handshake: both sides prove their PermIDs with a fresh \
            self-signed certificate over TLS 1.3 (ALPN permid/1). After it, stderr gets \
            `authenticated PERMID` (and `friend NAME` for a friend), and bytes are relayed between the \
            connection and stdin/stdout until both sides have closed. Connections are served one at a time.

            With --friends-only a peer that is not a friend is refused during the handshake (TLS alert).
            Exit status (with --once): 0 ok, 3 the peer's proof failed or was refused, 4 network error, \
            5 local error.

            Examples:
              permid listen --port 7000 --once
              permid listen --port 7000 --friends-only --key work
            """
    )

    @OptionGroup var key: KeyOptions

    @Option(help: "The TCP port to listen on (0 picks one, printed as `listening on PORT`).")
    var port: UInt16

    @Option(help: "The address to listen on. Default: every address.")
    var host: String?

    @Flag(help: "Refuse every peer that is not in the friends file (`permid friends`).")
    var friendsOnly = false

    @Flag(help: "Serve one connection, then exit.")
    var once = false

    func run() throws {
        signal(SIGPIPE, SIG_IGN)
        let identity = try key.load().key
        let friends = try HandshakeFriends()
        let policy = PeerPolicy(admit: { [friendsOnly] peer in
            friendsOnly && friends.name(of: peer) == nil ? "\(peer.text) is not a friend" : nil
        })
        let listener: PermIDListener
        do {
            listener = try PermIDListener(host: host, port: port, identity: identity, policy: policy)
        } catch {
            throw handshakeFailure(error, "cannot listen")
        }
        FileHandle.standardError.write(Data("listening on \(listener.port)\n".utf8))
        repeat {
            do throws(HandshakeError) {
                let stream = try listener.accept()
                announcePeer(stream.peer, friends)
                try stream.relay(input: STDIN_FILENO, output: STDOUT_FILENO)
            } catch {
                let failure = handshakeFailure(error, "connection")
                if once { throw failure }
                FileHandle.standardError.write(Data("permid: \(failure.message)\n".utf8))
            }
        } while !once
    }
}
