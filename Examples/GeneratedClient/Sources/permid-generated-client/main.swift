// Uses the client that swift-openapi-generator makes from openapi.yaml against a live permidd, as an
// app would: pages through the listing by `next_cursor` (open and sealed records, the two forms of
// `Record`), reads `stored_seq` from a 409 to a sealed replay and reads a typed `invalid-permid` problem.
// Usage: permid-generated-client SERVER_URL EXPECTED_RECORDS (Tests/generated-clients.sh stores
// EXPECTED_RECORDS records first, one of them sealed). Exits non-zero on any mismatch.
import Foundation
import OpenAPIRuntime
import OpenAPIURLSession

/// A check that did not hold, with what was seen instead.
struct CheckFailed: Error, CustomStringConvertible {
    var description: String
}

/// Fails with `message` unless `condition` holds.
func check(_ condition: Bool, _ message: @autoclosure () -> String) throws {
    if !condition { throw CheckFailed(description: message()) }
}

extension Components.Schemas.Record {
    /// The PermID of either form.
    var permid: String {
        switch self {
        case .OpenRecord(let record): record.permid
        case .SealedRecord(let record): record.permid
        }
    }
}

/// Walks `GET /v1/peers` one record per page and returns every record seen.
func listAll(_ client: Client) async throws -> [Components.Schemas.Record] {
    var records: [Components.Schemas.Record] = []
    var cursor: String?
    repeat {
        let output = try await client.listPeers(query: .init(limit: 1, cursor: cursor))
        guard case .ok(let ok) = output else { throw CheckFailed(description: "listPeers answered \(output)") }
        let page = try ok.body.json
        records += page.records
        cursor = page.nextCursor
        try check(records.count <= 1_000, "the listing does not end: \(records.count) records")
    } while cursor != nil
    return records
}

/// Announces a sealed `record` again, unchanged, and returns the 409's `stored_seq`.
func storedSeqOfReplay(_ client: Client, _ record: Components.Schemas.SealedRecord) async throws -> Int {
    let announcement = Components.Schemas.Announcement.SealedAnnouncement(.init(
        permid: record.permid, sigAlg: record.sigAlg, seq: record.seq, issuedAt: record.issuedAt,
        expiresAt: record.expiresAt, sealed: record.sealed, signature: record.signature))
    let output = try await client.announcePeer(path: .init(permid: record.permid), body: .json(announcement))
    guard case .conflict(let conflict) = output else { throw CheckFailed(description: "replay answered \(output)") }
    let problem = try conflict.body.applicationProblemJson
    try check(problem._type == .staleSeq && problem.status == ._409, "409 carried \(problem)")
    return problem.storedSeq
}

/// Resolves a PermID that is b64u but no public key, and returns the typed problem.
func invalidPermIDProblem(_ client: Client) async throws -> Components.Schemas.InvalidPermIDProblem {
    let output = try await client.getPeer(path: .init(permid: String(repeating: "A", count: 60)))
    guard case .badRequest(let badRequest) = output else {
        throw CheckFailed(description: "resolving a non-key answered \(output)")
    }
    guard case .invalidPermID(let problem) = try badRequest.body.applicationProblemJson else {
        throw CheckFailed(description: "400 carried \(try badRequest.body.applicationProblemJson)")
    }
    return problem
}

let arguments = CommandLine.arguments
guard arguments.count == 3, let serverURL = URL(string: arguments[1]), let expected = Int(arguments[2]) else {
    FileHandle.standardError.write(Data("usage: permid-generated-client SERVER_URL EXPECTED_RECORDS\n".utf8))
    exit(2)
}
let client = Client(serverURL: serverURL, transport: URLSessionTransport())
do {
    let records = try await listAll(client)
    try check(records.count == expected, "listed \(records.count) records, expected \(expected)")
    try check(Set(records.map(\.permid)).count == expected, "a PermID was listed twice")
    print("swift: paged through \(records.count) records by next_cursor")

    let sealed = records.compactMap { record in
        if case .SealedRecord(let sealed) = record { return sealed }
        return nil
    }
    try check(sealed.count == 1 && sealed[0].sealed.count % 8 == 0, "expected one sealed record padded to 8 boxes, got \(sealed)")
    let storedSeq = try await storedSeqOfReplay(client, sealed[0])
    try check(storedSeq == sealed[0].seq, "stored_seq \(storedSeq), the sealed record's seq is \(sealed[0].seq)")
    print("swift: \(sealed[0].sealed.count) sealed boxes; its replay: 409 stale-seq with stored_seq \(storedSeq)")

    let problem = try await invalidPermIDProblem(client)
    try check(problem.title == .invalidPermID && problem.status == ._400, "invalid-permid problem \(problem)")
    print("swift: 400 invalid-permid: \(problem.detail)")
} catch {
    FileHandle.standardError.write(Data("swift: \(error)\n".utf8))
    exit(1)
}
