import Foundation
import PermIDKit
import Testing

/// Blinded PermIDs (FRIENDS-v1 part A) against Tests/Vectors/blinding.json, made by blinding.py with
/// Ed25519 arithmetic written from RFC 8032 and python-cryptography; and the other direction: records
/// signed here are verified by that script.
@Suite struct BlindingTests {
    struct KeyEntry: Decodable, Sendable {
        let name, kind, permid, private_key, private_key_format: String

        func privateKey() throws -> PrivateKey {
            private_key_format == "ipv8-bin"
                ? try PrivateKey(ipv8Binary: Base64URL.decode(private_key)!)
                : try PrivateKey(pem: Array(private_key.utf8))
        }
    }

    struct Vector: Decodable, Sendable, CustomTestStringConvertible {
        let name, key, input_hex, h_hex, blinded_permid, message_hex: String
        let epoch: UInt64
        let record: VectorTests.RecordFieldsJSON
        var testDescription: String { name }
    }

    struct Refused: Decodable, Sendable { let name, permid, error: String }

    struct File: Decodable, Sendable {
        let period: UInt64
        let keys: [KeyEntry]
        let vectors: [Vector]
        let refused: [Refused]
    }

    static let file: File = VectorTests.load("blinding.json")
    static let keys = Dictionary(uniqueKeysWithValues: file.keys.map { ($0.name, $0) })
    static let hex = VectorTests.hex

    @Test func vectorsCoverEveryBlindableTypeAndThePeriodIsTheProtocols() {
        #expect(Self.file.period == ProtocolConstants.blindingPeriod)
        let kinds = Set(Self.file.keys.map(\.kind))
        #expect(kinds == Set(KeyType.all.filter(\.isBlindable).map(\.name)))
        #expect(Self.file.vectors.count >= 2 * 3 * kinds.count)
    }

    @Test(arguments: file.vectors)
    func publicBlindingMatches(vector: Vector) throws {
        let longTerm = try PublicKey(text: Self.keys[vector.key]!.permid)
        #expect(Blinding.input(permID: longTerm.permID, epoch: vector.epoch) == Self.hex(vector.input_hex))
        let factor = try Blinding.factor(permID: longTerm.permID, epoch: vector.epoch)
        #expect(factor.scalar == Self.hex(vector.h_hex))
        let blinded = try longTerm.blinded(epoch: vector.epoch)
        #expect(blinded.permID.text == vector.blinded_permid)
        #expect(try longTerm.permID.blinded(epoch: vector.epoch) == blinded.permID)
        if longTerm.permID.keyType == .libnacl {
            #expect(blinded.permID.keyType == .ed25519, "a LibNaCLPK: key blinds to an Ed25519 SPKI")
        }
    }

    @Test(arguments: file.vectors)
    func pythonsRecordVerifiesAndOursMatchesIt(vector: Vector) throws {
        let json = Array(try JSONEncoder().encode(vector.record))
        let record = try RecordValidator().validateRecord(json: json, now: vector.record.issued_at, freshness: .announcement)
        #expect(record.message == Self.hex(vector.message_hex))

        let key = try Self.keys[vector.key]!.privateKey().blinded(epoch: vector.epoch)
        #expect(key.permID.text == vector.blinded_permid, "private and public blinding agree")
        let ours = try SignedRecord.sign(
            with: key, seq: vector.record.seq, issuedAt: vector.record.issued_at, expiresAt: vector.record.expires_at,
            endpoints: record.endpoints)
        #expect(ours.message == record.message)
        let plain = try PublicKey(bytes: key.permID.bytes)
        #expect(plain.verify(signature: ours.signature, message: ours.message, scheme: key.scheme), "plain verification")
        if key.scheme == .ed25519 {
            #expect(ours.signature == record.signature, "blinded Ed25519 signing is deterministic: same as RFC 8032 in Python")
        }
    }

