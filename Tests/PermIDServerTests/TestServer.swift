import Foundation
import Logging
import PermIDKit
import PermIDServer
@testable import PermIDStore
import Synchronization

/// A real ``DirectoryServer`` on an ephemeral loopback port over a real SQLite file, with a clock
/// the test can move.
final class TestServer: @unchecked Sendable {
    // @unchecked Sendable: all stored properties are immutable or Sendable; tests share it across threads.
    let store: any DatabaseRecordStore
    let server: DirectoryServer
    let client: RawHTTPClient
    let clock = TestClock(TestServer.startTime)
    let directory: String

    static let startTime: UInt64 = 1_795_000_000

    /// With `PERMID_TEST_SERVER_ON_POSTGRES=1` and `PERMID_TEST_POSTGRES` (set by `make test`, which runs
    /// this suite once more that way), every test server stores in a fresh PostgreSQL database.
    static let postgresServer: String? = ProcessInfo.processInfo.environment["PERMID_TEST_SERVER_ON_POSTGRES"] == "1"
        ? ProcessInfo.processInfo.environment["PERMID_TEST_POSTGRES"] : nil

    /// Creates an empty database on the server at `url` and returns its URL.
    static func freshDatabase(on url: String) throws -> String {
        let name = "permid_server_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        try PostgresConnection(PostgresConnectionString(url)).execute("CREATE DATABASE \(name)")
        var components = URLComponents(string: url)!
        components.path = "/" + name
        return components.string!
    }

    init(
        policy: EndpointPolicy = .source, rateLimits: RateLimits? = nil, trustedProxies: [String] = [],
        proxyHeader: ProxyHeader = .xForwardedFor, listen: String = "127.0.0.1", maxTTL: UInt64 = 86_400,
        options: DaemonOptions = DaemonOptions(threads: 2), maxWatchers: Int = 10_000, maxWatchersPerSource: Int = 64
    ) throws {
        directory = NSTemporaryDirectory() + "permid-server-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        store = try Self.postgresServer.map { try PostgresRecordStore(connectionString: PostgresConnectionString(Self.freshDatabase(on: $0))) }
            ?? SQLiteRecordStore(path: directory + "/permid.sqlite", sync: .normal)
        var configuration = DirectoryConfiguration()
        configuration.endpointPolicy = policy
        configuration.rateLimits = rateLimits
        configuration.trustedProxies = trustedProxies.compactMap(CIDR.init)
        configuration.proxyHeader = proxyHeader
        configuration.maxWatchers = maxWatchers
        configuration.maxWatchersPerSource = maxWatchersPerSource
        configuration.validator = RecordValidator(clockSkew: 300, maxTTL: maxTTL)
        configuration.clock = { [clock] in clock.now }
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        server = try DirectoryServer(
            store: store, configuration: configuration, listen: [(IPAddress(listen)!, 0)],
            options: options, logger: logger)
        let port = UInt16(server.boundEndpoints[0].split(separator: ":").last!)!
        client = RawHTTPClient(host: listen, port: port)
    }

    deinit {
        server.shutdown(grace: .seconds(1))
        store.close()
        try? FileManager.default.removeItem(atPath: directory)
    }

    var now: UInt64 { clock.now }

    /// A record signed by `key` issued now, valid for an hour, at `endpoints` (default: 127.0.0.1, the test's source).
    func record(
        _ key: PrivateKey, seq: UInt64, endpoints: [String] = ["127.0.0.1:6881"], scheme: SignatureScheme? = nil,
        issuedAt: UInt64? = nil, ttl: UInt64 = 3600
    ) -> SignedRecord {
        let issued = issuedAt ?? now
        return try! SignedRecord.sign(
            with: key, scheme: scheme, seq: seq, issuedAt: issued, expiresAt: issued + ttl, endpoints: endpoints.map { Endpoint($0)! })
    }

    /// PUTs a record's JSON to its PermID's path.
    func announce(_ record: SignedRecord) throws -> RawHTTPClient.Response {
        try client.send("PUT", "/v1/peers/\(record.permID.text)", body: record.json)
    }

    /// PUTs arbitrary bytes to a path.
    func put(_ path: String, _ body: [UInt8], contentType: String? = "application/json") throws -> RawHTTPClient.Response {
        try client.send("PUT", path, body: body, contentType: contentType)
    }

    func get(_ path: String, headers: [(String, String)] = []) throws -> RawHTTPClient.Response {
        try client.send("GET", path, headers: headers)
    }
}

/// A clock the test sets; the server reads it as its Unix time.
final class TestClock: Sendable {
    private let value: Atomic<UInt64>
    init(_ start: UInt64) { value = Atomic(start) }
    var now: UInt64 { value.load(ordering: .relaxed) }
    func advance(by seconds: UInt64) { value.add(seconds, ordering: .relaxed) }
}
