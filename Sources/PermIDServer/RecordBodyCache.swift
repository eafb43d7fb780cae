import PermIDKit
import Synchronization

/// The served JSON of recently stored or resolved records, keyed by (PermID, seq): a record with a
/// given seq never changes, so a hit is always its exact body, and a resolve that hits builds no JSON
/// (its bytes go to libmicrohttpd without a copy). Filled on announce and on first read; bounded in
/// bytes, not bodies, since a sealed record's body can be 70 times an open one's.
///
/// Each of 16 shards (by the PermID's last byte, which is key material) keeps two generations: bodies
/// go into the current one, and when it holds its share of the bytes it becomes the previous one and
/// the old previous one is dropped; a hit in the previous generation moves the body back into the
/// current one. A record read again soon is therefore kept, where emptying a full table would keep on
/// average half as many.
final class RecordBodyCache: Sendable {
    private struct Key: Hashable {
        let permID: [UInt8]
        let seq: UInt64

        /// Hashes the PermID's last 16 bytes (key material, unlike the fixed DER prefix) as two words,
        /// rather than all of it byte by byte; equality still compares every byte.
        func hash(into hasher: inout Hasher) {
            hasher.combine(seq)
            permID.withUnsafeBytes { bytes in
                guard bytes.count >= 16 else { return hasher.combine(bytes: bytes) }
                hasher.combine(bytes.loadUnaligned(fromByteOffset: bytes.count - 16, as: UInt64.self))
                hasher.combine(bytes.loadUnaligned(fromByteOffset: bytes.count - 8, as: UInt64.self))
            }
        }
    }

    private struct Generations {
        var current: [Key: ResponseBytes] = [:]
        var currentBytes = 0
        var previous: [Key: ResponseBytes] = [:]
    }

    private final class Shard: Sendable {
        let bodies = Mutex(Generations())
    }

    private let shards = (0..<16).map { _ in Shard() }
    private let bytesPerGeneration: Int

    /// - Parameter byteCapacity: the most body bytes kept, 32 MiB by default (about 70,000 Ed25519
    ///   records of some 450 bytes).
    init(byteCapacity: Int = 32 << 20) { bytesPerGeneration = max(1, byteCapacity / 32) }

    /// The record's JSON body, from the cache or made now and kept.
    func body(of record: SignedRecord) -> ResponseBytes {
        let key = Key(permID: record.permID.bytes, seq: record.seq)
        let shard = shards[Int(record.permID.bytes.last ?? 0) % 16]
        if let body = shard.bodies.withLock({ generations in
            if let body = generations.current[key] { return body }
            guard let body = generations.previous.removeValue(forKey: key) else { return nil }
            insert(body, key, into: &generations)
            return body
        }) {
            return body
        }
        let body = ResponseBytes(record.json)
        shard.bodies.withLock { insert(body, key, into: &$0) }
        return body
    }

    private func insert(_ body: ResponseBytes, _ key: Key, into generations: inout Generations) {
        if generations.currentBytes + body.count > bytesPerGeneration, !generations.current.isEmpty {
            generations.previous = generations.current
            generations.current = Dictionary(minimumCapacity: generations.previous.count)
            generations.currentBytes = 0
        }
        generations.current[key] = body
        generations.currentBytes += body.count
    }
}
