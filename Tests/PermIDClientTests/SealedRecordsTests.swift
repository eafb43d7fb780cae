import Crypto
import PermIDClient
import PermIDKit
import Testing

/// HPKE boxes (FRIENDS-v1 part B) through swift-crypto: every KEM opens what it sealed, a box opens only
/// for its friend and in its own record and version, the box list is padded to a multiple of 8.
@Suite struct SealedRecordsTests {
    static let receivers: [KeyType] = [.ed25519, .libnacl, .ec(.p256), .ec(.p384)]
    let endpoints = ["203.0.113.5:6881", "[2001:db8::5]:6881"].map { Endpoint($0)! }

    @Test(arguments: receivers)
    func aBoxOpensForItsFriendOnlyInItsOwnRecordAndVersion(type: KeyType) throws {
        let friend = try PrivateKey.generate(type)
        let stranger = try PrivateKey.generate(type)
        let owner = try PrivateKey.generate(.ed25519)
        let publicKey = try SealingPublicKey(permID: friend.permID)
        let info = SealedBox.info(permID: owner.permID, seq: 7)
        let box = try SealedRecords.seal(SealedBox.plaintext(endpoints: endpoints), to: publicKey, info: info)
        #expect(box.count == publicKey.kem.boxLength)
        let key = try SealingPrivateKey(key: friend)
        #expect(SealedRecords.open(box, with: key, info: info).map { try? SealedBox.endpoints(plaintext: $0) } == endpoints)
        #expect(SealedRecords.open(box, with: try SealingPrivateKey(key: stranger), info: info) == nil, "another key")
        #expect(SealedRecords.open(box, with: key, info: SealedBox.info(permID: owner.permID, seq: 8)) == nil, "another seq")
        #expect(SealedRecords.open(box, with: key, info: SealedBox.info(permID: friend.permID, seq: 7)) == nil, "another PermID")
        var flipped = box
        flipped[box.count - 1] ^= 1
        #expect(SealedRecords.open(flipped, with: key, info: info) == nil, "a changed byte")
        #expect(SealedRecords.open(Array(box.dropLast()), with: key, info: info) == nil, "a short box")
    }

    @Test func boxListsArePaddedToEightAndEveryFriendFindsItsBox() throws {
        let owner = try PrivateKey.generate(.ec(.p256)).blinded(epoch: 20_418)
        let friends = try Self.receivers.flatMap { type in try (0..<3).map { _ in try PrivateKey.generate(type) } }
        let boxes = try SealedRecords.boxes(endpoints, for: friends.map(\.permID), recordPermID: owner.permID, seq: 11)
        #expect(boxes.count == 16)
        let lengths = Set(Self.receivers.map { try! SealingPublicKey(permID: PrivateKey.generate($0).permID).kem.boxLength })
        #expect(boxes.allSatisfy { lengths.contains($0.count) }, "padding boxes have a real box's length")
        let record = try SignedRecord.sign(with: owner, seq: 11, issuedAt: 1_764_028_800, expiresAt: 1_764_032_400, content: .sealed(boxes))
        for friend in friends {
            #expect(try SealedRecords.open(record, with: SealingPrivateKey(key: friend)) == endpoints)
        }
        #expect(try SealedRecords.open(record, with: SealingPrivateKey(key: PrivateKey.generate(.ed25519))) == nil)
        let single = try SealedRecords.boxes([], for: [friends[0].permID], recordPermID: owner.permID, seq: 1)
        #expect(single.count == 8 && Set(single.map(\.count)).count == 1)
    }

    /// Long box lists are tried on every core; the answer is still the first box that opens, wherever
    /// the parts end, and a list where none opens gives nothing.
    @Test(arguments: [0, 1, 31, 32, 33, 63])
    func theFirstBoxThatOpensWinsInLongLists(first: Int) throws {
        let friend = try PrivateKey.generate(.ed25519)
        let owner = try PrivateKey.generate(.ed25519)
        let info = SealedBox.info(permID: owner.permID, seq: 5)
        let others = try (0..<64).map { _ in try SealingPublicKey(permID: PrivateKey.generate(.ed25519).permID) }
        let mine = try SealingPublicKey(permID: friend.permID)
        let later = [Endpoint("198.51.100.1:1")!]
        let boxes = try (0..<64).map { index in
            index == first ? try SealedRecords.seal(SealedBox.plaintext(endpoints: endpoints), to: mine, info: info)
                : index > first && index % 7 == 0 ? try SealedRecords.seal(SealedBox.plaintext(endpoints: later), to: mine, info: info)
                : try SealedRecords.seal(SealedBox.plaintext(endpoints: later), to: others[index], info: info)
        }
        let record = try SignedRecord.sign(with: owner, seq: 5, issuedAt: 1, expiresAt: 2, content: .sealed(boxes))
        #expect(try SealedRecords.open(record, with: SealingPrivateKey(key: friend)) == endpoints)
        let without = try SignedRecord.sign(
            with: owner, seq: 5, issuedAt: 1, expiresAt: 2, content: .sealed(Array(boxes[..<first] + boxes[(first + 1)...])))
        let expected = ((first + 1)..<64).contains { $0 % 7 == 0 } ? later : nil
        #expect(try SealedRecords.open(without, with: SealingPrivateKey(key: friend)) == expected)
    }

