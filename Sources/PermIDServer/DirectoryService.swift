import Foundation
import Logging
import PermIDKit
import Synchronization

/// The directory's HTTP API (PROTOCOL-v1 §5): routes requests to handlers, applies the rules of §4
/// in order, and turns every ``DirectoryError`` into problem+json in one place.
public final class DirectoryService: HTTPHandler {
    private let store: any RecordStore
    private let configuration: DirectoryConfiguration
    private let resolver: SourceAddressResolver
    private let sourceLimiter: TokenBucketLimiter?
    private let permIDLimiter: TokenBucketLimiter?
    private let logger: Logger
    /// Counters and histograms, also served at `/metrics`.
    public let metrics: ServerMetrics
    private let announcements = Mutex(AnnouncementCounts())
    private let validPermIDs = ValidatedPermIDs()
    private let bodies = RecordBodyCache()
    private let lastReadiness = Mutex<(ContinuousClock.Instant, HTTPResponse)?>(nil)
    private let watches: WatchRegistry
    private let started = ContinuousClock.now

    /// Accepted and rejected announcements since start, by problem slug.
    struct AnnouncementCounts {
        var accepted = 0
        var rejected: [String: Int] = [:]
    }

    /// Makes the service over `store`.
    public init(store: any RecordStore, configuration: DirectoryConfiguration, logger: Logger, metrics: ServerMetrics = ServerMetrics()) {
        self.store = store
        self.configuration = configuration
        self.resolver = SourceAddressResolver(trustedProxies: configuration.trustedProxies, header: configuration.proxyHeader)
        self.sourceLimiter = configuration.rateLimits.flatMap { $0.limitsSources ? TokenBucketLimiter(rate: $0.sourceRate, burst: $0.sourceBurst) : nil }
        self.permIDLimiter = configuration.rateLimits.flatMap { $0.limitsPermIDs ? TokenBucketLimiter(rate: $0.permIDRate, burst: $0.permIDBurst) : nil }
        self.logger = logger
        self.metrics = metrics
        self.watches = WatchRegistry(maxTotal: configuration.maxWatchers, maxPerSource: configuration.maxWatchersPerSource)
        store.observeStoredRecords { [weak self] permID in self?.storedElsewhere(permID) }
    }

    /// A record another node stored: wakes this node's waiting resolves of that PermID.
    private func storedElsewhere(_ permID: [UInt8]) {
        guard watches.isWatched(permID), let record = try? store.record(for: permID, now: configuration.clock()) else { return }
        watches.stored(record)
    }

    /// Answers every waiting resolve now (304 or 404, or 200 if a record changed) and refuses new
    /// waits: the first step of shutdown.
    public func endWatches() { watches.endAll() }

    /// The number of resolves waiting now.
    public var watchCount: Int { watches.count }

    // MARK: - HTTPHandler

    public func context(for request: HTTPRequest, started: ContinuousClock.Instant) -> RequestContext {
        let route = Route(path: request.path)
        return RequestContext(
            method: request.method, route: route,
            source: resolver.source(peer: request.peerAddress, port: request.peerPort, headers: request.headers),
            bodyLimit: route == .lookup ? configuration.lookupBodyLimit : configuration.announcementBodyLimit,
            started: started)
    }

    public func handle(_ request: HTTPRequest, in context: RequestContext) -> HandlerResult {
        do {
            return try dispatch(request, context)
        } catch {
            return .respond(.problem(error))
        }
    }

    public func completed(_ context: RequestContext?, status: Int, problem: String?, started: ContinuousClock.Instant) {
        let duration = ContinuousClock.now - started
        // The context is read once: each optional chain through it would copy it.
        var route = Route.unknown.template, method = HTTPMethod.other, isAnnouncement = false
        if let context {
            route = context.route.template
            method = context.method
            if method == .put, case .peer = context.route { isAnnouncement = true }
        }
        metrics.recordRequest(route: route, method: method.rawValue, status: status, duration: duration)
        if isAnnouncement {
            let outcome = (200..<300).contains(status) ? "accepted" : problem ?? "status-\(status)"
            announcements.withLock { counts in
                if outcome == "accepted" { counts.accepted += 1 } else { counts.rejected[outcome, default: 0] += 1 }
            }
            metrics.recordAnnouncement(outcome: outcome)
        }
        logger.info("request", metadata: [
            "method": .string(method.rawValue), "route": .string(route), "status": .stringConvertible(status),
            "duration_ms": .string(String(format: "%.3f", Double(duration.components.attoseconds) / 1e15 + Double(duration.components.seconds) * 1000)),
            "source": .string(context?.source.address.description ?? "-"),
        ])
    }

