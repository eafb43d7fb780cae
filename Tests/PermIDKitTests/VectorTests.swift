import Foundation
import PermIDKit
import Testing

/// Checks every committed vector in Tests/Vectors, made by independent implementations
/// (Python `cryptography`, IPv8's own key code, the openssl command line) with generate.py.
@Suite struct VectorTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Vectors")

    struct KeyVector: Decodable, Sendable, CustomTestStringConvertible {
        let name, kind, permid, private_key, private_key_format, member_id: String
        let signature_bytes: Int
        var testDescription: String { name }
    }

    struct RecordFieldsJSON: Codable, Sendable {
        struct EndpointJSON: Codable, Sendable { let ip: String; let port: Int }
        let permid, sig_alg, signature: String
        let seq, issued_at, expires_at: UInt64
        let endpoints: [EndpointJSON]
    }

    struct RecordVector: Decodable, Sendable, CustomTestStringConvertible {
        let name, key, message_hex: String
        let record: RecordFieldsJSON
        let error: String?
        var testDescription: String { name }
        var json: [UInt8] { Array(try! JSONEncoder().encode(record)) }
    }

    struct BadKeyVector: Decodable, Sendable, CustomTestStringConvertible {
        let name, permid, error: String
        let canonical: String?
        var testDescription: String { name }
    }

    static func load<T: Decodable>(_ name: String, as type: T.Type = T.self) -> T {
        try! JSONDecoder().decode(T.self, from: Data(contentsOf: directory.appendingPathComponent(name)))
    }

    static let keys: [KeyVector] = load("keys.json")
    static let records: [String: [RecordVector]] = load("records.json")
    static let badKeys: [BadKeyVector] = load("bad_keys.json")

    static func hex(_ text: String) -> [UInt8] {
        let digits = Array(text.utf8)
        return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(decoding: digits[$0..<($0 + 2)], as: UTF8.self), radix: 16)! }
    }

    @Test func base64url() {
        let vectors: [String: [[String: String]]] = Self.load("base64url.json")
        #expect(vectors["valid"]!.count >= 5 && vectors["invalid"]!.count >= 5)
        for vector in vectors["valid"]! {
            #expect(Base64URL.decode(vector["text"]!) == Self.hex(vector["hex"]!), "\(vector)")
            #expect(Base64URL.encode(Self.hex(vector["hex"]!)) == vector["text"]!)
        }
        for vector in vectors["invalid"]! {
            #expect(Base64URL.decode(vector["text"]!) == nil, "\(vector)")
        }
    }

    @Test(arguments: keys)
    func keyParsesAndItsPrivateKeySigns(vector: KeyVector) throws {
        let publicKey = try PublicKey(text: vector.permid)
        #expect(publicKey.permID.keyType == KeyType(name: vector.kind))
        #expect(publicKey.permID.memberID == vector.member_id)
        #expect(publicKey.permID.keyType.signatureLength == vector.signature_bytes)
        #expect(PermID(canonicalLayout: publicKey.permID.bytes) == publicKey.permID)

        let privateKey = vector.private_key_format == "ipv8-bin"
            ? try PrivateKey(ipv8Binary: Base64URL.decode(vector.private_key)!)
            : try PrivateKey(pem: Array(vector.private_key.utf8))
        #expect(privateKey.permID == publicKey.permID, "the private key's PermID")
        for scheme in publicKey.permID.keyType.allowedSchemes {
            let message = Array("permid vector \(vector.name)".utf8)
            let signature = try privateKey.sign(message, scheme: scheme)
            #expect(publicKey.verify(signature: signature, message: message, scheme: scheme), "\(scheme)")
        }
        if vector.private_key_format == "ipv8-bin" {
            #expect(try privateKey.ipv8Binary() == Base64URL.decode(vector.private_key), "IPv8 form round-trips")
        }
    }

    @Test(arguments: records["valid"]!)
    func validRecordVerifies(vector: RecordVector) throws {
        let issuedAt = vector.record.issued_at
        let record = try RecordValidator().validateRecord(json: vector.json, now: issuedAt, freshness: .announcement)
        #expect(record.message == Self.hex(vector.message_hex))
        let reparsed = try RecordValidator().validateRecord(json: record.json, now: issuedAt, freshness: .announcement)
        #expect(reparsed == record)
    }

    @Test(arguments: records["invalid"]!)
    func invalidRecordGetsItsError(vector: RecordVector) throws {
        let fields = vector.record
        do {
            _ = try RecordValidator().validateRecord(json: vector.json, now: fields.issued_at, freshness: .announcement)
            Issue.record("accepted")
        } catch {
            #expect(error.slug == vector.error, "\(error.detail)")
        }
        let permID = try PublicKey(text: fields.permid).permID
        if let scheme = SignatureScheme(rawValue: fields.sig_alg) {
            let endpoints = fields.endpoints.map { Endpoint(address: IPAddress($0.ip)!, port: UInt16($0.port)) }
            let message = SignedRecord.message(
                permID: permID, scheme: scheme, seq: fields.seq, issuedAt: fields.issued_at, expiresAt: fields.expires_at, endpoints: endpoints)
            #expect(message == Self.hex(vector.message_hex), "message bytes")
        }
    }

    @Test(arguments: badKeys)
    func badKeyGetsItsError(vector: BadKeyVector) {
        do {
            _ = try PublicKey(text: vector.permid)
            Issue.record("accepted")
        } catch {
            #expect(error.slug == vector.error, "\(error.detail)")
            if case .nonCanonicalPermID(let canonical) = error {
                #expect(canonical == vector.canonical)
            }
        }
    }

    @Test func workedExampleFromDocsProtocol() throws {
        struct Example: Decodable {
            let private_key_pem, permid, permid_hex, message_hex, signature_hex: String
            let record: RecordFieldsJSON
        }
        let example: Example = Self.load("worked_example.json")
        let key = try PrivateKey(pem: Array(example.private_key_pem.utf8))
        #expect(key.permID.text == example.permid)
        #expect(key.permID.bytes == Self.hex(example.permid_hex))
        let record = try SignedRecord.sign(
            with: key, seq: 7, issuedAt: 1_764_028_800, expiresAt: 1_764_032_400,
            endpoints: [Endpoint("203.0.113.5:6881")!, Endpoint("[2001:db8::5]:6881")!])
        #expect(record.message == Self.hex(example.message_hex))
        #expect(record.signature == Self.hex(example.signature_hex), "Ed25519 is deterministic")
        let json = Array(try JSONEncoder().encode(example.record))
        #expect(try RecordValidator().validateRecord(json: json, now: 1_764_028_800, freshness: .announcement) == record)
    }
}