    @Test func friendsWhoCannotReceiveBoxesAndTooManyFriendsAreRefused() throws {
        let owner = try PrivateKey.generate(.ed25519)
        let k1 = try PrivateKey.generate(.ec(.secp256k1))
        #expect(throws: SealingError.unsupportedKeyType(.ec(.secp256k1))) {
            try SealedRecords.boxes(endpoints, for: [k1.permID], recordPermID: owner.permID, seq: 1)
        }
        #expect(throws: SealingError.recipientCount(0)) { try SealedRecords.boxes(endpoints, for: [], recordPermID: owner.permID, seq: 1) }
        let many = try (0..<65).map { _ in try PrivateKey.generate(.ed25519).permID }
        #expect(throws: SealingError.recipientCount(65)) { try SealedRecords.boxes(endpoints, for: many, recordPermID: owner.permID, seq: 1) }
        #expect(try SealedRecords.boxes(endpoints, for: Array(many.prefix(64)), recordPermID: owner.permID, seq: 1).count == 64)
        #expect(try SealedRecords.boxes(endpoints, for: Array(repeating: many[0], count: 65), recordPermID: owner.permID, seq: 1).count == 8,
                "a friend named many times gets one box")
        let refused: [(String, [Endpoint])] = [
            ("listed twice", [endpoints[0], endpoints[0]]),
            ("nine", (1...9).map { Endpoint(address: IPAddress("2001:db8::\($0)")!, port: 1) }),
            ("multicast", [Endpoint("224.0.0.1:1")!]),
            ("unspecified", [Endpoint("[::]:1")!]),
            ("IPv4-mapped", [Endpoint("[::ffff:203.0.113.5]:1")!]),
        ]
        for (name, bad) in refused {
            #expect(throws: SealingError.self, "\(name)") { try SealedRecords.boxes(bad, for: [many[0]], recordPermID: owner.permID, seq: 1) }
        }
    }

    /// A padding box is a real HPKE box to a throwaway key of a real box's KEM, so nothing tells it from a
    /// friend's: an uncompressed point on the curve for P-256, an X25519 key with its top bit clear
    /// (random bytes would have it set half the time).
    @Test func paddingBoxesLookLikeRealOnes() throws {
        let owner = try PrivateKey.generate(.ed25519)
        for _ in 0..<4 {
            let x25519 = try SealedRecords.boxes(endpoints, for: [try PrivateKey.generate(.ed25519).permID], recordPermID: owner.permID, seq: 1)
            #expect(x25519.count == 8 && x25519.allSatisfy { $0.count == 208 && $0[31] & 0x80 == 0 })
        }
        let p256 = try SealedRecords.boxes(endpoints, for: [try PrivateKey.generate(.ec(.p256)).permID], recordPermID: owner.permID, seq: 1)
        for box in p256 {
            #expect(box.count == 241 && box[0] == 4)
            #expect(throws: Never.self) { try P256.KeyAgreement.PublicKey(x963Representation: box[..<65]) }
        }
    }

    /// A friend's broken tool (or a forger holding the blinded key) signs a box whose plaintext is not
    /// endpoints: opening it reports that, never garbage endpoints.
    @Test func aBoxWithAMalformedPlaintextIsReported() throws {
        let friend = try PrivateKey.generate(.ed25519)
        let owner = try PrivateKey.generate(.ed25519)
        var plaintext = SealedBox.plaintext(endpoints: endpoints)
        plaintext[159] = 1
        let box = try SealedRecords.seal(plaintext, to: SealingPublicKey(permID: friend.permID), info: SealedBox.info(permID: owner.permID, seq: 2))
        let record = try SignedRecord.sign(with: owner, seq: 2, issuedAt: 1, expiresAt: 2, content: .sealed([box]))
        #expect(throws: SealingError.self) { try SealedRecords.open(record, with: SealingPrivateKey(key: friend)) }
    }
}
