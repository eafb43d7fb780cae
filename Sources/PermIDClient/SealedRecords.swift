import Crypto
import Foundation
import PermIDKit
import Synchronization

/// Sealed records (FRIENDS-v1 part B): HPKE (RFC 9180) base-mode boxes, one per friend, each holding the
/// endpoints; swift-crypto's `HPKE` does the KEM, the key schedule and ChaCha20-Poly1305.
public enum SealedRecords {
    /// The box list for `friends`: one box per friend (each named once) holding `endpoints`, sealed for the
    /// record `recordPermID`/`seq`, padded to a multiple of 8 with boxes sealed to throwaway keys of the
    /// real boxes' KEMs, in random order, so the directory learns neither who the friends are nor exactly
    /// how many: a padding box is a real HPKE box (a valid `enc`), which random bytes would not be.
    ///
    /// - Throws: ``SealingError/invalidEndpoints(_:)`` for endpoints a friend would refuse (more than 8,
    ///   one listed twice, port 0, unspecified, multicast, broadcast or IPv4-mapped);
    ///   ``SealingError/unsupportedKeyType(_:)`` for a friend whose key cannot receive boxes (the error's
    ///   text says which types can); ``SealingError/recipientCount(_:)`` for no friends or more than 64;
    ///   ``SealingError/cryptoFailure(_:)``.
    public static func boxes(
        _ endpoints: [Endpoint], for friends: [PermID], recordPermID: PermID, seq: UInt64
    ) throws(SealingError) -> [[UInt8]] {
        let padding = ProtocolConstants.sealedBoxPadding
        let maximum = ProtocolConstants.sealedBoxCounts.upperBound
        var recipients = [PermID]()
        for friend in friends where !recipients.contains(friend) { recipients.append(friend) }
        guard !recipients.isEmpty, recipients.count <= maximum else { throw .recipientCount(recipients.count) }
        guard endpoints.count <= SignedRecord.maxEndpoints else {
            throw .invalidEndpoints("at most \(SignedRecord.maxEndpoints) endpoints, got \(endpoints.count)")
        }
        let info = SealedBox.info(permID: recordPermID, seq: seq)
        let plaintext = SealedBox.plaintext(endpoints: endpoints)
        do {
            _ = try SealedBox.endpoints(plaintext: plaintext)
        } catch {
            if case .malformedPlaintext(let why) = error { throw .invalidEndpoints(why) }
            throw error
        }
        var boxes = [[UInt8]]()
        var kems = [SealingKEM]()
        for friend in recipients {
            let key = try SealingPublicKey(permID: friend)
            boxes.append(try seal(plaintext, to: key, info: info))
            kems.append(key.kem)
        }
        var generator = SystemRandomNumberGenerator()
        while boxes.count % padding != 0 {
            let kem = kems.randomElement(using: &generator)!
            let filler = (0..<ProtocolConstants.sealedPlaintextLength).map { _ in UInt8.random(in: 0...255, using: &generator) }
            boxes.append(try seal(filler, to: throwawayKey(kem), info: info))
        }
        boxes.shuffle(using: &generator)
        return boxes
    }

    /// A fresh public key of `kem` whose private half is dropped at once: what a padding box is sealed to.
    private static func throwawayKey(_ kem: SealingKEM) -> SealingPublicKey {
        switch kem {
        case .x25519: SealingPublicKey(kem: kem, bytes: Array(Curve25519.KeyAgreement.PrivateKey().publicKey.rawRepresentation))
        case .p256: SealingPublicKey(kem: kem, bytes: Array(P256.KeyAgreement.PrivateKey().publicKey.x963Representation))
        case .p384: SealingPublicKey(kem: kem, bytes: Array(P384.KeyAgreement.PrivateKey().publicKey.x963Representation))
        }
    }

