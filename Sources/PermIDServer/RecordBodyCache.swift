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
    /// The seq, the PermID's length and its last 16 bytes (key material, unlike the fixed DER prefix),
    /// all inline, so finding a key reads no other memory. Two PermIDs can share a key (one Ed25519
    /// key as SubjectPublicKeyInfo and as `LibNaCLPK:` differ in length, but two keys could end
    /// alike), so an entry keeps its whole PermID and a hit compares it.
    private struct Key: Hashable {
        let seq: UInt64
        let length: Int
        let tail: (UInt64, UInt64)

        init(permID: [UInt8], seq: UInt64) {
            self.seq = seq
            length = permID.count
            tail = permID.withUnsafeBytes { bytes in
                var last = (UInt64(0), UInt64(0))
                withUnsafeMutableBytes(of: &last) { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes.suffix(16))) }
                return last
            }
        }

        static func == (a: Key, b: Key) -> Bool { a.seq == b.seq && a.length == b.length && a.tail == b.tail }

        func hash(into hasher: inout Hasher) {
            hasher.combine(seq)
            hasher.combine(length)
            hasher.combine(tail.0)
            hasher.combine(tail.1)
        }
    }

    private struct Entry {
        let permID: [UInt8]
        let body: ResponseBytes
    }

    private struct Generations {
        var current: [Key: Entry] = [:]
        var currentBytes = 0
        var previous: [Key: Entry] = [:]
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
        let permID = record.permID.bytes
        let key = Key(permID: permID, seq: record.seq)
        let shard = shards[Int(permID.last ?? 0) % 16]
        if let entry = shard.bodies.withLock({ generations -> Entry? in
            if let entry = generations.current[key] { return entry }
            guard let entry = generations.previous.removeValue(forKey: key) else { return nil }
            insert(entry, key, into: &generations)
            return entry
        }), entry.permID == permID {
            return entry.body
        }
        let entry = Entry(permID: permID, body: ResponseBytes(record.json))
        shard.bodies.withLock { insert(entry, key, into: &$0) }
        return entry.body
    }

    private func insert(_ entry: Entry, _ key: Key, into generations: inout Generations) {
        if generations.currentBytes + entry.body.count > bytesPerGeneration, !generations.current.isEmpty {
            generations.previous = generations.current
            generations.current = Dictionary(minimumCapacity: generations.previous.count)
            generations.currentBytes = 0
        }
        if let replaced = generations.current.updateValue(entry, forKey: key) { generations.currentBytes -= replaced.body.count }
        generations.currentBytes += entry.body.count
    }
}
