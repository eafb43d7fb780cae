import PermIDKit
import Testing

/// The byte layouts of FRIENDS-v1 part B that need no HPKE: the signed message, the stored box list,
/// `info`, the plaintext, and the validator's `invalid-sealed` step. Tests/Vectors/sealed.json checks
/// the same against the independent Python implementation (SealedVectorTests).
@Suite struct SealedRecordTests {
    let key = try! PrivateKey(pem: Array("""
        -----BEGIN PRIVATE KEY-----
        MC4CAQAwBQYDK2VwBCIEIAABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f
        -----END PRIVATE KEY-----
        """.utf8))

    @Test func theSignedMessageStartsWithTheSealedTagAndListsTheBoxes() throws {
        let boxes: [[UInt8]] = [[0xAA], [UInt8](repeating: 0xBB, count: 300)]
        let message = SignedRecord.message(
            permID: key.permID, scheme: .ed25519, seq: 7, issuedAt: 1, expiresAt: 2, content: .sealed(boxes))
        let tag = Array("PERMID-DIRECTORY/1 SEALED".utf8) + [0]
        #expect(tag.count == 26 && Array(message.prefix(26)) == tag)
        let open = SignedRecord.message(permID: key.permID, scheme: .ed25519, seq: 7, issuedAt: 1, expiresAt: 2, endpoints: [])
        // After the tags the fields match the open message up to the count byte.
        #expect(Array(message[26..<(26 + 3 + 44 + 24)]) == Array(open[28..<(28 + 3 + 44 + 24)]))
        #expect(Array(message.suffix(1 + 3 + 2 + 300)) == [2, 0x00, 0x01, 0xAA, 0x01, 0x2C] + boxes[1])
    }

    @Test func boxListsRoundTripAndBadOnesAreRefused() {
        let boxes: [[UInt8]] = [[1], [UInt8](repeating: 2, count: 512)]
        #expect(RecordContent.decode(boxes: RecordContent.encode(boxes: boxes)) == boxes)
        #expect(RecordContent.decode(boxes: []) == nil, "no boxes")
        #expect(RecordContent.decode(boxes: [0x00, 0x00]) == nil, "an empty box")
        #expect(RecordContent.decode(boxes: [0x02, 0x01] + [UInt8](repeating: 0, count: 513)) == nil, "a 513-byte box")
        #expect(RecordContent.decode(boxes: [0x00, 0x02, 0x01]) == nil, "truncated")
        #expect(RecordContent.decode(boxes: RecordContent.encode(boxes: Array(repeating: [1], count: 65))) == nil, "65 boxes")
    }

    @Test func infoBindsThePermIDAndSeq() {
        let info = SealedBox.info(permID: key.permID, seq: 0x0102030405060708)
        #expect(Array(info.prefix(24)) == Array("PERMID-DIRECTORY/1 SEAL".utf8) + [0])
        #expect(Array(info[24..<26]) == [0, 44] && Array(info[26..<70]) == key.permID.bytes)
        #expect(Array(info.suffix(8)) == [1, 2, 3, 4, 5, 6, 7, 8] && info.count == 78)
    }

    @Test func plaintextsAreExactly160BytesAndStrictlyRead() throws {
        let endpoints = ["203.0.113.5:6881", "[2001:db8::5]:1"].map { Endpoint($0)! }
        let plaintext = SealedBox.plaintext(endpoints: endpoints)
        #expect(plaintext.count == 160 && plaintext[0] == 2)
        #expect(try SealedBox.endpoints(plaintext: plaintext) == endpoints)
        let eight = (1...8).map { Endpoint(address: IPAddress("2001:db8::\($0)")!, port: UInt16($0)) }
        #expect(try SealedBox.endpoints(plaintext: SealedBox.plaintext(endpoints: eight)) == eight)
        #expect(try SealedBox.endpoints(plaintext: SealedBox.plaintext(endpoints: [])) == [])

        var bad: [(String, [UInt8])] = [("159 bytes", Array(plaintext.dropLast())), ("161 bytes", plaintext + [0])]
        var nine = plaintext; nine[0] = 9; bad.append(("count 9", nine))
        var trailing = plaintext; trailing[159] = 1; bad.append(("a byte after the endpoints", trailing))
        var family = plaintext; family[1] = 5; bad.append(("family 5", family))
        var portZero = SealedBox.plaintext(endpoints: [Endpoint("203.0.113.5:1")!]); portZero[6] = 0; portZero[7] = 0
        bad.append(("port 0", portZero))
        let twice = [2] + endpoints[0].wireBytes + endpoints[0].wireBytes
        bad.append(("listed twice", twice + [UInt8](repeating: 0, count: 160 - twice.count)))
        for (name, bytes) in bad {
            #expect(throws: SealingError.self, "\(name)") { try SealedBox.endpoints(plaintext: bytes) }
        }
    }

    @Test(arguments: KeyType.all)
    func onlyEd25519LibNaClP256AndP384KeysReceiveBoxes(type: KeyType) throws {
        let key = try PrivateKey.generate(type)
        switch type {
        case .ed25519, .libnacl, .ec(.p256), .ec(.p384):
            let publicKey = try SealingPublicKey(permID: key.permID)
            let privateKey = try SealingPrivateKey(key: key)
            #expect(publicKey.kem == privateKey.kem)
            #expect(publicKey.kem.boxLength == publicKey.kem.encapsulatedKeyLength + 176)
        default:
            #expect(throws: SealingError.unsupportedKeyType(type)) { try SealingPublicKey(permID: key.permID) }
            #expect(throws: SealingError.unsupportedKeyType(type)) { try SealingPrivateKey(key: key) }
        }
    }

    @Test func sealedRecordsValidateAndRoundTripThroughJSON() throws {
        let record = try SignedRecord.sign(
            with: key, seq: 3, issuedAt: 1_000, expiresAt: 2_000, content: .sealed([[1, 2, 3], [UInt8](repeating: 9, count: 208)]))
        #expect(String(decoding: record.json, as: UTF8.self).contains("\"sealed\":[\"AQID\","))
        #expect(!String(decoding: record.json, as: UTF8.self).contains("endpoints"))
        #expect(!record.isWithdrawal && record.endpoints.isEmpty && record.sealedBoxes?.count == 2)
        #expect(try RecordValidator().validateRecord(json: record.json, now: 1_000, freshness: .announcement) == record)
        #expect(try RecordValidator().validateRecord(json: record.json, now: 1_500, freshness: .resolving(expected: key.permID)) == record)
    }
}