    // MARK: - Routing

    private func dispatch(_ request: HTTPRequest, _ context: RequestContext) throws(DirectoryError) -> HandlerResult {
        let route = context.route
        guard route != .unknown else { throw .notFound("no resource at \(request.path)") }
        guard route.allowedMethods.contains(context.method) else {
            throw .methodNotAllowed(allowed: route.allowedMethods.map(\.rawValue))
        }
        if route.isV1 { try limitSource(context.source) }
        switch (route, context.method) {
        case (.peer(let permID), .put): return try announce(request, context, pathPermID: permID)
        case (.peer(let permID), _): return try resolve(request, context, permIDText: permID)
        case (.lookup, _): return .respond(try lookup(request, context))
        case (.peers, _): return .respond(try list(request))
        case (.whoami, _): return .respond(whoami(context.source))
        case (.stats, _): return .respond(try stats())
        case (.health, _): return .respond(try health())
        case (.ready, _): return try readiness()
        case (.metrics, _): return .respond(try metricsText())
        case (.openAPI, _): return .respond(HTTPResponse(status: 200, headers: [("Content-Type", "application/yaml")], body: OpenAPISpec.response))
        default: throw .notFound("no resource at \(request.path)")
        }
    }

    /// Takes one of the source's tokens, or throws 429. IPv6 sources share a bucket per prefix
    /// (a /64 by default), since one host can rotate through its whole prefix.
    private func limitSource(_ source: SourceAddress) throws(DirectoryError) {
        guard let sourceLimiter else { return }
        if let wait = sourceLimiter.take(limiterKey(source.address), now: monotonicSeconds) { throw .rateLimited(retryAfter: wait) }
    }

    private func limiterKey(_ address: IPAddress) -> [UInt8] {
        guard address.family == 6 else { return address.bytes }
        return CIDR(network: address, prefixLength: configuration.ipv6Prefix).maskedBytes
    }

    /// Seconds since the service started, for the token buckets.
    private var monotonicSeconds: Double {
        let elapsed = ContinuousClock.now - started
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }

    // MARK: - Announce

    private func announce(_ request: HTTPRequest, _ context: RequestContext, pathPermID: String) throws(DirectoryError) -> HandlerResult {
        try requireJSON(request)
        let clock = configuration.clock()
        let record = try configuration.validator.validateAnnouncement(body: request.body, pathPermID: pathPermID, now: clock)
        // A sealed record's endpoints are unreadable here: the policy has nothing to check (FRIENDS-v1 part B).
        if case .endpoints(let endpoints) = record.content {
            try configuration.endpointPolicy.check(endpoints, source: context.source.address)
        }
        // Checked here but spent only when the store accepts: a replay of the owner's own record (409)
        // must not use up the owner's allowance.
        if let permIDLimiter, let wait = permIDLimiter.wait(record.permID.bytes, now: monotonicSeconds) {
            throw .rateLimited(retryAfter: wait)
        }
        return .later(store.submit(record).map { [self] stored in announced(record, stored, now: clock) })
    }

    /// The answer to an announcement once the store has decided, with what follows an acceptance. It
    /// runs on the thread that fulfils the store's one-shot, whether or not the announcer is still
    /// connected: libmicrohttpd may drop a resumed connection whose client has gone without asking it
    /// for its answer, so spending the allowance and waking watchers must not wait for the resume
    /// (`WatchTests.announcersThatHangUpStillWakeTheirWatchers`).
    private func announced(_ record: SignedRecord, _ stored: Result<AnnounceOutcome, DirectoryError>, now: UInt64) -> HTTPResponse {
        switch stored {
        case .success(.stale(let storedSeq)):
            return .problem(.staleSeq(sent: record.seq, stored: storedSeq))
        case .success(let outcome):
            _ = permIDLimiter?.take(record.permID.bytes, now: monotonicSeconds)
            watches.stored(record)
            var response = recordResponse(record, status: outcome == .created ? 201 : 200, now: now)
            if outcome == .created { response.headers.append(("Location", "/v1/peers/\(record.permID.text)")) }
            return response
        case .failure(let error):
            return .problem(error)
        }
    }

