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

    @Test func friendsWhoCannotReceiveBoxesAndTooManyFriendsAreRefused() throws {
        let owner = try PrivateKey.generate(.ed25519)
        let k1 = try PrivateKey.generate(.ec(.secp256k1))
        #expect(throws: SealingError.unsupportedKeyType(.ec(.secp256k1))) {
            try SealedRecords.boxes(endpoints, for: [k1.permID], recordPermID: owner.permID, seq: 1)
        }
        #expect(throws: SealingError.recipientCount(0)) { try SealedRecords.boxes(endpoints, for: [], recordPermID: owner.permID, seq: 1) }
        let many = Array(repeating: owner.permID, count: 65)
        #expect(throws: SealingError.recipientCount(65)) { try SealedRecords.boxes(endpoints, for: many, recordPermID: owner.permID, seq: 1) }
        #expect(try SealedRecords.boxes(endpoints, for: Array(many.prefix(64)), recordPermID: owner.permID, seq: 1).count == 64)
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
