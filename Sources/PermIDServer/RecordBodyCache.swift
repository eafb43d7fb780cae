import PermIDKit
import Synchronization

/// The served JSON of recently stored or resolved records, keyed by (PermID, seq): a record with a
/// given seq never changes, so a hit is always its exact body, and a resolve that hits builds no JSON
/// (its bytes go to libmicrohttpd without a copy). Filled on announce and on first read; bounded
/// (16 shards, each emptied when full).
final class RecordBodyCache: Sendable {
    private struct Key: Hashable {
        let permID: [UInt8]
        let seq: UInt64
    }

    private final class Shard: Sendable {
        let bodies = Mutex<[Key: ResponseBytes]>([:])
    }

    private let shards = (0..<16).map { _ in Shard() }
    private let capacityPerShard: Int

    /// - Parameter capacity: the most bodies kept (about 400 bytes each for an Ed25519 record).
    init(capacity: Int = 65_536) { capacityPerShard = max(1, capacity / 16) }

    /// The record's JSON body, from the cache or made now and kept.
    func body(of record: SignedRecord) -> ResponseBytes {
        let key = Key(permID: record.permID.bytes, seq: record.seq)
        // The PermID's last byte is key material, spread evenly; seq is not (many records have seq 1).
        let shard = shards[Int(record.permID.bytes.last ?? 0) % 16]
        if let body = shard.bodies.withLock({ $0[key] }) { return body }
        let body = ResponseBytes(record.json)
        shard.bodies.withLock { bodies in
            if bodies.count >= capacityPerShard { bodies.removeAll(keepingCapacity: true) }
            bodies[key] = body
        }
        return body
    }
}
