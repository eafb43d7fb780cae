import ArgumentParser
import Foundation
import Logging
import PermIDKit
import PermIDServer
import PermIDStore

/// `permidd serve`: runs the directory until SIGINT or SIGTERM.
struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the directory's HTTP API (the default command).",
        discussion: """
            Examples:
              permidd serve
              permidd serve --listen 0.0.0.0:8080 --listen [::]:8080 --database /var/lib/permid/permid.sqlite
              permidd serve --endpoint-policy any --rate-limit off --listen 127.0.0.1:0

            On SIGINT or SIGTERM the server stops accepting connections and lets requests in flight finish \
            (up to --shutdown-grace seconds); announcements still waiting for the database then get 503, \
            and the database is closed last.
            """
    )

    @Option(help: "Address to listen on, IPv4 HOST:PORT or [IPv6]:PORT; repeatable. Port 0 picks a free port (the bound address is logged). Limits apply per listen address. (env: PERMIDD_LISTEN)")
    var listen: [ListenAddress] = [ListenAddress(argument: "127.0.0.1:8080")!]

    @OptionGroup var database: DatabaseOptions

    @Option(help: "Commit durability: full (fsync before acknowledging) or normal (WAL; survives a crash of permidd but not of the machine). (env: PERMIDD_SYNC)")
    var sync: SyncMode = .full

    @Option(help: "Which endpoints an announcement may name: source (every endpoint is the request's source address) or any (signatures alone decide). (env: PERMIDD_ENDPOINT_POLICY)")
    var endpointPolicy: PolicyName = .source

    @Flag(help: "With --endpoint-policy any, also accept endpoints that are not globally reachable (loopback, private, link-local, shared, documentation and the other non-global blocks of the IANA special-purpose registries). (env: PERMIDD_ALLOW_PRIVATE)")
    var allowPrivate = false

    @Option(help: "A proxy (CIDR or address) whose forwarding header (--proxy-header) is believed; repeatable. Without one, forwarding headers are ignored. (env: PERMIDD_TRUSTED_PROXY)")
    var trustedProxy: [CIDR] = []

    @Option(help: "The one forwarding header the trusted proxies set: x-forwarded-for or forwarded. The other is ignored, since a proxy passes it through from the client. (env: PERMIDD_PROXY_HEADER)")
    var proxyHeader: ProxyHeader = .xForwardedFor

    @Option(help: "IPv6 sources share one per-source rate limit per prefix of this many bits, 48 to 128. (env: PERMIDD_IPV6_PREFIX)")
    var ipv6Prefix = 64

    @Option(help: "Rate limiting as a whole: on or off (off is for benchmarks; it switches off both limits below). (env: PERMIDD_RATE_LIMIT)")
    var rateLimit: Switch = .on

    @Option(help: "The per-source-address limit on every /v1 request: on or off. (env: PERMIDD_SOURCE_RATE_LIMIT)")
    var sourceRateLimit: Switch = .on

    @Option(help: "The per-PermID limit on accepted announcements: on or off. (env: PERMIDD_PERMID_RATE_LIMIT)")
    var permidRateLimit: Switch = .on

    @Option(help: "Requests per second per source address, sustained. (env: PERMIDD_SOURCE_RATE)")
    var sourceRate: Double = RateLimits.defaults.sourceRate

    @Option(help: "Requests a source address may make at once. (env: PERMIDD_SOURCE_BURST)")
    var sourceBurst: Double = RateLimits.defaults.sourceBurst

    @Option(help: "Accepted announcements per second per PermID, sustained. (env: PERMIDD_PERMID_RATE)")
    var permidRate: Double = RateLimits.defaults.permIDRate

    @Option(help: "Announcements a PermID may make at once. (env: PERMIDD_PERMID_BURST)")
    var permidBurst: Double = RateLimits.defaults.permIDBurst

    @Option(help: "Longest allowed expires_at - issued_at, in seconds. (env: PERMIDD_MAX_TTL)")
    var maxTTL: UInt64 = ProtocolConstants.maxTTL

    @Option(help: "Allowed distance between issued_at and the server's clock, in seconds. (env: PERMIDD_CLOCK_SKEW)")
    var clockSkew: UInt64 = ProtocolConstants.clockSkew

    @Option(help: "HTTP worker threads (default: the number of cores). (env: PERMIDD_THREADS)")
    var threads: Int?

    @Option(help: "Open connections at most. (env: PERMIDD_CONNECTION_LIMIT)")
    var connectionLimit = DaemonOptions.standard.connectionLimit

    @Option(help: "Open connections per client address at most; 0 for no limit. (env: PERMIDD_PER_IP_CONNECTION_LIMIT)")
    var perIPConnectionLimit = DaemonOptions.standard.perIPConnectionLimit

    @Option(help: "Seconds of inactivity before a connection is closed. (env: PERMIDD_CONNECTION_TIMEOUT)")
    var connectionTimeout = DaemonOptions.standard.connectionTimeout

    @Option(help: "KiB per connection for the request line, headers and buffers; a request head past it gets 431 or 414. libmicrohttpd clears this memory after every request. (env: PERMIDD_CONNECTION_MEMORY_LIMIT)")
    var connectionMemoryLimit = DaemonOptions.standard.connectionMemoryLimit / 1024

    @Option(help: "MiB of request bodies held at once over all connections; a request past it gets 503. (env: PERMIDD_BODY_MEMORY_LIMIT)")
    var bodyMemoryLimit = DaemonOptions.standard.bodyMemoryLimit / (1024 * 1024)

    @Option(help: "The longest a resolve waits for a change, in seconds (1 to 300): a longer wait= is shortened to it. Keep it under a proxy's read timeout. (env: PERMIDD_MAX_WAIT)")
    var maxWait = ProtocolConstants.watchSeconds.upperBound

    @Option(help: "Resolves waiting for a change (GET …?wait=) at once, in all; past it, 503. (env: PERMIDD_MAX_WATCHERS)")
    var maxWatchers = 10_000

    @Option(help: "Resolves waiting at once per source address (IPv6: per --ipv6-prefix); past it, 429. (env: PERMIDD_MAX_WATCHERS_PER_SOURCE)")
    var maxWatchersPerSource = 64

    @Option(help: "Seconds requests in flight get to finish after SIGINT or SIGTERM. (env: PERMIDD_SHUTDOWN_GRACE)")
    var shutdownGrace = 10

    @Option(help: "Seconds between sweeps that turn expired records into tombstones. (env: PERMIDD_SWEEP_INTERVAL)")
    var sweepInterval = 60

    @OptionGroup var log: LogOptions

    enum PolicyName: String, ExpressibleByArgument, CaseIterable { case source, any }
    enum Switch: String, ExpressibleByArgument, CaseIterable { case on, off }

    func validate() throws {
        guard (48...128).contains(ipv6Prefix) else { throw ValidationError("--ipv6-prefix must be from 48 to 128") }
        guard ProtocolConstants.watchSeconds.contains(maxWait) else { throw ValidationError("--max-wait must be from 1 to 300") }
        guard maxWatchers >= 0, maxWatchersPerSource >= 0 else { throw ValidationError("--max-watchers and --max-watchers-per-source must be 0 or more") }
        guard shutdownGrace >= 0 else { throw ValidationError("--shutdown-grace must be 0 or more") }
        guard (4...1024).contains(connectionMemoryLimit) else { throw ValidationError("--connection-memory-limit must be from 4 to 1024 (KiB)") }
        guard bodyMemoryLimit >= 1 else { throw ValidationError("--body-memory-limit must be at least 1 (MiB)") }
        guard threads.map({ $0 >= 1 }) ?? true else { throw ValidationError("--threads must be at least 1") }
        guard sourceRate > 0, sourceBurst >= 1, permidRate > 0, permidBurst >= 1 else {
            throw ValidationError("rates must be positive and bursts at least 1")
        }
        guard maxTTL >= 1, sweepInterval >= 1, connectionLimit >= 1, connectionTimeout >= 1 else {
            throw ValidationError("--max-ttl, --sweep-interval, --connection-limit and --connection-timeout must be at least 1")
        }
    }

    func run() throws {
        let logger = log.bootstrap()
        // Block the shutdown signals before any thread starts, so every thread inherits the mask and
        // only sigwait below receives them.
        var signals = sigset_t()
        sigemptyset(&signals)
        sigaddset(&signals, SIGINT)
        sigaddset(&signals, SIGTERM)
        pthread_sigmask(SIG_BLOCK, &signals, nil)
        raiseFileLimit()

        let store = try database.openStore(sync: sync)
        var configuration = DirectoryConfiguration()
        configuration.endpointPolicy = endpointPolicy == .source ? .source : .any(allowPrivate: allowPrivate)
        configuration.trustedProxies = trustedProxy
        configuration.proxyHeader = proxyHeader
        configuration.ipv6Prefix = ipv6Prefix
        configuration.maxWait = maxWait
        configuration.maxWatchers = maxWatchers
        configuration.maxWatchersPerSource = maxWatchersPerSource
        var limits = RateLimits(sourceRate: sourceRate, sourceBurst: sourceBurst, permIDRate: permidRate, permIDBurst: permidBurst)
        limits.limitsSources = sourceRateLimit == .on
        limits.limitsPermIDs = permidRateLimit == .on
        configuration.rateLimits = rateLimit == .off || !(limits.limitsSources || limits.limitsPermIDs) ? nil : limits
        configuration.validator = RecordValidator(clockSkew: clockSkew, maxTTL: maxTTL)
        let options = DaemonOptions(
            threads: threads ?? DaemonOptions.standard.threads, connectionLimit: connectionLimit, perIPConnectionLimit: perIPConnectionLimit,
            connectionTimeout: connectionTimeout, connectionMemoryLimit: connectionMemoryLimit * 1024,
            bodyMemoryLimit: bodyMemoryLimit * 1024 * 1024)
        let server: DirectoryServer
        do {
            server = try DirectoryServer(
                store: store, configuration: configuration, listen: listen.map { ($0.address, $0.port) },
                options: options, sweepInterval: .seconds(sweepInterval), logger: logger)
        } catch {
            store.close()
            throw CommandFailure(error.description)
        }
        for endpoint in server.boundEndpoints {
            logger.notice("listening", metadata: ["address": .string(endpoint), "database": .string(store.location)])
        }
        var received: Int32 = 0
        sigwait(&signals, &received)
        logger.notice("shutting down", metadata: ["signal": .string(received == SIGINT ? "SIGINT" : "SIGTERM")])
        server.shutdown(grace: .seconds(shutdownGrace))
        store.close()
        logger.notice("stopped")
    }

    /// Lets the process hold as many connections as the hard limit on open files allows.
    private func raiseFileLimit() {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < limit.rlim_max else { return }
        limit.rlim_cur = limit.rlim_max
        setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
    }
}
