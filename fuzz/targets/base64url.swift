// libFuzzer target: the strict base64url codec (Base64URL.decode / encode).
//
// Compiled together with Sources/PermIDKit/*.swift into one executable (see fuzz/run.sh).
// Properties, each checked with a trap so libFuzzer reports a violation as a crash:
//   1. decoding arbitrary bytes never crashes, and decode(_ text:) agrees with decode(utf8:);
//   2. canonical: whenever the input decodes, encode(decoded) is exactly the input, and the
//      decoded length is ⌊3·n/4⌋ for n input characters;
//   3. round trip: decode(encode(input)) == input for the raw input bytes, and the encoding has
//      ⌈4·n/3⌉ characters, all from the base64url alphabet.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzBase64URL(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = Array(UnsafeBufferPointer(start: data, count: size))

    let decoded = Base64URL.decode(utf8: input)
    require(Base64URL.decode(String(decoding: input, as: UTF8.self)) == decoded,
            "decode(_ text:) and decode(utf8:) disagree")
    require(Base64URL.decode(utf8: input[...]) == decoded, "decode(utf8:) depends on the collection type")
    if let decoded {
        require(Array(Base64URL.encode(decoded).utf8) == input, "decode accepted a non-canonical text")
        require(decoded.count == input.count * 3 / 4, "decoded length is not ⌊3n/4⌋")
    }

    let encoded = Base64URL.encode(input)
    let encodedUTF8 = Array(encoded.utf8)
    require(encodedUTF8.count == (input.count * 4 + 2) / 3, "encoded length is not ⌈4n/3⌉")
    require(encodedUTF8.allSatisfy(isAlphabet), "encode wrote a character outside the alphabet")
    require(Base64URL.decode(encoded) == input, "decode(encode(bytes)) != bytes")
    require(Base64URL.encode(input[...]) == encoded, "encode depends on the collection type")
    return 0
}

private func isAlphabet(_ byte: UInt8) -> Bool {
    switch byte {
    case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
         UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"):
        true
    default:
        false
    }
}

/// Traps with the message even in -O builds (precondition drops it), so the fuzzer log says which property failed.
private func require(_ condition: Bool, _ message: @autoclosure () -> String, file: StaticString = #file, line: UInt = #line) {
    if !condition { fatalError(message(), file: file, line: line) }
}
