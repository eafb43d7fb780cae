import Foundation
import PermIDClient
import PermIDKit
import Testing

/// Sealed records (FRIENDS-v1 part B) against Tests/Vectors/sealed.json, made by sealed.py with pyhpke,
/// python-cryptography and the Ed25519→X25519 map written from RFC 8032 (fixed ephemeral keys); and the
/// other direction: records sealed here are opened by that script.
@Suite struct SealedVectorTests {
    typealias Object = [String: Any]

    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Vectors")
    nonisolated(unsafe) static let file: Object =
        try! JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent("sealed.json"))) as! Object
    nonisolated(unsafe) static let keys: [String: Object] =
        Dictionary(uniqueKeysWithValues: (file["keys"] as! [Object]).map { ($0["name"] as! String, $0) })

    static func entries(_ list: String) -> [Object] { file[list] as! [Object] }

    static func privateKey(_ name: String) throws -> PrivateKey {
        let entry = keys[name]!
        let text = entry["private_key"] as! String
        return entry["private_key_format"] as! String == "ipv8-bin"
            ? try PrivateKey(ipv8Binary: Base64URL.decode(text)!)
            : try PrivateKey(pem: Array(text.utf8))
    }

    static func hex(_ text: String) -> [UInt8] {
        let digits = Array(text.utf8)
        return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(decoding: digits[$0..<($0 + 2)], as: UTF8.self), radix: 16)! }
    }

    static func json(_ value: Any) -> [UInt8] { Array(try! JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed])) }

    static func endpoints(_ value: Any?) -> [Endpoint] { (value as! [String]).map { Endpoint($0)! } }

    @Test func theConstantsAreTheProtocols() {
        #expect(Self.hex(Self.file["seal_tag_hex"] as! String) == SealedBox.infoTag)
        #expect(Self.hex(Self.file["sealed_tag_hex"] as! String) == SignedRecord.sealedTag)
        #expect(Self.file["plaintext_bytes"] as? Int == ProtocolConstants.sealedPlaintextLength)
        let kinds = Set(Self.keys.values.filter { $0["role"] as? String == "friend" }.map { $0["kind"] as! String })
        #expect(kinds == ["ed25519", "libnacl", "p256", "p384"])
    }

    /// Each friend key's KEM keys (libsodium's conversion here, RFC 8032 math there), `info`, the plaintext,
    /// and the box Python sealed with a fixed ephemeral key opens here to those endpoints.
    @Test func everyBoxOpensHereToItsEndpoints() throws {
        for box in Self.entries("boxes") {
            let name = box["name"] as! String
            let friendName = box["friend"] as! String
            let friend = try Self.privateKey(friendName)
            let sealingKey = try SealingPrivateKey(key: friend)
            #expect(sealingKey.bytes == Self.hex(Self.keys[friendName]!["kem_private_hex"] as! String), "\(name)")
            #expect(try SealingPublicKey(permID: friend.permID).bytes == Self.hex(Self.keys[friendName]!["kem_public_hex"] as! String), "\(name)")
            let recordPermID = try PublicKey(text: box["record_permid"] as! String).permID
            let seq = (box["seq"] as! NSNumber).uint64Value
            let info = SealedBox.info(permID: recordPermID, seq: seq)
            #expect(info == Self.hex(box["info_hex"] as! String), "\(name)")
            let endpoints = Self.endpoints(box["endpoints"])
            #expect(SealedBox.plaintext(endpoints: endpoints) == Self.hex(box["plaintext_hex"] as! String), "\(name)")
            let bytes = try #require(Base64URL.decode(box["box"] as! String))
            #expect(Array(bytes.prefix(sealingKey.kem.encapsulatedKeyLength)) == Self.hex(box["enc_hex"] as! String))
            let plaintext = try #require(SealedRecords.open(bytes, with: sealingKey, info: info), "\(name)")
            #expect(try SealedBox.endpoints(plaintext: plaintext) == endpoints, "\(name)")
        }
    }

    /// Whole sealed records: the signed message, the signature, each friend's box (the first that opens),
    /// and strangers open none.
    @Test func everyRecordVerifiesAndOpensForItsFriendsOnly() throws {
        for entry in Self.entries("records") {
            let name = entry["name"] as! String
            let fields = entry["record"] as! Object
            let record = try RecordValidator().validateRecord(
                json: Self.json(fields), now: (fields["issued_at"] as! NSNumber).uint64Value, freshness: .announcement)
            #expect(record.message == Self.hex(entry["message_hex"] as! String), "\(name)")
            let owner = try Self.privateKey(entry["owner"] as! String)
            #expect(try owner.permID.blinded(epoch: (entry["epoch"] as! NSNumber).uint64Value) == record.permID, "\(name)")
            for opens in entry["opens"] as! [Object] {
                let friend = try Self.privateKey(opens["friend"] as! String)
                #expect(try SealedRecords.open(record, with: SealingPrivateKey(key: friend)) == Self.endpoints(opens["endpoints"]), "\(name)")
            }
            for stranger in entry["strangers"] as! [String] {
                #expect(try SealedRecords.open(record, with: SealingPrivateKey(key: Self.privateKey(stranger))) == nil, "\(name)")
            }
        }
    }

    @Test func invalidRecordsGetTheirProblemAndLimitsAreAccepted() throws {
        for entry in Self.entries("invalid") + Self.entries("limits") {
            let name = entry["name"] as! String
            let fields = entry["record"] as! Object
            let now = (fields["issued_at"] as? NSNumber)?.uint64Value ?? 0
            let result = Result { try RecordValidator().validateRecord(json: Self.json(fields), now: now, freshness: .announcement) }
            switch (entry["problem"] as? String, result) {
            case (let problem?, .failure(let error as DirectoryError)): #expect(error.slug == problem, "\(name): \(error.detail)")
            case (nil, .success(let record)): #expect(record.message == Self.hex(entry["message_hex"] as! String), "\(name)")
            default: Issue.record("\(name): \(result)")
            }
        }
    }

    @Test func movedBoxesOpenForNobody() throws {
        for entry in Self.entries("moved") {
            let fields = entry["record"] as! Object
            let record = try RecordValidator().validateRecord(
                json: Self.json(fields), now: (fields["issued_at"] as! NSNumber).uint64Value, freshness: .announcement)
            let friend = try Self.privateKey(entry["friend"] as! String)
            let name = entry["name"] as? String ?? "?"
            #expect(try SealedRecords.open(record, with: SealingPrivateKey(key: friend)) == nil, "\(name)")
        }
    }

    /// Records sealed here, for every owner kind and to every friend kind at once, open in Python.
    @Test func swiftSealedRecordsOpenInPython() throws {
        let root = Self.directory.deletingLastPathComponent().deletingLastPathComponent()
        let python = root.appendingPathComponent(".build/venv/bin/python")
        guard FileManager.default.isExecutableFile(atPath: python.path) else {
            Issue.record("no Python environment at \(python.path): run `make pyenv`")
            return
        }
        let friends = Self.keys.values.filter { $0["role"] as? String == "friend" }.map { $0["name"] as! String }.sorted()
        let stranger = try PrivateKey.generate(.ed25519)
        let endpoints = ["203.0.113.9:7001", "[2001:db8::9]:7002"].map { Endpoint($0)! }
        var entries: [Object] = []
        for owner in Self.keys.values.filter({ $0["role"] as? String == "owner" }).map({ $0["name"] as! String }).sorted() {
            let blinded = try Self.privateKey(owner).blinded(epoch: 20_500)
            let issuedAt: UInt64 = 20_500 * 86_400 + 60
            let boxes = try SealedRecords.boxes(
                endpoints, for: try friends.map { try Self.privateKey($0).permID }, recordPermID: blinded.permID, seq: issuedAt)
            let record = try SignedRecord.sign(with: blinded, seq: issuedAt, issuedAt: issuedAt, expiresAt: issuedAt + 3_600, content: .sealed(boxes))
            let json = try JSONSerialization.jsonObject(with: Data(record.json))
            for friend in friends {
                let key = Self.keys[friend]!
                entries.append([
                    "record": json, "friend_private_key": key["private_key"]!, "friend_private_key_format": key["private_key_format"]!,
                    "endpoints": endpoints.map(\.description),
                ])
            }
            entries.append([
                "record": json, "friend_private_key": try stranger.pkcs8PEM(), "friend_private_key_format": "pkcs8-pem", "endpoints": NSNull(),
            ])
        }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("permid-sealed-\(UUID().uuidString).json")
        try JSONSerialization.data(withJSONObject: entries).write(to: path)
        defer { try? FileManager.default.removeItem(at: path) }
        let process = Process()
        process.executableURL = python
        process.arguments = [Self.directory.appendingPathComponent("sealed.py").path, "--open", path.path]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(text)")
        // Several checks per entry (signature, padding, the box, the endpoints): at least one each, none failed.
        let passed = text.split(separator: "\n").last.flatMap { Int($0.prefix { $0.isNumber }) } ?? 0
        #expect(text.hasSuffix(" passed, 0 failed\n") && passed >= entries.count, "\(text)")
    }
}
