import Foundation
import PermIDClient
import PermIDKit
import Testing

/// The PermIDProof encoding and signature against the committed vector (made in Python by
/// Tests/handshake/interop.py), and the strict DER reading.
@Suite struct PermIDProofTests {
    struct Case: Decodable, Sendable, CustomTestStringConvertible {
        let name, permid, permid_private_key_pem, certificate_spki_hex, message_hex, signature_hex, proof_der_hex: String
        let sig_alg: Int
        let deterministic: Bool
        var testDescription: String { name }
    }

    struct Vector: Decodable { let extension_oid, tag_hex: String; let cases: [Case] }

    static let vector: Vector = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Vectors/handshake_proof.json")
        return try! JSONDecoder().decode(Vector.self, from: Data(contentsOf: url))
    }()

    @Test func constants() {
        #expect(Self.vector.extension_oid == PermIDProof.extensionOID)
        #expect(Self.vector.tag_hex == PermIDProof.tag.hexString)
    }

    @Test(arguments: vector.cases) func vectorProof(_ item: Case) throws {
        let spki = bytes(hex: item.certificate_spki_hex)
        let der = bytes(hex: item.proof_der_hex)
        #expect(PermIDProof.message(subjectPublicKeyInfo: spki).hexString == item.message_hex)
        let proof = try PermIDProof(der: der)
        #expect(proof.der == der)
        #expect(proof.sigAlg == item.sig_alg && proof.signature.hexString == item.signature_hex)
        #expect(try proof.verify(subjectPublicKeyInfo: spki).text == item.permid)
        let key = try PrivateKey(pem: Array(item.permid_private_key_pem.utf8))
        let mine = try PermIDProof(signing: spki, with: key)
        if item.deterministic { #expect(mine.der == der) }
        #expect(try mine.verify(subjectPublicKeyInfo: spki).text == item.permid)
        // The same proof does not verify over another certificate key.
        var other = spki
        other[other.count - 1] ^= 1
        #expect(throws: HandshakeError.self) { try proof.verify(subjectPublicKeyInfo: other) }
    }

    @Test(arguments: KeyType.all) func everyKeyTypeProves(_ type: KeyType) throws {
        let key = try PrivateKey.generate(type)
        let spki = bytes(hex: Self.vector.cases[0].certificate_spki_hex)
        let proof = try PermIDProof(der: try PermIDProof(signing: spki, with: key).der)
        #expect(proof.sigAlg == (type == .ed25519 || type == .libnacl ? 1 : 2))
        #expect(try proof.verify(subjectPublicKeyInfo: spki) == key.permID)
    }

    @Test func ecdsaSHA1IsRefused() throws {
        let key = try PrivateKey.generate(.ec(.sect233k1))
        let spki = bytes(hex: Self.vector.cases[0].certificate_spki_hex)
        let signature = try key.sign(PermIDProof.message(subjectPublicKeyInfo: spki), scheme: .ecdsaSHA1)
        let proof = PermIDProof(permID: key.permID.bytes, sigAlg: 3, signature: signature)
        #expect(throws: HandshakeError.peerRejected("ecdsa-sha1 is refused in the handshake")) {
            try proof.verify(subjectPublicKeyInfo: spki)
        }
    }

    @Test(arguments: [
        ("trailing byte", "00"),
        ("indefinite length", nil),
        ("non-minimal length", nil),
        ("four members", "0400"),
    ] as [(String, String?)]) func strictDER(_ name: String, _ suffix: String?) {
        let der = bytes(hex: Self.vector.cases[0].proof_der_hex)
        var bad: [UInt8]
        switch name {
        case "trailing byte": bad = der + [0]
        case "indefinite length": bad = [0x30, 0x80] + der.dropFirst(2) + [0, 0]
        case "non-minimal length": bad = [0x30, 0x81] + der.dropFirst(1)
        default: bad = [0x30, der[1] + 2] + der.dropFirst(2) + [0x04, 0x00]
        }
        #expect(throws: HandshakeError.self) { try PermIDProof(der: bad) }
    }

    @Test func nonMinimalInteger() {
        let proof = PermIDProof(permID: [1], sigAlg: 1, signature: [2])
        var der = proof.der
        #expect(der == [0x30, 0x09, 0x04, 0x01, 0x01, 0x02, 0x01, 0x01, 0x04, 0x01, 0x02])
        der = [0x30, 0x0A, 0x04, 0x01, 0x01, 0x02, 0x02, 0x00, 0x01, 0x04, 0x01, 0x02]
        #expect(throws: HandshakeError.self) { try PermIDProof(der: der) }
    }

    private func bytes(hex: String) -> [UInt8] {
        var output = [UInt8]()
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            output.append(UInt8(hex[index..<next], radix: 16)!)
            index = next
        }
        return output
    }
}
