import Foundation
import PermIDKit
import Testing

/// Base64URL against Foundation's base64 (an independent implementation), for every length up to 70
/// and random bytes, and the non-canonical texts it must refuse.
@Suite struct Base64URLTests {
    /// Foundation's base64 turned into unpadded base64url.
    static func reference(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    @Test func roundTripsAgainstFoundation() {
        var generator = SystemRandomNumberGenerator()
        for count in 0...70 {
            for _ in 0..<20 {
                let bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
                let text = Base64URL.encode(bytes)
                #expect(text == Self.reference(bytes))
                #expect(Base64URL.decode(text) == bytes)
                #expect(Base64URL.decode(Substring(text)) == bytes)
                #expect(Base64URL.decode(utf8: ArraySlice(text.utf8)) == bytes)
                var appended = Array("x".utf8)
                Base64URL.encode(bytes[...], appendingTo: &appended)
                #expect(appended == Array(("x" + text).utf8))
            }
        }
    }

    @Test(arguments: [
        "A", "AAAAA", // a length of 1 mod 4
        "AB", "AAB", "AAAAAB", "AAAAAAB", // unused trailing bits set
        "AA==", "AAA=", "AA=A", // padding
        "AA+A", "AA/A", "A A", "AAA\n", "AAé", "\u{0}AAA", // outside the alphabet
    ])
    func refusesNonCanonicalText(text: String) {
        #expect(Base64URL.decode(text) == nil)
    }

    @Test func decodesEveryCharacterOfTheAlphabet() {
        let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        let bytes = Base64URL.decode(alphabet)
        #expect(bytes.map(Base64URL.encode) == alphabet)
    }
}
