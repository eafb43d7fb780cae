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
            the directory is never trusted. Several PermIDs are fetched in one batch lookup.

            A friend's name (`permid friends`) is looked up privately first (FRIENDS-v1): under the friend's \
            blinded PermID of today, then of yesterday. A sealed record there is opened with --key (default: \
            the default key); one with no box for that key is "not shared with you". When nothing private is \
            found, or it is not shared, the friend's public record is used (with a note on stderr).

            Output: one IP:PORT per line (prefixed with the PermID or name as given when several are asked \
            for), or --json.
            Exit status: 0 all resolved, 2 some not found, 3 some forged, 6 some not shared with you (and no \
            public record either).

            Examples:
              permid resolve MCowBQYDK2VwAyEA... --server http://127.0.0.1:8080
              permid resolve alice
              permid resolve alice --key work
              permid resolve ID1 alice --json
            """
    )

    @OptionGroup var server: ServerOptions
    @OptionGroup var key: KeyOptions

    @Argument(help: ArgumentHelp("The PermIDs (base64url), or friends' names.", valueName: "permid|friend"))
    var permids: [String]

    @Flag(help: "Print JSON: one object per PermID with its status, endpoints, seq and expires_at (Unix seconds, as in the API), and, for a friend, its name, whether the record was sealed, and the blinded PermID it was found under.")
    var json = false

    func validate() throws {
        guard !permids.isEmpty else { throw ValidationError("give at least one PermID") }
        guard permids.count <= ProtocolConstants.lookupLimit else { throw ValidationError("at most \(ProtocolConstants.lookupLimit) PermIDs at once") }
    }

    /// The `status` of an answer, as --json writes it.
    private enum Status: String {
        case ok, withdrawn, notFound = "not-found", notShared = "not-shared", forged
    }

    /// What was found for one argument.
    private struct Answer {
        var status: Status
        var record: SignedRecord?
        var endpoints: [Endpoint] = []
        /// For a friend found privately: whether the record was sealed, and the blinded PermID.
        var sealed: Bool?
        var blindedPermID: PermID?
        var reason: String?
        var failure: CLIFailure.Status?
    }

    func run() throws {
        let friends = FriendsList(beside: Keyring.standard())
        let asked = try permids.map { text throws(ClientError) in
            (text: text, permID: try friends.permID(for: text), isFriend: (try? PublicKey(text: text)) == nil)
        }
        let client = try server.client()
        let publicPermIDs = asked.filter { !$0.isFriend }.map(\.permID)
        let publicResults = publicPermIDs.count == 1
            ? [publicPermIDs[0]: try client.resolve(publicPermIDs[0])]
            : try client.resolve(publicPermIDs)
        let openingKey = try self.openingKey(needed: asked.contains(where: \.isFriend))
        var worst: CLIFailure.Status?
        var writer = JSONWriter()
        writer.beginArray()
        for (text, permID, isFriend) in asked {
            let answer = isFriend
                ? Self.answer(try client.locate(friend: permID, key: openingKey), text: text)
                : Self.answer(publicResults[permID] ?? .notFound)
            if let failure = answer.failure, worst.map({ Self.rank(failure) > Self.rank($0) }) ?? true { worst = failure }
            if !json { show(answer, text: text, several: asked.count > 1) }
            write(answer, text: text, permID: permID, to: &writer)
        }
        writer.endArray()
        if json { printJSON(writer) }
        if let worst {
            let message = switch worst {
            case .verificationFailed: "the directory served a record that does not verify"
            case .notShared: "not every friend shares its endpoints with this key"
            default: "not every PermID was found"
            }
            throw CLIFailure(worst, message)
        }
    }

    /// The key that opens sealed records: --key (or $PERMID_KEY) must load; the default key is used if there is one.
    private func openingKey(needed: Bool) throws -> PrivateKey? {
        guard needed else { return nil }
        if key.key != nil || ProcessInfo.processInfo.environment["PERMID_KEY"].map({ !$0.isEmpty }) == true {
            return try key.load().key
        }
        return try? key.load().key
    }

    /// Forged outranks not shared, which outranks not found.
    private static func rank(_ status: CLIFailure.Status) -> Int {
        switch status {
        case .verificationFailed: 3
        case .notShared: 2
        default: 1
        }
    }

    private static func answer(_ result: Resolution) -> Answer {
        switch result {
        case .found(let record): Answer(status: record.isWithdrawal ? .withdrawn : .ok, record: record, endpoints: record.endpoints)
        case .notFound: Answer(status: .notFound, failure: .notFound)
        case .forged(let why): Answer(status: .forged, reason: why, failure: .verificationFailed)
        }
    }

    private static func answer(_ location: FriendLocation, text: String) -> Answer {
        switch location.privately {
        case .found(let record, _, let endpoints):
            return Answer(
                status: endpoints.isEmpty ? .withdrawn : .ok, record: record, endpoints: endpoints,
                sealed: record.sealedBoxes != nil, blindedPermID: record.permID)
        case .forged(let why):
            return Answer(status: .forged, reason: why, failure: .verificationFailed)
        case .notShared(let record, _):
            var answer = answer(location.publicly ?? .notFound)
            if answer.failure == .notFound {
                answer = Answer(status: .notShared, sealed: true, blindedPermID: record.permID, failure: .notShared)
            } else if answer.failure == nil {
                answer.reason = "its sealed record is not shared with you; this is its public record"
            }
            return answer
        case .notFound:
            return answer(location.publicly ?? .notFound)
        }
    }

    private func show(_ answer: Answer, text: String, several: Bool) {
        let name = text.printable
        if let reason = answer.reason, answer.failure == nil { FileHandle.standardError.write("permid: \(name): \(reason)\n") }
        switch answer.status {
        case .withdrawn: FileHandle.standardError.write("\(name): withdrawn by its owner\n")
        case .notFound: FileHandle.standardError.write("permid: \(name): not found\n")
        case .notShared: FileHandle.standardError.write("permid: \(name): not shared with you (a sealed record with no box for this key)\n")
        case .forged: FileHandle.standardError.write("permid: \(name): FORGED record refused: \(answer.reason ?? "")\n")
        case .ok: break
        }
        for endpoint in answer.endpoints { print(several ? "\(text) \(endpoint)" : "\(endpoint)") }
    }

    private func write(_ answer: Answer, text: String, permID: PermID, to writer: inout JSONWriter) {
        writer.beginObject()
        writer.string("permid", permID.text)
        if text != permID.text { writer.string("friend", text) }
        writer.string("status", answer.status.rawValue)
        if let sealed = answer.sealed { writer.bool("sealed", sealed) }
        if let blinded = answer.blindedPermID { writer.string("blinded_permid", blinded.text) }
        if let record = answer.record {
            writer.beginArray("endpoints")
            for endpoint in answer.endpoints { writer.string(nil, endpoint.description) }
            writer.endArray()
            writer.number("seq", record.seq)
            writer.number("expires_at", record.expiresAt)
        }
        if let reason = answer.reason { writer.string("reason", reason) }
        writer.endObject()
    }
}
