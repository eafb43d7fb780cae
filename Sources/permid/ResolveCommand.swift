import ArgumentParser
import Foundation
import PermIDClient
import PermIDKit

/// `permid resolve`: finds where PermIDs are, trusting only signatures.
struct ResolveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resolve",
        abstract: "Resolve PermIDs to endpoints, verifying every record locally.",
        discussion: """
            Each record is checked here: its signature against the PermID asked for, the PermID match, and \
            that it has not expired. A record that fails is reported as forged and the exit status is 3: \
            the directory is never trusted. Several PermIDs are fetched in one batch lookup. A friend's \
            name (`permid friends`) stands for the friend's PermID.

            Output: one IP:PORT per line (prefixed with the PermID or name as given when several are asked \
            for), or --json.
            Exit status: 0 all resolved, 2 some not found, 3 some forged.

            Examples:
              permid resolve MCowBQYDK2VwAyEA... --server http://127.0.0.1:8080
              permid resolve alice
              permid resolve ID1 alice --json
            """
    )

    @OptionGroup var server: ServerOptions

    @Argument(help: ArgumentHelp("The PermIDs (base64url), or friends' names.", valueName: "permid|friend"))
    var permids: [String]

    @Flag(help: "Print JSON: one object per PermID with its status, endpoints, seq and expires_at (Unix seconds, as in the API), and the friend's name.")
    var json = false

    func validate() throws {
        guard !permids.isEmpty else { throw ValidationError("give at least one PermID") }
        guard permids.count <= ProtocolConstants.lookupLimit else { throw ValidationError("at most \(ProtocolConstants.lookupLimit) PermIDs at once") }
    }

    func run() throws {
        let friends = FriendsList(beside: Keyring.standard())
        let asked = try permids.map { text throws(ClientError) in (text: text, permID: try friends.permID(for: text)) }
        let client = try server.client()
        let results = asked.count == 1 ? [asked[0].permID: try client.resolve(asked[0].permID)] : try client.resolve(asked.map(\.permID))
        var worst: CLIFailure.Status?
        var writer = JSONWriter()
        writer.beginArray()
        for (text, permID) in asked {
            let result = results[permID] ?? .notFound
            switch result {
            case .found(let record):
                if !json {
                    if record.isWithdrawal { FileHandle.standardError.write("\(text): withdrawn by its owner\n") }
                    for endpoint in record.endpoints { print(asked.count > 1 ? "\(text) \(endpoint)" : "\(endpoint)") }
                }
            case .notFound:
                if worst == nil { worst = .notFound }
                if !json { FileHandle.standardError.write("permid: \(text): not found\n") }
            case .forged(let why):
                worst = .verificationFailed
                if !json { FileHandle.standardError.write("permid: \(text): FORGED record refused: \(why)\n") }
            }
            write(result, text: text, permID: permID, to: &writer)
        }
        writer.endArray()
        if json { printJSON(writer) }
        if let worst {
            throw CLIFailure(worst, worst == .verificationFailed ? "the directory served a record that does not verify" : "not every PermID was found")
        }
    }

    private func write(_ result: Resolution, text: String, permID: PermID, to writer: inout JSONWriter) {
        writer.beginObject()
        writer.string("permid", permID.text)
        if text != permID.text { writer.string("friend", text) }
        switch result {
        case .found(let record):
            writer.string("status", record.isWithdrawal ? "withdrawn" : "ok")
            writer.beginArray("endpoints")
            for endpoint in record.endpoints { writer.string(nil, endpoint.description) }
            writer.endArray()
            writer.number("seq", record.seq)
            writer.number("expires_at", record.expiresAt)
        case .notFound:
            writer.string("status", "not-found")
        case .forged(let why):
            writer.string("status", "forged")
            writer.string("reason", why)
        }
        writer.endObject()
    }
}
