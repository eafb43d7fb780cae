import ArgumentParser
import Foundation
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

            Output: one IP:PORT per line (prefixed with the PermID when several are asked for), or --json.
            Exit status: 0 all resolved, 2 some not found, 3 some forged.

            Examples:
              permid resolve MCowBQYDK2VwAyEA... --server http://127.0.0.1:8080
              permid resolve ID1 ID2 --json
            """
    )

    @OptionGroup var server: ServerOptions

    @Argument(help: "The PermIDs (base64url).")
    var permids: [String]

    @Flag(help: "Print JSON: one object per PermID with its status, endpoints, seq and expiry.")
    var json = false

    func validate() throws {
        guard !permids.isEmpty else { throw ValidationError("give at least one PermID") }
        guard permids.count <= ProtocolConstants.lookupLimit else { throw ValidationError("at most \(ProtocolConstants.lookupLimit) PermIDs at once") }
        for permid in permids {
            do {
                _ = try PublicKey(text: permid)
            } catch {
                throw ValidationError("\(permid.prefix(40)) is not a valid PermID: \(error.detail)")
            }
        }
    }

    /// One PermID's result.
    enum Resolution {
        case found(SignedRecord)
        case missing
        case forged(String)
    }

    func run() throws {
        let client = try server.client()
        let results = permids.count == 1 ? [permids[0]: try fetchOne(client, permids[0])] : try fetchMany(client)
        var worst: CLIFailure.Status?
        var writer = JSONWriter()
        writer.beginArray()
        for permid in permids {
            let result = results[permid] ?? .missing
            switch result {
            case .found(let record):
                if !json {
                    if record.isWithdrawal { FileHandle.standardError.write("\(permid): withdrawn by its owner\n") }
                    for endpoint in record.endpoints { print(permids.count > 1 ? "\(permid) \(endpoint)" : "\(endpoint)") }
                }
            case .missing:
                if worst == nil { worst = .notFound }
                if !json { FileHandle.standardError.write("permid: \(permid): not found\n") }
            case .forged(let why):
                worst = .verificationFailed
                if !json { FileHandle.standardError.write("permid: \(permid): FORGED record refused: \(why)\n") }
            }
            write(result, permid, to: &writer)
        }
        writer.endArray()
        if json { printJSON(writer) }
        if let worst {
            throw CLIFailure(worst, worst == .verificationFailed ? "the directory served a record that does not verify" : "not every PermID was found")
        }
    }

    private func write(_ result: Resolution, _ permid: String, to writer: inout JSONWriter) {
        writer.beginObject()
        writer.string("permid", permid)
        switch result {
        case .found(let record):
            writer.string("status", record.isWithdrawal ? "withdrawn" : "ok")
            writer.beginArray("endpoints")
            for endpoint in record.endpoints { writer.string(nil, endpoint.description) }
            writer.endArray()
            writer.number("seq", record.seq)
            writer.string("expires_at", isoTime(record.expiresAt))
        case .missing:
            writer.string("status", "not-found")
        case .forged(let why):
            writer.string("status", "forged")
            writer.string("reason", why)
        }
        writer.endObject()
    }

    private func fetchOne(_ client: DirectoryClient, _ permid: String) throws -> Resolution {
        let response = try client.send("GET", "/v1/peers/\(permid)")
        switch response.status {
        case 200: return Self.verify(response.body, permid: permid)
        case 404: return .missing
        default: throw response.failure
        }
    }

    private func fetchMany(_ client: DirectoryClient) throws -> [String: Resolution] {
        var writer = JSONWriter()
        writer.beginObject()
        writer.beginArray("permids")
        for permid in permids { writer.string(nil, permid) }
        writer.endArray()
        writer.endObject()
        let response = try client.send("POST", "/v1/peers/lookup", json: writer.bytes)
        guard response.status == 200 else { throw response.failure }
        guard case .object(let members)? = try? StrictJSONParser.parse(response.body),
              case .array(let records)? = members.first(where: { $0.name == "records" })?.value
        else { throw CLIFailure(.verificationFailed, "the directory's lookup answer is not understood") }
        var results = [String: Resolution]()
        for value in records {
            guard case .object(let fields) = value,
                  case .string(let permid)? = fields.first(where: { $0.name == "permid" })?.value,
                  permids.contains(permid) else { continue }
            var record = JSONWriter()
            record.value(nil, value)
            results[permid] = Self.verify(record.bytes, permid: permid)
        }
        return results
    }

    /// Verifies a served record against the PermID that was asked for.
    static func verify(_ json: [UInt8], permid: String) -> Resolution {
        do {
            let record = try RecordValidator().validateRecord(json: json, now: unixNow(), freshness: .resolving)
            guard record.permID.text == permid else { return .forged("it is for another PermID") }
            return .found(record)
        } catch {
            return .forged("\(error.title): \(error.detail)".printable)
        }
    }
}
