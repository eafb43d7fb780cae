import ArgumentParser
import Foundation
import PermIDClient
import PermIDKit

/// `permid connect`: reaches a peer over PermID TLS and relays stdin/stdout.
struct ConnectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "connect",
        abstract: "Connect to a peer with the PermID TLS handshake (FRIENDS-v1 part C) and relay stdin/stdout.",
        discussion: """
            TARGET is a PermID (its endpoints are resolved through the directory and verified, then tried \
            in order; the peer must prove that PermID), a friend's NAME (`permid friends`; found as `permid \
            resolve NAME` finds it: privately first, opening a sealed record with --key, then its public record), \
            or HOST:PORT (then the peer must prove --expect, when given). After the handshake stderr gets \
            `authenticated PERMID` and bytes are relayed until both sides have closed.

            A peer that proves another PermID, or no valid proof, ends it with exit status 3 before any \
            byte is sent. Exit status: 0 ok, 1 usage, 2 not found, 3 proof failed or refused, 4 network \
            or server error, 5 local error, 6 a friend's sealed record is not shared with --key.

            Examples:
              permid connect 127.0.0.1:7000 --expect MCowBQYDK2VwAyEA...
              permid connect MCowBQYDK2VwAyEA... --server http://127.0.0.1:8080
            """
    )

    @OptionGroup var key: KeyOptions

    @OptionGroup var server: ServerOptions

    @Argument(help: "A PermID, a friend's NAME, or HOST:PORT.")
    var target: String

    @Option(help: ArgumentHelp("With HOST:PORT: the PermID the peer must prove.", valueName: "permid"))
    var expect: String?

    func run() throws {
        signal(SIGPIPE, SIG_IGN)
        let identity = try key.load().key
        let friends = try HandshakeFriends()
        var expected: PermID?
        if let expect {
            do {
                expected = try PublicKey(text: expect).permID
            } catch {
                throw CLIFailure(.usage, "--expect: not a valid PermID: \(error.detail)")
            }
        }
        let stream: AuthenticatedStream
        if let (host, port) = Self.hostPort(target) {
            stream = try connect(host: host, port: port, identity: identity, expected: expected)
        } else {
            let permID = try friends.list.permID(for: target)
            if let expected, expected != permID {
                throw CLIFailure(.usage, "--expect differs from the target's PermID")
            }
            let isFriend = (try? PublicKey(text: target)) == nil
            stream = try connect(to: permID, endpoints: isFriend ? try friendEndpoints(permID, key: identity) : try endpoints(of: permID), identity: identity)
        }
        announcePeer(stream.peer, friends)
        do {
            try stream.relay(input: STDIN_FILENO, output: STDOUT_FILENO)
        } catch {
            throw handshakeFailure(error, "connection")
        }
    }

    private func connect(host: String, port: UInt16, identity: PrivateKey, expected: PermID?) throws -> AuthenticatedStream {
        do {
            return try PermIDTLS.connect(host: host, port: port, identity: identity, policy: PeerPolicy(expected: expected))
        } catch {
            throw handshakeFailure(error, "\(host) port \(port)")
        }
    }

    /// A PermID's verified endpoints, from its public record.
    private func endpoints(of permID: PermID) throws -> [Endpoint] {
        switch try server.client().resolve(permID) {
        case .found(let record): return record.endpoints
        case .notFound: throw CLIFailure(.notFound, "\(permID.text): not found in the directory")
        case .forged(let why): throw CLIFailure(.verificationFailed, "\(permID.text): FORGED record refused: \(why)")
        }
    }

    /// A friend's verified endpoints: from its blinded PermIDs (a sealed record opened with `key`), else its public record.
    private func friendEndpoints(_ permID: PermID, key: PrivateKey) throws -> [Endpoint] {
        let location = try server.client().locate(friend: permID, key: key)
        if case .forged(let why) = location.privately {
            throw CLIFailure(.verificationFailed, "\(target.printable): FORGED record refused: \(why)")
        }
        if let endpoints = location.endpoints { return endpoints }
        if case .forged(let why)? = location.publicly {
            throw CLIFailure(.verificationFailed, "\(target.printable): FORGED record refused: \(why)")
        }
        if case .notShared = location.privately {
            throw CLIFailure(.notShared, "\(target.printable): not shared with you (a sealed record with no box for this key), and no public record")
        }
        throw CLIFailure(.notFound, "\(target.printable): not found in the directory")
    }

    /// Tries a PermID's verified endpoints in order.
    private func connect(to permID: PermID, endpoints: [Endpoint], identity: PrivateKey) throws -> AuthenticatedStream {
        guard !endpoints.isEmpty else { throw CLIFailure(.notFound, "\(permID.text): withdrawn by its owner") }
        var lastFailure: CLIFailure?
        for endpoint in endpoints {
            do {
                return try connect(host: "\(endpoint.address)", port: endpoint.port, identity: identity, expected: permID)
            } catch let failure as CLIFailure {
                FileHandle.standardError.write(Data("permid: \(endpoint): \(failure.message)\n".utf8))
                // A peer that proves another PermID ends the attempt; an unreachable endpoint lets the next one try.
                if failure.status == .verificationFailed { throw failure }
                lastFailure = failure
            }
        }
        throw lastFailure ?? CLIFailure(.server, "no endpoint reachable")
    }

    /// `HOST:PORT` or `[IPv6]:PORT`; `nil` for anything else (a PermID or a friend's name).
    static func hostPort(_ text: String) -> (String, UInt16)? {
        if text.hasPrefix("["), let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") {
            guard let port = UInt16(text[text.index(close, offsetBy: 2)...]) else { return nil }
            return (String(text[text.index(after: text.startIndex)..<close]), port)
        }
        guard let colon = text.lastIndex(of: ":"), !text[..<colon].contains(":"), colon != text.startIndex,
              let port = UInt16(text[text.index(after: colon)...]) else { return nil }
        return (String(text[..<colon]), port)
    }
}
