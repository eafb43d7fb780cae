import Testing
@testable import PermIDKit

/// Ed25519 is verified by libsodium with OpenSSL deciding the one case where they differ for a valid
/// key: an R of small order. A key's owner can make such a signature verify (R = identity, S = h·a);
/// OpenSSL (and so Python's `cryptography`) accepts it, and so must the directory.
@Suite struct Ed25519VerificationTests {
    static let spkiPrefix: [UInt8] = [0x30, 0x2A, 0x30, 0x05, 0x06, 0x03, 0x2B, 0x65, 0x70, 0x03, 0x21, 0x00]

    /// A key made from a random secret scalar, and a signature with R = identity (encoded 01 00 … 00).
    static func identityRSignature(message: [UInt8]) throws -> (key: PublicKey, signature: [UInt8], secret: [UInt8]) {
        let secret = Ed25519Arithmetic.reduce((0..<64).map { _ in UInt8.random(in: 0...255) })
        let point = try #require(Ed25519Arithmetic.multiplyBase(by: secret))
        let key = try PublicKey(bytes: spkiPrefix + point)
        let r: [UInt8] = [1] + [UInt8](repeating: 0, count: 31)
        let h = Ed25519Arithmetic.reduce(Blinding.sha512(r, point, message))
        return (key, r + Ed25519Arithmetic.multiply(h, secret), secret)
    }

    @Test func aSmallOrderRThatOpenSSLAcceptsIsAccepted() throws {
        let message = Array("PERMID-DIRECTORY/1 ANNOUNCE small-order R".utf8)
        let (key, signature, _) = try Self.identityRSignature(message: message)
        let libsodiumAlone = signature.withUnsafeBytes { s in
            message.withUnsafeBytes { m in
                key.permID.bytes.withUnsafeBytes { Ed25519Arithmetic.verify(signature: s, message: m, publicKey: UnsafeRawBufferPointer(rebasing: $0.suffix(32))) }
            }
        }
        #expect(!libsodiumAlone, "libsodium refuses an R of small order; this test needs it to")
        #expect(key.verify(signature: signature, message: message, scheme: .ed25519))
        var other = message
        other[0] ^= 1
        #expect(!key.verify(signature: signature, message: other, scheme: .ed25519))
    }

    @Test func ordinarySignaturesVerifyAndAnyChangeFails() throws {
        let key = try PrivateKey.generate(.ed25519)
        let message = Array("a message".utf8)
        let signature = try key.sign(message, scheme: .ed25519)
        let publicKey = try PublicKey(bytes: key.permID.bytes)
        #expect(publicKey.verify(signature: signature, message: message, scheme: .ed25519))
        for index in [0, 31, 32, 63] {
            var changed = signature
            changed[index] ^= 0x01
            #expect(!publicKey.verify(signature: changed, message: message, scheme: .ed25519), "byte \(index)")
        }
        // S + ℓ (non-canonical S) is refused by both libraries.
        let ell: [UInt8] = [0xED, 0xD3, 0xF5, 0x5C, 0x1A, 0x63, 0x12, 0x58, 0xD6, 0x9C, 0xF7, 0xA2, 0xDE, 0xF9, 0xDE, 0x14]
            + [UInt8](repeating: 0, count: 15) + [0x10]
        var carry = 0
        var bigS = Array(signature[32...])
        for i in 0..<32 {
            let sum = Int(bigS[i]) + Int(ell[i]) + carry
            bigS[i] = UInt8(sum & 0xFF)
            carry = sum >> 8
        }
        if carry == 0 { #expect(!publicKey.verify(signature: Array(signature[..<32]) + bigS, message: message, scheme: .ed25519)) }
    }
}
