import Foundation
import Synchronization

/// Token buckets keyed by bytes (a source address or a PermID), with memory bounded by `capacity`
/// keys: when full, buckets that have refilled completely (idle keys) are dropped first, then the
/// stalest half. Sharded so concurrent requests rarely share a lock.
public final class TokenBucketLimiter: Sendable {
    private struct Bucket: Sendable {
        var tokens: Double
        var updated: Double
    }

    private let rate: Double
    private let burst: Double
    private let capacityPerShard: Int
    private let shards: [Shard]

    /// One lock and its buckets.
    private final class Shard: Sendable {
        let buckets = Mutex<[[UInt8]: Bucket]>([:])
    }

    /// - Parameters:
    ///   - rate: tokens added per second.
    ///   - burst: the most tokens a bucket holds (and starts with).
    ///   - capacity: the most keys remembered.
    public init(rate: Double, burst: Double, capacity: Int = 100_000) {
        self.rate = rate
        self.burst = max(1, burst)
        self.capacityPerShard = max(16, capacity / 16)
        self.shards = (0..<16).map { _ in Shard() }
    }

    /// Takes a token for `key` at time `now` (seconds). Returns `nil` if allowed, or the whole
    /// seconds to wait before a token is available.
    public func take(_ key: [UInt8], now: Double) -> Int? { use(key, now: now, spend: true) }

    /// Whether a token is available for `key` without taking it: `nil` if so, else the seconds to wait.
    public func wait(_ key: [UInt8], now: Double) -> Int? { use(key, now: now, spend: false) }

    private func use(_ key: [UInt8], now: Double, spend: Bool) -> Int? {
        let shard = shards[Int(key.reduce(UInt8(0)) { $0 &+ $1 } & 15)]
        return shard.buckets.withLock { buckets -> Int? in
            var bucket = buckets[key] ?? Bucket(tokens: burst, updated: now)
            bucket.tokens = min(burst, bucket.tokens + max(0, now - bucket.updated) * rate)
            bucket.updated = now
            guard bucket.tokens >= 1 else {
                buckets[key] = bucket
                return max(1, Int(((1 - bucket.tokens) / rate).rounded(.up)))
            }
            guard spend else { return nil }
            bucket.tokens -= 1
            if buckets[key] == nil && buckets.count >= capacityPerShard { evict(&buckets, now: now) }
            buckets[key] = bucket
            return nil
        }
    }

    /// How many keys are remembered.
    public var count: Int { shards.reduce(0) { total, shard in total + shard.buckets.withLock { $0.count } } }

    private func evict(_ buckets: inout [[UInt8]: Bucket], now: Double) {
        buckets = buckets.filter { $0.value.tokens + (now - $0.value.updated) * rate < burst }
        if buckets.count >= capacityPerShard {
            let sorted = buckets.sorted { $0.value.updated > $1.value.updated }.prefix(capacityPerShard / 2)
            buckets = Dictionary(uniqueKeysWithValues: sorted.map { ($0.key, $0.value) })
        }
    }
}