    @Test func swiftSignaturesVerifyInPython() throws {
        let root = VectorTests.directory.deletingLastPathComponent().deletingLastPathComponent()
        let python = root.appendingPathComponent(".build/venv/bin/python")
        guard FileManager.default.isExecutableFile(atPath: python.path) else {
            Issue.record("no Python environment at \(python.path): run `make pyenv`")
            return
        }
        var entries: [[String: Any]] = []
        for entry in Self.file.keys {
            let key = try entry.privateKey()
            for epoch: UInt64 in [1, 20_500, 1 << 40] {
                let blinded = try key.blinded(epoch: epoch)
                let issuedAt = epoch * ProtocolConstants.blindingPeriod + 60
                let record = try SignedRecord.sign(
                    with: blinded, seq: issuedAt, issuedAt: issuedAt, expiresAt: Blinding.latestExpiry(epoch: epoch),
                    endpoints: [Endpoint("203.0.113.9:7001")!])
                let json = try JSONSerialization.jsonObject(with: Data(record.json))
                entries.append(["long_term_permid": key.permID.text, "epoch": epoch, "record": json])
            }
        }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("permid-blinded-\(UUID().uuidString).json")
        try JSONSerialization.data(withJSONObject: entries).write(to: path)
        defer { try? FileManager.default.removeItem(at: path) }
        let process = Process()
        process.executableURL = python
        process.arguments = [VectorTests.directory.appendingPathComponent("blinding.py").path, "--verify", path.path]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(text)")
        #expect(text.hasSuffix("\(entries.count * 4 + 1) passed, 0 failed\n"), "\(text)")
    }

    @Test(arguments: [Curve.sect163k1, .sect233k1, .sect409k1, .sect571k1])
    func binaryCurvesAreRefused(curve: Curve) throws {
        let key = try PrivateKey.generate(.ec(curve))
        #expect(throws: BlindingError.unsupportedKeyType(.ec(curve))) { try key.permID.blinded(epoch: 1) }
        #expect(throws: BlindingError.unsupportedKeyType(.ec(curve))) { try key.blinded(epoch: 1) }
        #expect(throws: BlindingError.unsupportedKeyType(.ec(curve))) { try Blinding.factor(permID: key.permID, epoch: 1) }
        #expect(!key.permID.isBlindable)
        #expect("\(BlindingError.unsupportedKeyType(.ec(curve)))".contains("cannot be blinded"))
    }

    @Test func refusedVectorsAreRefused() throws {
        for entry in Self.file.refused {
            let permID = try PublicKey(text: entry.permid).permID
            #expect(throws: BlindingError.unsupportedKeyType(permID.keyType)) { try permID.blinded(epoch: 0) }
        }
    }

