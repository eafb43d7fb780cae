import PermIDKit
import Testing

/// Checking a served record: the PermID asked for is part of the check, so it cannot be skipped.
@Suite struct RecordValidatorTests {
    @Test func aServedRecordMustBeForThePermIDAskedFor() throws {
        let asked = try PrivateKey.generate(.ed25519)
        let other = try PrivateKey.generate(.ed25519)
        let now: UInt64 = 1_795_000_000
        let foreign = try SignedRecord.sign(with: other, seq: 1, issuedAt: now, expiresAt: now + 600, endpoints: [Endpoint("198.51.100.1:1")!])
        #expect(throws: DirectoryError.invalidPermID("the record is for another PermID than the one asked for")) {
            try RecordValidator().validateRecord(json: foreign.json, now: now, freshness: .resolving(expected: asked.permID))
        }
        #expect(try RecordValidator().validateRecord(json: foreign.json, now: now, freshness: .resolving(expected: other.permID)) == foreign)
        #expect(try RecordValidator().validateRecord(json: foreign.json, now: now, freshness: .standalone) == foreign,
                "on its own, a valid record proves its own PermID's statement")
        #expect(throws: DirectoryError.self) {
            try RecordValidator().validateRecord(json: foreign.json, now: now + 601, freshness: .resolving(expected: other.permID))
        }
    }
}
