import PermIDKit
import Synchronization

/// The served JSON of recently stored or resolved records, keyed by (PermID, seq): a record with a
/// given seq never changes, so a hit is always its exact body, and a resolve that hits builds no JSON
/// (its bytes go to libmicrohttpd without a copy). Filled on announce and on first read; bounded in
/// bytes as well as in bodies, since a sealed record's body can be 70 times an open one's.
///
/// A fixed table of sets of two ways (two-way set-associative), in 16 shards by the PermID's last
/// byte (key material). A body goes into the way of its set that holds the same record, else an
/// empty one, else the one its set used less recently. So finding, keeping and dropping a body each
/// touch one set: nothing is hashed with a seeded hasher, and no table is ever rebuilt or freed whole
/// (at 1,000,000 records, where most resolves miss, the dictionaries this replaced took about 5% of
/// the server's CPU in rehashing, generation swaps and bulk frees). A shard past its share of the bytes
/// empties ways in turn (a clock hand) until it is back under.
///
/// PermIDs are chosen by their owners, so someone can make many that fall into one set. That only
/// evicts bodies from that set: a miss costs what a resolve without the cache costs, never more.
final class RecordBodyCache: Sendable {
    private struct Entry {
        let seq: UInt64
        /// The PermID's last 8 bytes, compared before the whole PermID, which is another cache line.
        let tail: UInt64
        let permID: [UInt8]
        let body: ResponseBytes

        func holds(_ permID: [UInt8], seq: UInt64, tail: UInt64) -> Bool {
            self.seq == seq && self.tail == tail && self.permID == permID
        }
    }

    /// Two ways and which of them was used last, side by side, so a lookup reads one place. Read and
    /// written in place through the table's buffer: copying a set retains four references.
    private struct CacheSet {
        var first: Entry?
        var second: Entry?
        var secondUsedLast = false

        /// The way holding this record's body: `false` for the first, `true` for the second, `nil` for neither.
        func wayHolding(_ permID: [UInt8], seq: UInt64, tail: UInt64) -> Bool? {
            if first?.holds(permID, seq: seq, tail: tail) == true { return false }
            if second?.holds(permID, seq: seq, tail: tail) == true { return true }
            return nil
        }
    }

    private struct Table {
        var sets: [CacheSet]
        var bytes = 0
        var hand = 0
    }

    private final class Shard: Sendable {
        let table: Mutex<Table>

        init(sets: Int) { table = Mutex(Table(sets: Array(repeating: CacheSet(), count: sets))) }
    }

    private static let shardCount = 16
    private let shards: [Shard]
    /// Sets per shard, a power of two.
    private let setsPerShard: Int
    private let bytesPerShard: Int

    /// - Parameters:
    ///   - byteCapacity: the most body bytes kept, 32 MiB by default.
    ///   - bodyCapacity: the most bodies kept, rounded up to a power of two; 65,536 by default (some
    ///     29 MiB of Ed25519 records of about 450 bytes).
    init(byteCapacity: Int = 32 << 20, bodyCapacity: Int = 65_536) {
        var sets = 1
        while sets * 2 * Self.shardCount < bodyCapacity { sets *= 2 }
        setsPerShard = sets
        bytesPerShard = max(1, byteCapacity / Self.shardCount)
        shards = (0..<Self.shardCount).map { _ in Shard(sets: sets) }
    }

    /// The record's JSON body, from the cache or made now and kept.
    func body(of record: SignedRecord) -> ResponseBytes {
        let permID = record.permID.bytes
        let seq = record.seq
        let tail = Self.tail(of: permID)
        let shard = shards[Int(permID.last ?? 0) % Self.shardCount]
        let set = Int(truncatingIfNeeded: ((tail ^ (seq &* 0x9E37_79B9_7F4A_7C15)) &* 0xBF58_476D_1CE4_E5B9) >> 32) & (setsPerShard - 1)
        let hit = shard.table.withLock { table -> ResponseBytes? in
            table.sets.withUnsafeMutableBufferPointer { sets -> ResponseBytes? in
                guard let second = sets[set].wayHolding(permID, seq: seq, tail: tail) else { return nil }
                sets[set].secondUsedLast = second
                return second ? sets[set].second?.body : sets[set].first?.body
            }
        }
        if let hit { return hit }
        let entry = Entry(seq: seq, tail: tail, permID: permID, body: ResponseBytes(record.json))
        let dropped = shard.table.withLock { insert(entry, set: set, into: &$0) }
        withExtendedLifetime(dropped) {} // freed here, out of the lock
        return entry.body
    }

    /// The PermID's last 8 bytes (key material; the set index mixes them with the seq, so a new seq
    /// of one PermID usually lands in another set).
    private static func tail(of permID: [UInt8]) -> UInt64 {
        var tail: UInt64 = 0
        permID.withUnsafeBytes { bytes in
            withUnsafeMutableBytes(of: &tail) { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes.suffix(8))) }
        }
        return tail
    }

    /// Puts `entry` into its set and empties ways while the shard holds more than its bytes; returns
    /// the entry it replaced, for the caller to free outside the lock (the clock hand's, only ever past
    /// the byte bound, are freed here).
    private func insert(_ entry: Entry, set: Int, into table: inout Table) -> Entry? {
        let bytesPerShard = bytesPerShard
        return table.sets.withUnsafeMutableBufferPointer { sets -> Entry? in
            // The way holding this record (another thread made its body first), else an empty way,
            // else the one used less recently.
            let second = sets[set].wayHolding(entry.permID, seq: entry.seq, tail: entry.tail)
                ?? (sets[set].first == nil ? false : sets[set].second == nil ? true : !sets[set].secondUsedLast)
            let replaced = second ? sets[set].second.take() : sets[set].first.take()
            if second { sets[set].second = entry } else { sets[set].first = entry }
            sets[set].secondUsedLast = second
            table.bytes += entry.body.count - (replaced?.body.count ?? 0)
            // The clock hand, over every way of every set (`2 * set + way`), past the byte bound only.
            let ways = sets.count * 2
            var steps = 0
            while table.bytes > bytesPerShard, steps < ways {
                table.hand = (table.hand + 1) % ways
                steps += 1
                let (handSet, handWay) = table.hand.quotientAndRemainder(dividingBy: 2)
                guard handSet != set || (handWay == 1) != second else { continue }
                let old = handWay == 0 ? sets[handSet].first.take() : sets[handSet].second.take()
                table.bytes -= old?.body.count ?? 0
            }
            return replaced
        }
    }

    /// The bodies and body bytes held now (for tests).
    var held: (bodies: Int, bytes: Int) {
        shards.reduce(into: (0, 0)) { total, shard in
            shard.table.withLock { table in
                total.0 += table.sets.reduce(0) { $0 + ($1.first == nil ? 0 : 1) + ($1.second == nil ? 0 : 1) }
                total.1 += table.bytes
            }
        }
    }
}
