import Testing
import PermIDKit

@Suite struct PublicKeyTests {
    static let ed25519Prefix: [UInt8] = [0x30, 0x2A, 0x30, 0x05, 0x06, 0x03, 0x2B, 0x65, 0x70, 0x03, 0x21, 0x00]

    static func hex(_ text: String) -> [UInt8] {
        let digits = Array(text.utf8)
        return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(decoding: digits[$0..<($0 + 2)], as: UTF8.self), radix: 16)! }
    }

    /// The eight small-order points (both signs where the sign bit matters) and points not on the curve.
    static let weakOrInvalidEd25519Points = [
        "0100000000000000000000000000000000000000000000000000000000000000",
        "0000000000000000000000000000000000000000000000000000000000000000",
        "0000000000000000000000000000000000000000000000000000000000000080",
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
        "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
        "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "0200000000000000000000000000000000000000000000000000000000000000",
    ]

    @Test(arguments: weakOrInvalidEd25519Points)
    func weakOrInvalidEd25519PointsAreRefused(pointHex: String) {
        let point = Self.hex(pointHex)
        #expect(throws: DirectoryError.self) { try PublicKey(bytes: Self.ed25519Prefix + point) }
        #expect(throws: DirectoryError.self) { try PublicKey(bytes: PermID.libnaclPrefix + [UInt8](repeating: 9, count: 32) + point) }
    }

    /// An announcement defers the Ed25519 point check to verification; whatever else is wrong with
    /// it, a weak or invalid key must still be what is reported — including the one signature
    /// OpenSSL (which libsodium defers to for an R of small order) accepts under the identity key:
    /// R = identity, S = 0.
    @Test(arguments: weakOrInvalidEd25519Points)
    func anAnnouncementUnderAWeakOrInvalidEd25519KeyIsRefusedForItsKey(pointHex: String) throws {
        let now: UInt64 = 1_764_028_800
        let signer = try PrivateKey.generate(.ed25519)
        let valid = try SignedRecord.sign(with: signer, seq: 1, issuedAt: now, expiresAt: now + 3600, endpoints: [])
        let json = String(decoding: valid.json, as: UTF8.self)
        let signature = Base64URL.encode(valid.signature)
        let identityR = Base64URL.encode([1] + [UInt8](repeating: 0, count: 63))
        for prefix in [Self.ed25519Prefix, PermID.libnaclPrefix + [UInt8](repeating: 9, count: 32)] {
            let permID = Base64URL.encode(prefix + Self.hex(pointHex))
            let body = json.replacingOccurrences(of: signer.permID.text, with: permID)
            let bodies = [
                "bad signature": body,
                "identity R, S = 0": body.replacingOccurrences(of: signature, with: identityR),
                "signature too short": body.replacingOccurrences(of: signature, with: String(signature.dropLast(4))),
                "clock skew": body.replacingOccurrences(of: "\(now)", with: "\(now + 100_000)"),
                "permid mismatch": body.replacingOccurrences(of: permID, with: signer.permID.text),
            ]
            for (name, body) in bodies {
                #expect(body.contains(name == "permid mismatch" ? signer.permID.text : permID))
                do {
                    _ = try RecordValidator().validateAnnouncement(body: Array(body.utf8), pathPermID: permID, now: now)
                    Issue.record("\(name): accepted")
                } catch {
                    #expect(error.slug == "invalid-permid", "\(name): \(error.detail)")
                }
            }
        }
    }

    @Test func generatedKeysOfEveryTypeParseAndRoundTrip() throws {
        for type in KeyType.all {
            let key = try PrivateKey.generate(type)
            let parsed = try PublicKey(bytes: key.permID.bytes)
            #expect(parsed.permID == key.permID)
            #expect(try PublicKey(text: key.permID.text).permID.keyType == type)
            let message = Array("hello".utf8)
            for scheme in type.allowedSchemes {
                let signature = try key.sign(message, scheme: scheme)
                #expect(signature.count == type.signatureLength)
                #expect(parsed.verify(signature: signature, message: message, scheme: scheme))
                #expect(!parsed.verify(signature: signature, message: Array("hellO".utf8), scheme: scheme))
            }
        }
    }

    @Test func privateKeyFilesRoundTrip() throws {
        for type in KeyType.all where type != .libnacl {
            let key = try PrivateKey.generate(type)
            #expect(try PrivateKey(fileContents: Array(key.pkcs8PEM().utf8)).permID == key.permID)
        }
        let dual = try PrivateKey.generate(.libnacl)
        #expect(throws: KeyError.self) { try dual.pkcs8PEM() }
        #expect(try PrivateKey(fileContents: dual.ipv8Binary()).permID == dual.permID)
        #expect(throws: KeyError.self) { try PrivateKey(fileContents: Array("-----BEGIN nonsense".utf8)) }
        #expect(throws: KeyError.self) { try PrivateKey(fileContents: [1, 2, 3]) }
    }
}

@Suite struct PermIDMatchTests {
    /// Found by fuzzing (fuzz/regressions/announce): U+212A KELVIN SIGN is canonically equivalent to
    /// "K", so a String comparison let a body permid that is not the path's text through.
    @Test func bodyPermIDMustEqualThePathByteForByte() throws {
        var key: PrivateKey
        repeat { key = try PrivateKey.generate(.ed25519) } while !key.permID.text.contains("K")
        let record = try SignedRecord.sign(with: key, seq: 1, issuedAt: 1_764_028_800, expiresAt: 1_764_032_400, endpoints: [])
        let lookalike = key.permID.text.replacingOccurrences(of: "K", with: "\u{212A}")
        #expect(lookalike == key.permID.text, "Swift's String == treats them as equal")
        let body = String(decoding: record.json, as: UTF8.self).replacingOccurrences(of: key.permID.text, with: lookalike)
        #expect(throws: DirectoryError.permIDMismatch(path: key.permID.text, body: lookalike)) {
            try RecordValidator().validateAnnouncement(body: Array(body.utf8), pathPermID: key.permID.text, now: 1_764_028_800)
        }
    }
}
