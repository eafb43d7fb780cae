import ArgumentParser
import PermIDKit

/// `permid withdraw`: says "not reachable".
struct WithdrawCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "withdraw",
        abstract: "Announce no endpoints: the directory then serves a signed withdrawal for this PermID.",
        discussion: "Example:\n  permid withdraw --server http://127.0.0.1:8080"
    )

    @OptionGroup var key: KeyOptions
    @OptionGroup var server: ServerOptions

    @Option(help: "Seconds the withdrawal stays valid.")
    var ttl: UInt64 = 3600

    func run() throws {
        var announcer = Announcer(key: try key.load(), keyPath: key.path, client: try server.client(), ttl: ttl, scheme: nil)
        do {
            let record = try announcer.announce([])
            print("\(isoTime(unixNow())) withdrew \(record.permID.text) at seq \(record.seq), valid until \(isoTime(record.expiresAt))")
        } catch let failure as AnnounceFailure {
            throw failure.cliFailure
        }
    }
}
