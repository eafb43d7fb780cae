import ArgumentParser
import Foundation
import PermIDClient
import PermIDKit

/// `permid announce`: publishes where this PermID can be reached, once or kept alive.
struct AnnounceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "announce",
        abstract: "Sign and publish this PermID's endpoints to a directory.",
        discussion: """
            Without --endpoint, the address is the one the directory sees (GET /v1/whoami) with --port. \
            seq needs no coordination: it is max(last used + 1, Unix time in ms), kept in KEYFILE.seq; \
            on a 409 it moves past the stored seq once and retries, saving that seq only once a directory \
            accepts it, and never one more than a day ahead of this machine's clock.

            With --keep-alive it re-announces at half the TTL and as soon as the address the directory \
            sees changes (NAT rebinding), backs off on errors (1 s doubling to 60 s; on 429 and 503 it waits \
            what Retry-After asks, from 1 s to 1 h), and logs one line per announcement. On SIGINT/SIGTERM it stops, first withdrawing with --withdraw-on-exit.

            With --single-use a fresh key (--type) is made in memory and never written anywhere: its PermID \
            is printed on the first line, it is announced with --keep-alive, and withdrawn on SIGINT/SIGTERM. \
            Once the process ends, nobody can announce that PermID again.

            With --friends-only the record is sealed (FRIENDS-v1): it is announced under this key's blinded \
            PermID of the current day (`permid blind`), which the directory cannot link to the key or to other \
            days, and its endpoints are in boxes only the chosen friends can open (--friend, repeatable; every \
            friend in `permid friends list` by default; friends need ed25519, libnacl, p256 or p384 keys). The \
            box list is padded to a multiple of 8. The record expires at most an hour after the day ends; with \
            --keep-alive it is announced anew under the next day's blinded PermID as the day turns, and the old \
            day's record is withdrawn. Friends find it with `permid resolve NAME`.

            Examples:
              permid announce --server http://dir.example:8080 --port 6881
              permid announce --endpoint 203.0.113.5:6881 --endpoint [2001:db8::5]:6881 --ttl 600
              permid announce --port 6881 --keep-alive --withdraw-on-exit
              permid announce --key work --port 6881
              permid announce --single-use --port 6881
              permid announce --friends-only --port 6881 --keep-alive
              permid announce --friends-only --friend alice --friend bob --endpoint 203.0.113.5:6881
            """
    )

    @OptionGroup var key: KeyOptions
    @OptionGroup var server: ServerOptions

    @Option(name: .customLong("endpoint"), help: ArgumentHelp("An endpoint IP:PORT or [IPv6]:PORT; repeatable, at most \(SignedRecord.maxEndpoints).", valueName: "ip:port"))
    var endpoints: [Endpoint] = []

    @Option(help: "The port to pair with the address the directory sees, when no --endpoint is given.")
    var port: UInt16?

    @Option(help: "Seconds the record stays valid.")
    var ttl: UInt64 = 3600

    @Option(help: "Signature scheme (default: ed25519 for Edwards keys, ecdsa-sha1 on binary curves as IPv8 signs, ecdsa-sha256 otherwise).")
    var scheme: SignatureScheme?

    @Flag(help: "Keep announcing until stopped.")
    var keepAlive = false

    @Flag(help: "With --keep-alive: withdraw (announce no endpoints) on SIGINT/SIGTERM.")
    var withdrawOnExit = false

    @Flag(help: "Announce a fresh key made in memory, never written: implies --keep-alive and --withdraw-on-exit.")
    var singleUse = false

    @Option(help: "With --single-use: the fresh key's type.")
    var type: KeyType = .ed25519

    @Flag(help: "Seal the endpoints for friends only, under this key's blinded PermID of the day.")
    var friendsOnly = false

    @Option(name: .customLong("friend"), help: ArgumentHelp(
        "With --friends-only: a friend (name or PermID) who can open the record; repeatable. Default: every friend.",
        valueName: "name|permid"))
    var friends: [String] = []

    @Option(help: "With --keep-alive: seconds between checks of the address the directory sees.")
    var checkInterval: Double = 30

    @Flag(help: "Print each stored record as JSON instead of a summary line.")
    var json = false

    func validate() throws {
        guard endpoints.count <= SignedRecord.maxEndpoints else { throw ValidationError("at most \(SignedRecord.maxEndpoints) --endpoint") }
        guard !endpoints.isEmpty || port != nil else { throw ValidationError("give --endpoint IP:PORT, or --port to use the address the directory sees") }
        guard port != 0 else { throw ValidationError("--port must be 1 to 65535") }
        guard ttl >= 1 else { throw ValidationError("--ttl must be at least 1") }
        guard !withdrawOnExit || keepAlive || singleUse else { throw ValidationError("--withdraw-on-exit needs --keep-alive") }
        guard !singleUse || key.key == nil else { throw ValidationError("--single-use makes its own key: drop --key") }
        guard friends.isEmpty || friendsOnly else { throw ValidationError("--friend needs --friends-only") }
        guard !friendsOnly || !singleUse else {
            throw ValidationError("--friends-only and --single-use do not go together: a single-use PermID is already unlinkable")
        }
        guard !friendsOnly || scheme == nil else {
            throw ValidationError("--friends-only signs with the blinded key's own scheme (ed25519 or ecdsa-sha256): drop --scheme")
        }
    }

    func run() throws {
        let keepAlive = keepAlive || singleUse
        let signals = keepAlive ? Self.blockStopSignals() : sigset_t()
        var announcer: Announcer
        if singleUse {
            let fresh = try newKey(type)
            FileHandle.standardOutput.write(fresh.permID.text + "\n")
            announcer = Announcer(key: fresh, client: try server.client(), seqState: .inMemory, ttl: ttl, scheme: scheme)
        } else {
            let (privateKey, path) = try key.load()
            announcer = Announcer(
                key: privateKey, client: try server.client(), seqState: .beside(keyFile: path), ttl: ttl, scheme: scheme,
                audience: friendsOnly ? .friends(try audience()) : .everyone)
        }
        let source: EndpointSource = endpoints.isEmpty ? .observed(port: port!) : .fixed(endpoints)
        guard keepAlive else {
            let current = endpoints.isEmpty ? try announcer.observedEndpoints(port: port!) : endpoints
            report(try announcer.announce(current))
            return
        }
        try announcer.keepAlive(
            source, checkInterval: checkInterval, withdrawOnStop: withdrawOnExit || singleUse,
            wait: { Self.waitForSignal(signals, seconds: $0) },
            report: { event in
                switch event {
                case .announced(let record): report(record)
                case .retrying(let error, let seconds):
                    FileHandle.standardError.write("permid: \(error); retrying in \(Int(seconds)) s\n")
                }
            })
    }

    /// The friends to seal for: those named with --friend (each must be able to receive boxes), or every
    /// friend whose key can (the others are named on stderr and left out).
    private func audience() throws -> [PermID] {
        let list = FriendsList(beside: Keyring.standard())
        guard friends.isEmpty else {
            return try friends.map { text in
                let permID = try list.permID(for: text)
                do {
                    _ = try SealingPublicKey(permID: permID)
                } catch {
                    throw CLIFailure(.usage, "\(text.printable): \(error)")
                }
                return permID
            }
        }
        var able = [PermID]()
        for friend in try list.load() {
            do {
                _ = try SealingPublicKey(permID: friend.permID)
                able.append(friend.permID)
            } catch {
                FileHandle.standardError.write("permid: leaving out \(friend.name): \(error)\n")
            }
        }
        guard !able.isEmpty else {
            throw CLIFailure(.usage, "no friend can open a sealed record: add one with `permid friends add NAME PERMID`, or give --friend PERMID")
        }
        return able
    }

    private func report(_ record: SignedRecord) {
        // Written unbuffered, one line per announcement, so a log pipe sees each at once.
        if json {
            FileHandle.standardOutput.write(String(decoding: record.json, as: UTF8.self) + "\n")
        } else if let boxes = record.sealedBoxes {
            FileHandle.standardOutput.write(
                "\(isoTime(unixNow())) announced seq \(record.seq) sealed in \(boxes.count) boxes under \(record.permID.text), valid until \(isoTime(record.expiresAt))\n")
        } else {
            let targets = record.endpoints.isEmpty ? "withdrawn" : record.endpoints.map(\.description).joined(separator: " ")
            FileHandle.standardOutput.write("\(isoTime(unixNow())) announced seq \(record.seq): \(targets), valid until \(isoTime(record.expiresAt))\n")
        }
    }

    /// Blocks SIGINT and SIGTERM, so they wait for ``waitForSignal(_:seconds:)`` instead of ending the process.
    private static func blockStopSignals() -> sigset_t {
        var signals = sigset_t()
        sigemptyset(&signals)
        sigaddset(&signals, SIGINT)
        sigaddset(&signals, SIGTERM)
        pthread_sigmask(SIG_BLOCK, &signals, nil)
        return signals
    }

    /// Sleeps up to `seconds` (at most a day; the loop waits again if it needs longer); returns `true` if
    /// SIGINT or SIGTERM arrived.
    private static func waitForSignal(_ signals: sigset_t, seconds: Double) -> Bool {
        var set = signals
        let seconds = seconds.isNaN ? 0 : min(max(seconds, 0), 86_400)
        var timeout = timespec(tv_sec: Int(seconds), tv_nsec: Int((seconds - seconds.rounded(.down)) * 1e9))
        return sigtimedwait(&set, nil, &timeout) > 0
    }
}