    @Test(arguments: KeyType.all.filter(\.isBlindable))
    func epochsGiveUnlinkableKeysThatSignAsPlainKeys(type: KeyType) throws {
        let key = try PrivateKey.generate(type)
        var seen = Set<PermID>([key.permID])
        for epoch: UInt64 in [0, 1, 2, 20_500, .max] {
            let blinded = try key.blinded(epoch: epoch)
            #expect(blinded.permID == (try key.permID.blinded(epoch: epoch)))
            #expect(blinded.epoch == epoch && blinded.longTermPermID == key.permID)
            #expect(seen.insert(blinded.permID).inserted, "a fresh PermID per epoch")
            #expect(try PublicKey(bytes: blinded.permID.bytes).permID == blinded.permID, "a valid, canonical PermID")
            let message = Array("blinded \(type.name) \(epoch)".utf8)
            let signature = try blinded.sign(message)
            let plain = try PublicKey(bytes: blinded.permID.bytes)
            #expect(plain.verify(signature: signature, message: message, scheme: blinded.scheme))
            #expect(!plain.verify(signature: signature, message: message + [0], scheme: blinded.scheme))
            #expect(!(try PublicKey(bytes: key.permID.blinded(epoch: epoch &+ 1).bytes)
                .verify(signature: signature, message: message, scheme: blinded.scheme)), "another epoch's key")
        }
    }

    @Test func libnaclBlindsItsEd25519HalfIntoAnEd25519PermID() throws {
        let key = try PrivateKey.generate(.libnacl)
        let blinded = try key.permID.blinded(epoch: 7)
        #expect(blinded.keyType == .ed25519 && blinded.bytes.count == 44)
        let ed25519Only = try PublicKey(bytes: [0x30, 0x2A, 0x30, 0x05, 0x06, 0x03, 0x2B, 0x65, 0x70, 0x03, 0x21, 0x00]
            + key.permID.bytes.suffix(32)).permID
        #expect(try ed25519Only.blinded(epoch: 7) != blinded, "h binds the whole LibNaCLPK: PermID")
    }

    @Test func epochsAndExpiry() {
        #expect(Blinding.epoch(at: 0) == 0)
        #expect(Blinding.epoch(at: 86_399) == 0)
        #expect(Blinding.epoch(at: 86_400) == 1)
        #expect(Blinding.epoch(at: 1_764_028_800) == 20_417)
        #expect(Blinding.latestExpiry(epoch: 20_417) == 20_418 * 86_400 + 3_600)
        #expect(Blinding.latestExpiry(epoch: .max) == .max)
    }

    /// Whether AddressSanitizer's runtime is loaded (`make sanitize`): its malloc makes OpenSSL's BIGNUM
    /// code about twice as slow, so timings mean nothing there. RTLD_DEFAULT is the null handle on Linux.
    static let underAddressSanitizer = dlsym(nil, "__asan_init") != nil

    /// Blinding a long-term key for an epoch and signing one record with it costs a small multiple of
    /// signing the record with the key itself, measured in the same run: this thread's CPU time (which
    /// the other suites running beside it hardly change, unlike wall time), best of 5 batches of 40.
    /// On the project's machine blinding and signing takes Ed25519 and LibNaCLPK: 0.04 ms, P-256 0.08 ms,
    /// secp256k1 0.5 ms, P-384 0.9 ms, 1.5 to 2.5 times plain signing; the bound is 4 times and 50 µs.
    /// The absolute figures (the issue's "under 1 ms") are `make bench`'s, where a slower machine shows
    /// as a slower figure rather than a failing test.
    @Test(.disabled(if: underAddressSanitizer, "timed without AddressSanitizer only"))
    func blindingAndSigningARecordCostsASmallMultipleOfSigningIt() throws {
        let endpoints = [Endpoint("203.0.113.9:7001")!]
        func best(_ body: (UInt64) throws -> Void) rethrows -> Duration {
            var best = Duration.seconds(1)
            for batch in 0..<UInt64(5) {
                let start = Self.threadCPUTime()
                for epoch in batch * 40..<(batch + 1) * 40 { try body(epoch) }
                best = min(best, (Self.threadCPUTime() - start) / 40)
            }
            return best
        }
        for type in KeyType.all.filter(\.isBlindable) {
            let key = try PrivateKey.generate(type)
            let plain = try best { _ in _ = try SignedRecord.sign(with: key, seq: 1, issuedAt: 1, expiresAt: 2, endpoints: endpoints) }
            let blinded = try best { epoch in
                _ = try SignedRecord.sign(with: key.blinded(epoch: epoch), seq: 1, issuedAt: 1, expiresAt: 2, endpoints: endpoints)
            }
            print("blind + sign a record, \(type.name): \(blinded) CPU; sign with the key itself: \(plain)")
            #expect(blinded < plain * 4 + .microseconds(50), "\(type.name): \(blinded), plain signing \(plain)")
        }
    }

    static func threadCPUTime() -> Duration {
        var now = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now)
        return .seconds(now.tv_sec) + .nanoseconds(now.tv_nsec)
    }
}
