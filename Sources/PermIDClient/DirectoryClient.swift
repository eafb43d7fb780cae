import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import PermIDKit

/// A small synchronous client for one permidd directory. Every record it returns has been verified here:
/// the directory is never trusted.
public struct DirectoryClient: Sendable {
    /// The directory's base URL, as given.
    public let server: String
    /// Seconds to wait for each answer.
    public let timeout: Double
    /// This machine's Unix time in seconds, against which records are checked (and, for friends, the
    /// blinding epoch chosen); replaceable so tests can move time.
    public var clock: @Sendable () -> UInt64 = { Clock.seconds() }
    private let base: URL

    /// Makes a client for the directory at `server` (an `http` or `https` URL).
    ///
    /// - Parameters:
    ///   - server: the base URL, such as `http://127.0.0.1:8080`.
    ///   - timeout: seconds to wait for each answer.
    /// - Throws: ``ClientError/invalidArgument(_:)`` when `server` is not an http(s) URL with a host.
    public init(server: String, timeout: Double = 10) throws(ClientError) {
        guard let url = URL(string: server), let scheme = url.scheme, ["http", "https"].contains(scheme), url.host != nil else {
            throw .invalidArgument("--server \(server.printable) is not an http(s) URL")
        }
        self.server = server
        self.timeout = timeout
        base = url
    }

    // MARK: - Calls

    /// `GET /v1/whoami`: the address the directory sees and its clock. A `server_time` outside the protocol's
    /// integer range (0 ... 2^53 − 1) makes the answer not understood; a `port` outside 0 ... 65535 is dropped.
    ///
    /// - Throws: ``ClientError/unreachable(server:reason:)``, ``ClientError/refused(_:)`` or
    ///   ``ClientError/untrustworthyAnswer(_:)``.
    public func whoami() throws(ClientError) -> ObservedAddress {
        let response = try send("GET", "/v1/whoami")
        guard response.status == 200 else { throw .refused(response.refusal) }
        guard let object = ServerJSON(response.body),
              let ip = object.text("ip").flatMap({ IPAddress($0) }),
              let time = object.integer("server_time"), time <= SignedRecord.maxSafeInteger
        else { throw .untrustworthyAnswer("the directory's whoami answer is not understood") }
        return ObservedAddress(ip: ip, port: object.integer("port").flatMap { UInt16(exactly: $0) }, serverTime: time)
    }

    /// Resolves one PermID with `GET /v1/peers/{permid}` and verifies what is served: the signature, that the
    /// record is for `permID`, its shape and that it has not expired.
    ///
    /// - Returns: ``Resolution/found(_:)`` only for a record that verifies; ``Resolution/forged(reason:)`` otherwise.
    /// - Throws: ``ClientError/unreachable(server:reason:)`` or ``ClientError/refused(_:)`` for any answer but 200 and 404.
    public func resolve(_ permID: PermID) throws(ClientError) -> Resolution {
        let response = try send("GET", "/v1/peers/\(permID.text)")
        switch response.status {
        case 200: return verify(response.body, for: permID)
        case 404: return .notFound
        default: throw .refused(response.refusal)
        }
    }

    /// Waits (long-poll, `GET /v1/peers/{permid}?wait=`) up to `seconds` for `permID`'s record to be other
    /// than the one with `knownSeq` (or, with `knownSeq` nil, for a first record), and verifies it as
    /// ``resolve(_:)`` does.
    ///
    /// - Returns: `nil` when nothing changed before the wait ran out; ``Resolution/notFound`` when no live
    ///   record is left; else the verified (or forged) record.
    /// - Throws: ``ClientError/invalidArgument(_:)`` for a wait outside the protocol's bounds,
    ///   ``ClientError/unreachable(server:reason:)`` or ``ClientError/refused(_:)``.
    public func watch(_ permID: PermID, knownSeq: UInt64?, seconds: Int) throws(ClientError) -> Resolution? {
        let bounds = ProtocolConstants.watchSeconds
        guard bounds.contains(seconds) else { throw .invalidArgument("the wait must be \(bounds.lowerBound) to \(bounds.upperBound) seconds") }
        let response = try send(
            "GET", "/v1/peers/\(permID.text)?wait=\(seconds)", headers: knownSeq.map { ["If-None-Match": "\"\($0)\""] } ?? [:],
            waiting: Double(seconds))
        switch response.status {
        case 200: return verify(response.body, for: permID)
        case 304: return nil
        case 404: return knownSeq == nil ? nil : .notFound
        default: throw .refused(response.refusal)
        }
    }