    private func requireJSON(_ request: HTTPRequest) throws(DirectoryError) {
        let contentType = request.headers["content-type"] ?? ""
        guard Self.namesJSON(contentType) else {
            throw .unsupportedMediaType(contentType.isEmpty ? "no Content-Type" : String(contentType.prefix(100)))
        }
    }

    /// Whether a Content-Type value is `application/json`, in any case, with any parameters and
    /// optional whitespace (RFC 9110 §8.3.1: SP and HTAB). Read as bytes: it runs for every announcement.
    static func namesJSON(_ contentType: String) -> Bool {
        let bytes = Array(contentType.utf8)
        var start = 0, end = bytes.firstIndex(of: UInt8(ascii: ";")) ?? bytes.count
        func isSpace(_ byte: UInt8) -> Bool { byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
        while start < end, isSpace(bytes[start]) { start += 1 }
        while end > start, isSpace(bytes[end - 1]) { end -= 1 }
        let json = "application/json".utf8
        return end - start == json.count && zip(bytes[start..<end], json).allSatisfy { byte, expected in
            (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte + 32 == expected : byte == expected
        }
    }

    // MARK: - Resolve

    /// Answers a resolve at once, or, with `wait` and nothing new to tell (no live record, or the one the
    /// client's `If-None-Match` names), holds it until another record is accepted or the wait runs out.
    private func resolve(_ request: HTTPRequest, _ context: RequestContext, permIDText: String) throws(DirectoryError) -> HandlerResult {
        guard let bytes = Base64URL.decode(permIDText) else { throw .invalidPermID("PermID is not unpadded base64url") }
        let wait = try waitSeconds(request, context)
        let clock = configuration.clock()
        let record = try store.record(for: bytes, now: clock)
        // Only a miss pays for full validation: anything stored was validated when announced.
        if record == nil { try validPermIDs.check(bytes) }
        let tags = request.headers["if-none-match"]
        let unchanged = record.map { record in tags.map { Self.matches($0, seq: record.seq) } ?? false } ?? true
        guard let wait, unchanged else { return .respond(try resolved(record, tags: tags, now: clock)) }
        // Register first, then look again: a record accepted in between wakes the watch at once.
        let end = try watches.watch(
            bytes, knownSeq: record?.seq, source: limiterKey(context.source.address), seconds: min(wait, configuration.maxWait))
        if let current = try store.record(for: bytes, now: configuration.clock()), current.seq != record?.seq {
            watches.stored(current)
        }
        return .later(end.map { [self] outcome in
            switch outcome {
            case .stored(let stored): recordResponse(stored, status: 200, now: configuration.clock())
            case .timedOut:
                answered { () throws(DirectoryError) in
                    let now = configuration.clock()
                    return try resolved(try store.record(for: bytes, now: now), tags: tags, now: now)
                }
            }
        })
    }

    /// The response `body` makes, or the problem it throws.
    private func answered(_ body: () throws(DirectoryError) -> HTTPResponse) -> HTTPResponse {
        do {
            return try body()
        } catch {
            return .problem(error)
        }
    }

    /// The answer to a resolve given the live record read for it: 200, 304 when `tags` name it, else 404.
    private func resolved(_ record: SignedRecord?, tags: String?, now: UInt64) throws(DirectoryError) -> HTTPResponse {
        guard let record else { throw .notFound("no live record for this PermID") }
        if let tags, Self.matches(tags, seq: record.seq) {
            return HTTPResponse(status: 304, headers: recordHeaders(record, now: now))
        }
        return recordResponse(record, status: 200, now: now)
    }

    /// The `wait` query argument: `nil` when absent, else whole seconds within the protocol's bounds.
    private func waitSeconds(_ request: HTTPRequest, _ context: RequestContext) throws(DirectoryError) -> Int? {
        guard let text = request.query["wait"] else { return nil }
        let bounds = ProtocolConstants.watchSeconds
        guard context.method == .get else { throw .invalidRequest("wait is for GET only") }
        guard text.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }), let seconds = Int(text), bounds.contains(seconds) else {
            throw .invalidRequest("wait must be an integer from \(bounds.lowerBound) to \(bounds.upperBound)")
        }
        return seconds
    }

