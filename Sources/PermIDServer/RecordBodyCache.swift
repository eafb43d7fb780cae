import PermIDKit
import Synchronization

/// The served JSON of recently stored or resolved records, keyed by (PermID, seq): a record with a
/// given seq never changes, so a hit is always its exact body, and a resolve that hits builds no JSON
/// (its bytes go to libmicrohttpd without a copy). Filled on announce and on first read; bounded in
/// bytes as well as in bodies, since a sealed record's body can be 70 times an open one's.
///
/// A fixed table of slots, two per set (two-way set-associative), in 16 shards by the PermID's last
/// byte (key material). A body goes into the slot of its set that holds the same record, else an
/// empty one, else the one its set used less recently. So finding, keeping and dropping a body each
/// touch one slot: nothing is hashed with a seeded hasher, and no table is ever rebuilt or freed whole
/// (at 1,000,000 records, where most resolves miss, the dictionaries this replaced took about 5% of
/// the server's CPU in rehashing, generation swaps and bulk frees). A shard past its share of the bytes
/// empties slots in turn (a clock hand) until it is back under.
///
/// PermIDs are chosen by their owners, so someone can make many that fall into one set. That only
/// evicts bodies from that set: a miss costs what a resolve without the cache costs, never more.
final class RecordBodyCache: Sendable {
    private struct Entry {
        let seq: UInt64
        let permID: [UInt8]
        let body: ResponseBytes
    }

    private struct Table {
        /// `sets * 2` slots; set `s` is slots `2s` and `2s + 1`.
        var slots: [Entry?]
        /// Per set, the way (0 or 1) used last.
        var lastUsed: [UInt8]
        var bytes = 0
        var hand = 0
    }

    private final class Shard: Sendable {
        let table: Mutex<Table>

        init(sets: Int) { table = Mutex(Table(slots: Array(repeating: nil, count: sets * 2), lastUsed: Array(repeating: 0, count: sets))) }
    }

    private static let shardCount = 16
    private let shards: [Shard]
    /// Sets per shard, a power of two.
    private let sets: Int
    private let bytesPerShard: Int

    /// - Parameters:
    ///   - byteCapacity: the most body bytes kept, 32 MiB by default.
    ///   - bodyCapacity: the most bodies kept, rounded up to a power of two; 65,536 by default (some
    ///     29 MiB of Ed25519 records of about 450 bytes).
    init(byteCapacity: Int = 32 << 20, bodyCapacity: Int = 65_536) {
        var sets = 1
        while sets * 2 * Self.shardCount < bodyCapacity { sets *= 2 }
        self.sets = sets
        bytesPerShard = max(1, byteCapacity / Self.shardCount)
        shards = (0..<Self.shardCount).map { _ in Shard(sets: sets) }
    }

    /// The record's JSON body, from the cache or made now and kept.
    func body(of record: SignedRecord) -> ResponseBytes {
        let permID = record.permID.bytes
        let seq = record.seq
        let shard = shards[Int(permID.last ?? 0) % Self.shardCount]
        let set = setIndex(permID, seq)
        let hit = shard.table.withLock { table -> ResponseBytes? in
            for way in 0..<2 {
                if let entry = table.slots[2 * set + way], entry.seq == seq, entry.permID == permID {
                    table.lastUsed[set] = UInt8(way)
                    return entry.body
                }
            }
            return nil
        }
        if let hit { return hit }
        let entry = Entry(seq: seq, permID: permID, body: ResponseBytes(record.json))
        let dropped = shard.table.withLock { insert(entry, set: set, into: &$0) }
        withExtendedLifetime(dropped) {} // freed here, out of the lock
        return entry.body
    }

    /// Which set of its shard a record falls into: bytes of the PermID's tail (key material) mixed
    /// with the seq, so a new seq of one PermID usually lands elsewhere.
    private func setIndex(_ permID: [UInt8], _ seq: UInt64) -> Int {
        var tail: UInt64 = 0
        permID.withUnsafeBytes { bytes in
            withUnsafeMutableBytes(of: &tail) { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes.suffix(8))) }
        }
        let mixed = (tail ^ (seq &* 0x9E37_79B9_7F4A_7C15)) &* 0xBF58_476D_1CE4_E5B9
        return Int(truncatingIfNeeded: mixed >> 32) & (sets - 1)
    }

    /// Puts `entry` into its set and empties slots while the shard holds more than its bytes; returns
    /// the entry it replaced, for the caller to free outside the lock (the clock hand's, only ever past
    /// the byte bound, are freed here).
    private func insert(_ entry: Entry, set: Int, into table: inout Table) -> Entry? {
        let ways = (2 * set, 2 * set + 1)
        let slot: Int
        if let same = table.slots[ways.0], same.seq == entry.seq, same.permID == entry.permID {
            slot = ways.0 // another thread made this body first
        } else if let same = table.slots[ways.1], same.seq == entry.seq, same.permID == entry.permID {
            slot = ways.1
        } else if table.slots[ways.0] == nil {
            slot = ways.0
        } else if table.slots[ways.1] == nil {
            slot = ways.1
        } else {
            slot = table.lastUsed[set] == 0 ? ways.1 : ways.0
        }
        let replaced = table.slots[slot]
        table.bytes -= replaced?.body.count ?? 0
        table.slots[slot] = entry
        table.bytes += entry.body.count
        table.lastUsed[set] = UInt8(slot - 2 * set)
        var steps = 0
        while table.bytes > bytesPerShard, steps < table.slots.count {
            table.hand = (table.hand + 1) % table.slots.count
            steps += 1
            guard table.hand != slot, let old = table.slots[table.hand] else { continue }
            table.bytes -= old.body.count
            table.slots[table.hand] = nil
        }
        return replaced
    }

    /// The bodies and body bytes held now (for tests).
    var held: (bodies: Int, bytes: Int) {
        shards.reduce(into: (0, 0)) { total, shard in
            shard.table.withLock { table in
                total.0 += table.slots.count { $0 != nil }
                total.1 += table.bytes
            }
        }
    }
}
