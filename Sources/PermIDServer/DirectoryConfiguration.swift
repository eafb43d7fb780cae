import Foundation
import PermIDKit

/// Rate limits applied by the directory (PROTOCOL-v1 §4 rule 5: each configurable and switchable off).
public struct RateLimits: Hashable, Sendable {
    /// Requests per second allowed per source address, sustained.
    public var sourceRate: Double
    /// Requests a source address may send at once.
    public var sourceBurst: Double
    /// Authentic announcements per second allowed per PermID, sustained.
    public var permIDRate: Double
    /// Authentic announcements a PermID may make at once.
    public var permIDBurst: Double
    /// Whether the per-source limit applies.
    public var limitsSources = true
    /// Whether the per-PermID limit applies.
    public var limitsPermIDs = true

    /// The defaults: 200 requests/s per source (burst 1,000); 2 announcements/s per PermID (burst 128).
    public static let defaults = RateLimits(sourceRate: 200, sourceBurst: 1_000, permIDRate: 2, permIDBurst: 128)

    /// Makes limits.
    public init(sourceRate: Double, sourceBurst: Double, permIDRate: Double, permIDBurst: Double) {
        self.sourceRate = sourceRate
        self.sourceBurst = sourceBurst
        self.permIDRate = permIDRate
        self.permIDBurst = permIDBurst
    }
}

/// Everything that decides how the directory answers, apart from where it listens.
public struct DirectoryConfiguration: Sendable {
    /// Which endpoints an announcement may name.
    public var endpointPolicy: EndpointPolicy = .source
    /// Proxies whose forwarding header is believed.
    public var trustedProxies: [CIDR] = []
    /// The one forwarding header the trusted proxies set; the other is ignored.
    public var proxyHeader: ProxyHeader = .xForwardedFor
    /// IPv6 sources share one per-source rate limit per prefix of this many bits (48–128).
    public var ipv6Prefix = 64
    /// Rate limits, or `nil` for none (benchmarks).
    public var rateLimits: RateLimits? = .defaults
    /// Clock skew and maximum TTL.
    public var validator = RecordValidator()
    /// The largest announcement body in bytes.
    public var announcementBodyLimit = ProtocolConstants.announcementBodyLimit
    /// The largest lookup body in bytes.
    public var lookupBodyLimit = ProtocolConstants.lookupBodyLimit
    /// The most PermIDs in one lookup.
    public var lookupLimit = ProtocolConstants.lookupLimit
    /// The longest a resolve waits, in seconds: a longer `wait` is shortened to it (keep it under a
    /// proxy's read timeout).
    public var maxWait = ProtocolConstants.watchSeconds.upperBound
    /// Resolves waiting at once (`wait=`), in all; past it, 503.
    public var maxWatchers = 10_000
    /// Resolves waiting at once per source (address, or IPv6 prefix); past it, 429.
    public var maxWatchersPerSource = 64
    /// The server's clock in Unix seconds; replaceable in tests.
    public var clock: @Sendable () -> UInt64 = { UInt64(Date.now.timeIntervalSince1970) }

    /// Makes the default configuration.
    public init() {}
}