    /// Whether an `If-None-Match` value matches the ETag `"seq"` (weak comparison, RFC 9110 §13.1.2).
    static func matches(_ header: String, seq: UInt64) -> Bool {
        let etag = "\"\(seq)\""
        return header.split(separator: ",").contains { element in
            let tag = element.trimmingCharacters(in: .whitespaces)
            return tag == "*" || tag == etag || tag == "W/" + etag
        }
    }

    private func recordResponse(_ record: SignedRecord, status: Int, now: UInt64) -> HTTPResponse {
        HTTPResponse(status: status, headers: recordHeaders(record, now: now, contentType: true), body: bodies.body(of: record))
    }

    /// `ETag` and `Cache-Control` (computed now), after `Content-Type` when the answer has a body;
    /// one array, made once.
    private func recordHeaders(_ record: SignedRecord, now: UInt64, contentType: Bool = false) -> [(String, String)] {
        var headers = [(String, String)]()
        headers.reserveCapacity(4) // and Location, for a 201
        if contentType { headers.append(("Content-Type", "application/json")) }
        headers.append(("ETag", "\"\(record.seq)\""))
        headers.append(("Cache-Control", "max-age=\(record.expiresAt > now ? record.expiresAt - now : 0)"))
        return headers
    }

    // MARK: - Lookup

    private func lookup(_ request: HTTPRequest, _ context: RequestContext) throws(DirectoryError) -> HTTPResponse {
        try requireJSON(request)
        let document: JSONValue
        do {
            document = try StrictJSONParser.parse(request.body)
        } catch {
            throw .malformedJSON("body is not valid JSON: \(error)")
        }
        guard case .object(let members) = document else { throw .malformedJSON("the body must be a JSON object") }
        for member in members where member.name != "permids" { throw .malformedJSON("unknown member \"\(member.name)\"") }
        guard let value = members.first?.value else { throw .malformedJSON("missing member \"permids\"") }
        guard case .array(let elements) = value else { throw .malformedJSON("\"permids\" must be an array") }
        guard (1...configuration.lookupLimit).contains(elements.count) else {
            throw .invalidRequest("\"permids\" must have 1 to \(configuration.lookupLimit) entries, got \(elements.count)")
        }
        var texts = [String]()
        for (index, element) in elements.enumerated() {
            guard case .string(let text) = element else { throw .malformedJSON("\"permids[\(index)]\" must be a string") }
            texts.append(text)
        }
        let decoded = texts.map { Base64URL.decode($0) }
        let clock = configuration.clock()
        let found = try store.records(for: decoded.compactMap { $0 }, now: clock)
        // Name the first invalid entry. A stored PermID was validated when announced, and so was one
        // in the cache of validated PermIDs; only the others pay for a full key check (the n·Q check of
        // a binary curve costs ~0.2 ms), each distinct one once and for one more of the source's tokens.
        var checked = Set<[UInt8]>()
        for (index, bytes) in decoded.enumerated() {
            guard let bytes else { throw .invalidPermID("permids[\(index)] is not unpadded base64url") }
            guard found[bytes] == nil, !validPermIDs.contains(bytes), checked.insert(bytes).inserted else { continue }
            try limitSource(context.source)
            do {
                try validPermIDs.check(bytes)
            } catch {
                throw Self.indexed(error, index)
            }
        }
        var order = [(text: String, bytes: [UInt8])]()
        var seen = Set<String>()
        for (text, bytes) in zip(texts, decoded) where seen.insert(text).inserted { order.append((text, bytes!)) }
        var writer = JSONWriter()
        writer.beginObject()
        writer.beginArray("records")
        for entry in order { found[entry.bytes]?.write(to: &writer) }
        writer.endArray()
        writer.beginArray("missing")
        for entry in order where found[entry.bytes] == nil { writer.string(nil, entry.text) }
        writer.endArray()
        writer.endObject()
        return .json(200, writer.bytes)
    }

    /// The same problem with its detail naming the lookup index.
    private static func indexed(_ error: DirectoryError, _ index: Int) -> DirectoryError {
        switch error {
        case .invalidPermID(let detail): .invalidPermID("permids[\(index)]: \(detail)")
        case .unsupportedKey(let detail): .unsupportedKey("permids[\(index)]: \(detail)")
        case .nonCanonicalPermID(let canonical): .invalidPermID("permids[\(index)] is not canonical; the canonical PermID is \(canonical)")
        default: error
        }
    }

