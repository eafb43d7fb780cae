import PermIDKit
import Testing
@testable import PermIDServer

/// The cache of served bodies answers only with the exact body of the record asked for: its key is
/// partly the PermID's tail, so PermIDs that share a tail must not get each other's bodies.
@Suite struct RecordBodyCacheTests {
    @Test func aHitIsTheSameBodyAndANewSeqIsANewOne() throws {
        let cache = RecordBodyCache()
        let key = try PrivateKey.generate(.ed25519)
        let first = try SignedRecord.sign(with: key, seq: 1, issuedAt: 1_000, expiresAt: 2_000, endpoints: [Endpoint("203.0.113.1:1")!])
        let body = cache.body(of: first)
        #expect(body === cache.body(of: first))
        #expect(body.bytes == first.json)
        let second = try SignedRecord.sign(with: key, seq: 2, issuedAt: 1_000, expiresAt: 2_000, endpoints: [Endpoint("203.0.113.2:2")!])
        #expect(cache.body(of: second).bytes == second.json)
    }

    @Test func permIDsThatEndAlikeGetTheirOwnBodies() throws {
        // One Ed25519 key as SubjectPublicKeyInfo and as LibNaCLPK: the same last 32 bytes.
        let ipv8 = try PrivateKey.generate(.libnacl)
        let spkiPrefix = Array(try PrivateKey.generate(.ed25519).permID.bytes.prefix(12))
        let spkiBytes = spkiPrefix + ipv8.permID.bytes.suffix(32)
        // And two PermIDs of one length and one tail, differing before it (made up: the cache checks no key).
        var twin = spkiBytes
        twin[spkiPrefix.count] ^= 0xFF
        let permIDs = [ipv8.permID, PermID(validatedBytes: spkiBytes, keyType: .ed25519), PermID(validatedBytes: twin, keyType: .ed25519)]
        let records = permIDs.enumerated().map { index, permID in
            SignedRecord(
                permID: permID, scheme: .ed25519, seq: 5, issuedAt: 1_000, expiresAt: 2_000,
                endpoints: [Endpoint("203.0.113.\(index + 1):\(index + 1)")!], signature: [UInt8](repeating: UInt8(index), count: 64))
        }
        let cache = RecordBodyCache()
        for _ in 0..<2 {
            for record in records { #expect(cache.body(of: record).bytes == record.json, "\(record.permID.text)") }
        }
    }

    /// Bounded in bodies and in bytes, whatever is put in, and still exact: a body evicted and made
    /// again is the record's own.
    @Test func theBodiesAndBytesHeldStayWithinTheBounds() throws {
        let records = try (1...600).map { seq in
            try SignedRecord.sign(
                with: try PrivateKey.generate(.ed25519), seq: UInt64(seq), issuedAt: 1_000, expiresAt: 2_000,
                endpoints: (0..<(seq % 4 == 0 ? 16 : 1)).map { Endpoint("203.0.113.\($0 + 1):\(seq)")! })
        }
        let byBodies = RecordBodyCache(byteCapacity: 1 << 30, bodyCapacity: 64)
        let byBytes = RecordBodyCache(byteCapacity: 16 * 1_024, bodyCapacity: 65_536)
        for _ in 0..<2 {
            for record in records {
                #expect(byBodies.body(of: record).bytes == record.json)
                #expect(byBytes.body(of: record).bytes == record.json)
            }
        }
        #expect(byBodies.held.bodies == 64) // 600 records of 600 keys fill every slot
        #expect(byBytes.held.bytes <= 16 * 1_024)
        #expect(byBytes.held.bodies > 0)
    }
}