    /// Seals `plaintext` to `key` with HPKE base mode, the KEM of the key, HKDF-SHA256 and
    /// ChaCha20-Poly1305, `info`, and an empty `aad`; the box is `enc` ‖ ciphertext.
    ///
    /// - Throws: ``SealingError/cryptoFailure(_:)`` when swift-crypto refuses the key or fails.
    public static func seal(_ plaintext: [UInt8], to key: SealingPublicKey, info: [UInt8]) throws(SealingError) -> [UInt8] {
        do {
            var sender: HPKE.Sender
            let suite = ciphersuite(key.kem)
            switch key.kem {
            case .x25519:
                sender = try HPKE.Sender(recipientKey: try Curve25519.KeyAgreement.PublicKey(rawRepresentation: key.bytes), ciphersuite: suite, info: Data(info))
            case .p256:
                sender = try HPKE.Sender(recipientKey: try P256.KeyAgreement.PublicKey(x963Representation: key.bytes), ciphersuite: suite, info: Data(info))
            case .p384:
                sender = try HPKE.Sender(recipientKey: try P384.KeyAgreement.PublicKey(x963Representation: key.bytes), ciphersuite: suite, info: Data(info))
            }
            let ciphertext = try sender.seal(plaintext)
            return Array(sender.encapsulatedKey) + Array(ciphertext)
        } catch {
            throw .cryptoFailure("\(error)")
        }
    }

    /// The plaintext of `box` if `key` opens it with `info`; `nil` when it does not (a box for someone
    /// else, a padding box, a box moved from another record or version).
    public static func open(_ box: [UInt8], with key: SealingPrivateKey, info: [UInt8]) -> [UInt8]? {
        let encLength = key.kem.encapsulatedKeyLength
        guard box.count == key.kem.boxLength else { return nil }
        let enc = Data(box[..<encLength])
        let suite = ciphersuite(key.kem)
        do {
            var recipient: HPKE.Recipient
            switch key.kem {
            case .x25519:
                recipient = try HPKE.Recipient(
                    privateKey: try Curve25519.KeyAgreement.PrivateKey(rawRepresentation: key.bytes), ciphersuite: suite, info: Data(info), encapsulatedKey: enc)
            case .p256:
                recipient = try HPKE.Recipient(
                    privateKey: try P256.KeyAgreement.PrivateKey(rawRepresentation: key.bytes), ciphersuite: suite, info: Data(info), encapsulatedKey: enc)
            case .p384:
                recipient = try HPKE.Recipient(
                    privateKey: try P384.KeyAgreement.PrivateKey(rawRepresentation: key.bytes), ciphersuite: suite, info: Data(info), encapsulatedKey: enc)
            }
            return Array(try recipient.open(box[encLength...]))
        } catch {
            return nil
        }
    }

    /// What a sealed record holds for `key`: the endpoints of the first box of its length that opens,
    /// `nil` when none does (the record is not shared with this key), `nil` too for an open record.
    ///
    /// - Throws: ``SealingError/malformedPlaintext(_:)`` when a box opens but its plaintext is not part B's:
    ///   the record's owner signed something broken.
    public static func open(_ record: SignedRecord, with key: SealingPrivateKey) throws(SealingError) -> [Endpoint]? {
        guard let boxes = record.sealedBoxes else { return nil }
        let info = SealedBox.info(permID: record.permID, seq: record.seq)
        let candidates = boxes.filter { $0.count == key.kem.boxLength }
        // Each try costs a Diffie-Hellman (the boxes name no recipient): long lists are split over the
        // cores, each part stopping at its first box that opens; the earliest of those is the answer.
        let parts = min(ProcessInfo.processInfo.activeProcessorCount, candidates.count / 8)
        guard parts > 1 else {
            for box in candidates {
                if let plaintext = open(box, with: key, info: info) { return try SealedBox.endpoints(plaintext: plaintext) }
            }
            return nil
        }
        let found = Mutex<[Int: [UInt8]]>([:])
        DispatchQueue.concurrentPerform(iterations: parts) { part in
            for index in stride(from: part * candidates.count / parts, to: (part + 1) * candidates.count / parts, by: 1) {
                if found.withLock({ $0.keys.contains { $0 < index } }) { return }
                if let plaintext = open(candidates[index], with: key, info: info) {
                    found.withLock { $0[index] = plaintext }
                    return
                }
            }
        }
        guard let first = found.withLock({ $0.min { $0.key < $1.key } }) else { return nil }
        return try SealedBox.endpoints(plaintext: first.value)
    }

    private static func ciphersuite(_ kem: SealingKEM) -> HPKE.Ciphersuite {
        let hpkeKEM: HPKE.KEM
        switch kem {
        case .x25519: hpkeKEM = .Curve25519_HKDF_SHA256
        case .p256: hpkeKEM = .P256_HKDF_SHA256
        case .p384: hpkeKEM = .P384_HKDF_SHA384
        }
        return HPKE.Ciphersuite(kem: hpkeKEM, kdf: .HKDF_SHA256, aead: .chaChaPoly)
    }
}