    // MARK: - Listing

    private func list(_ request: HTTPRequest) throws(DirectoryError) -> HTTPResponse {
        var limit = ProtocolConstants.defaultListingLimit
        if let text = request.query["limit"] {
            let bounds = ProtocolConstants.listingLimits
            guard text.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }), let value = Int(text), bounds.contains(value) else {
                throw .invalidRequest("limit must be an integer from \(bounds.lowerBound) to \(bounds.upperBound)")
            }
            limit = value
        }
        var cursor: [UInt8]?
        if let text = request.query["cursor"] {
            guard let bytes = Base64URL.decode(text), !bytes.isEmpty else { throw .invalidRequest("cursor is not a cursor this server returned") }
            cursor = bytes
        }
        var address: IPAddress?
        if let text = request.query["ip"] {
            guard let decoded = text.removingPercentEncoding, let parsed = IPAddress(decoded) else {
                throw .invalidRequest("ip must be an IPv4 or IPv6 address")
            }
            address = parsed.unmapped
        }
        let page = try store.list(after: cursor, address: address, limit: limit, now: configuration.clock())
        var writer = JSONWriter()
        writer.beginObject()
        writer.beginArray("records")
        for record in page.records { record.write(to: &writer) }
        writer.endArray()
        if let next = page.nextCursor { writer.base64URL("next_cursor", next) } else { writer.null("next_cursor") }
        writer.endObject()
        return .json(200, writer.bytes)
    }

    // MARK: - Small resources

    private func whoami(_ source: SourceAddress) -> HTTPResponse {
        var writer = JSONWriter()
        writer.beginObject()
        writer.string("ip", source.address.description)
        if let port = source.port { writer.number("port", Int(port)) } else { writer.null("port") }
        writer.number("server_time", configuration.clock())
        writer.endObject()
        return .json(200, writer.bytes, headers: [("Cache-Control", "no-store")])
    }

    private func stats() throws(DirectoryError) -> HTTPResponse {
        let counts = try store.counts(now: configuration.clock())
        let announced = announcements.withLock { $0 }
        var writer = JSONWriter()
        writer.beginObject()
        writer.number("records", counts.records)
        writer.number("live", counts.live)
        writer.number("withdrawn", counts.withdrawn)
        writer.number("tombstones", counts.records - counts.live)
        writer.beginObject("announcements")
        writer.number("accepted", announced.accepted)
        writer.beginObject("rejected")
        for (slug, count) in announced.rejected.sorted(by: { $0.key < $1.key }) { writer.number(slug, count) }
        writer.endObject()
        writer.endObject()
        writer.endObject()
        return .json(200, writer.bytes, headers: [("Cache-Control", "no-store")])
    }

    private func health() throws(DirectoryError) -> HTTPResponse {
        try store.checkHealth()
        return .json(200, Array(#"{"status":"ok"}"#.utf8), headers: [("Cache-Control", "no-store")])
    }

    /// Readiness: the database answers a read and takes a write (``RecordStore/probeWrite()``), so an
    /// operator is told when announcements would fail (full disk, read-only, database down) while
    /// `/healthz` (liveness) still answers. A probe's answer is reused for a second.
    private func readiness() throws(DirectoryError) -> HandlerResult {
        try store.checkHealth()
        let now = ContinuousClock.now
        if let (probed, response) = lastReadiness.withLock({ $0 }), now - probed < .seconds(1) { return .respond(response) }
        return .later(store.probeWrite().map { [self] result in
            let response = switch result {
            case .success: HTTPResponse.json(200, Array(#"{"status":"ready"}"#.utf8), headers: [("Cache-Control", "no-store")])
            case .failure(let error): HTTPResponse.problem(error)
            }
            lastReadiness.withLock { $0 = (now, response) }
            return response
        })
    }

    private func metricsText() throws(DirectoryError) -> HTTPResponse {
        metrics.updateStore(try store.counts(now: configuration.clock()))
        metrics.updateWaiting(watches.count)
        return HTTPResponse(status: 200, headers: [("Content-Type", "text/plain; version=0.0.4")], body: ResponseBytes(metrics.exposition()))
    }
}

extension Route {
    fileprivate var isV1: Bool {
        switch self {
        case .peer, .lookup, .peers, .whoami, .stats: true
        default: false
        }
    }
}