    /// Resolves up to ``PermIDKit/ProtocolConstants/lookupLimit`` PermIDs in one batch lookup
    /// (`POST /v1/peers/lookup`), verifying each record as ``resolve(_:)`` does.
    ///
    /// - Returns: a resolution for every PermID asked for; one the answer does not name is ``Resolution/notFound``.
    /// - Throws: ``ClientError/invalidArgument(_:)`` for more than the limit, ``ClientError/unreachable(server:reason:)``,
    ///   ``ClientError/refused(_:)``, or ``ClientError/unverifiable(_:)`` when the answer is not a lookup answer.
    public func resolve(_ permIDs: [PermID]) throws(ClientError) -> [PermID: Resolution] {
        guard permIDs.count <= ProtocolConstants.lookupLimit else {
            throw .invalidArgument("at most \(ProtocolConstants.lookupLimit) PermIDs at once")
        }
        var results = [PermID: Resolution]()
        for permID in permIDs { results[permID] = .notFound }
        guard !permIDs.isEmpty else { return results }
        var writer = JSONWriter()
        writer.beginObject()
        writer.beginArray("permids")
        for permID in permIDs { writer.string(nil, permID.text) }
        writer.endArray()
        writer.endObject()
        let response = try send("POST", "/v1/peers/lookup", json: writer.bytes)
        guard response.status == 200 else { throw .refused(response.refusal) }
        guard case .object(let members)? = try? StrictJSONParser.parse(response.body),
              case .array(let records)? = members.first(where: { $0.name == "records" })?.value
        else { throw .unverifiable("the directory's lookup answer is not understood") }
        let asked = Dictionary(permIDs.map { ($0.text, $0) }) { first, _ in first }
        for value in records {
            guard case .object(let fields) = value,
                  case .string(let text)? = fields.first(where: { $0.name == "permid" })?.value,
                  let permID = asked[text] else { continue }
            var record = JSONWriter()
            record.value(nil, value)
            results[permID] = verify(record.bytes, for: permID)
        }
        return results
    }

    /// Verifies a served record against the PermID that was asked for. The one place a served record is
    /// accepted: there is no way to get a record out of this client without this check.
    func verify(_ json: [UInt8], for permID: PermID) -> Resolution {
        do {
            return .found(try RecordValidator().validateRecord(json: json, now: clock(), freshness: .resolving(expected: permID)))
        } catch {
            return .forged(reason: "\(error.title): \(error.detail)".printable)
        }
    }

    // MARK: - HTTP

    /// A response: status, headers (lowercase names) and body.
    struct Response: Sendable {
        let status: Int
        let headers: [String: String]
        let body: [UInt8]

        /// The answer as a refusal: slug, printable detail, any integer `stored_seq`, and the bounded
        /// `Retry-After` of a 429 or 503 (the header when it is decimal digits, else the problem's `retry_after`;
        /// anything else, an HTTP date or a negative number, is ignored; digits beyond 64 bits ask for the longest wait).
        var refusal: DirectoryRefusal {
            let object = ServerJSON(body)
            let slug = object?.text("type")?.components(separatedBy: "/").last.flatMap { $0.isEmpty ? nil : $0 } ?? "http-\(status)"
            let detail = object?.text("detail") ?? object?.text("title") ?? "HTTP \(status)"
            var retryAfter: Double?
            if status == 429 || status == 503 {
                let seconds: UInt64?
                if let header = headers["retry-after"]?.trimmingCharacters(in: .whitespaces), !header.isEmpty,
                   header.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) {
                    seconds = UInt64(digits: header) ?? .max
                } else {
                    seconds = object?.integer("retry_after")
                }
                let bounds = DirectoryRefusal.retryAfterBounds
                retryAfter = seconds.map { min(max(Double($0), bounds.lowerBound), bounds.upperBound) }
            }
            return DirectoryRefusal(status: status, slug: slug, detail: detail, storedSeq: object?.integer("stored_seq"), retryAfter: retryAfter)
        }
    }

    /// Sends one request and waits for the answer: up to ``timeout`` seconds, plus `waiting` for a long-poll.
    func send(
        _ method: String, _ path: String, json body: [UInt8]? = nil, headers: [String: String] = [:], waiting: Double = 0
    ) throws(ClientError) -> Response {
        let text = base.absoluteString.hasSuffix("/") ? String(base.absoluteString.dropLast()) : base.absoluteString
        guard let url = URL(string: text + path) else {
            throw .invalidArgument("cannot build a URL from \(server.printable) and \(path.printable)")
        }
        var request = URLRequest(url: url)
        request.httpMethod = method
        request.timeoutInterval = timeout + waiting
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        if let body {
            request.httpBody = Data(body)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let outcome = OneShot<Result<Response, ClientError>>()
        let session = URLSession(configuration: .ephemeral)
        defer { session.finishTasksAndInvalidate() }
        let server = server.printable
        session.dataTask(with: request) { data, response, error in
            outcome.fulfill(Self.response(data, response as? HTTPURLResponse, error, server: server))
        }.resume()
        return try outcome.wait().get()
    }

    /// What a URLSession completion means.
    private static func response(_ data: Data?, _ response: HTTPURLResponse?, _ error: (any Error)?, server: String) -> Result<Response, ClientError> {
        if let error {
            return .failure(.unreachable(server: server, reason: error.localizedDescription.printable))
        }
        guard let response else { return .failure(.unreachable(server: server, reason: "no HTTP response")) }
        var headers = [String: String]()
        for (name, value) in response.allHeaderFields {
            if let name = name as? String, let value = value as? String { headers[name.lowercased()] = value }
        }
        return .success(Response(status: response.statusCode, headers: headers, body: Array(data ?? Data())))
    }
}
