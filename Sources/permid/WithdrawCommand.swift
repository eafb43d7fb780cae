import ArgumentParser
import PermIDClient
import PermIDKit

/// `permid withdraw`: says "not reachable".
struct WithdrawCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "withdraw",
        abstract: "Announce no endpoints: the directory then serves a signed withdrawal for this PermID.",
        discussion: """
            With --friends-only the withdrawal is under this key's blinded PermID of the current day (where \
            `permid announce --friends-only` announces), so friends resolving it learn "withdrawn".

            Examples:
              permid withdraw --server http://127.0.0.1:8080
              permid withdraw --key work
              permid withdraw --friends-only
            """
    )

    @OptionGroup var key: KeyOptions
    @OptionGroup var server: ServerOptions

    @Option(help: "Seconds the withdrawal stays valid.")
    var ttl: UInt64 = 3600

    @Flag(help: "Withdraw the friends-only record: under this key's blinded PermID of the day.")
    var friendsOnly = false

    func run() throws {
        let (privateKey, path) = try key.load()
        var announcer = Announcer(
            key: privateKey, client: try server.client(), seqState: .beside(keyFile: path), ttl: ttl,
            audience: friendsOnly ? .friends([]) : .everyone)
        let record = try announcer.withdraw()
        print("\(isoTime(unixNow())) withdrew \(record.permID.text) at seq \(record.seq), valid until \(isoTime(record.expiresAt))")
    }
}
