/// Strict base64url (RFC 4648 §5) without padding.
///
/// Decoding rejects padding, characters outside the alphabet, a length of 1 mod 4,
/// and non-zero unused trailing bits, so every byte string has exactly one text form.
///
/// Every resolve decodes its PermID and encodes the PermID and signature of the record it serves,
/// so both directions work on contiguous bytes through pointers: no lazily made tables, no
/// per-byte bounds or capacity checks.
public enum Base64URL {
    /// The alphabet, a constant (a `StaticString` is laid out at compile time).
    private static let alphabet: StaticString = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

    /// The length of the unpadded text of `byteCount` bytes.
    private static func encodedCount(_ byteCount: Int) -> Int { (byteCount * 4 + 2) / 3 }

    /// Encodes bytes as unpadded base64url text.
    public static func encode(_ bytes: some Collection<UInt8>) -> String {
        var output = [UInt8]()
        encode(bytes, appendingTo: &output)
        return String(decoding: output, as: UTF8.self)
    }

    /// Appends the unpadded base64url text of `bytes` to `output` (for writers that build bytes, not Strings).
    public static func encode(_ bytes: some Collection<UInt8>, appendingTo output: inout [UInt8]) {
        if bytes.withContiguousStorageIfAvailable({ encode($0, appendingTo: &output) }) == nil {
            Array(bytes).withUnsafeBufferPointer { encode($0, appendingTo: &output) }
        }
    }

    private static func encode(_ input: UnsafeBufferPointer<UInt8>, appendingTo output: inout [UInt8]) {
        let count = encodedCount(input.count)
        guard count > 0 else { return }
        let start = output.count
        output.reserveCapacity(start + count)
        // Room first (one fill), then every character written through a pointer.
        output.append(contentsOf: repeatElement(0, count: count))
        output.withUnsafeMutableBufferPointer { buffer in
            let text = buffer.baseAddress! + start
            let symbols = alphabet.utf8Start
            var read = 0, written = 0
            while read + 3 <= input.count {
                let chunk = UInt32(input[read]) << 16 | UInt32(input[read + 1]) << 8 | UInt32(input[read + 2])
                text[written] = symbols[Int(chunk >> 18 & 63)]
                text[written + 1] = symbols[Int(chunk >> 12 & 63)]
                text[written + 2] = symbols[Int(chunk >> 6 & 63)]
                text[written + 3] = symbols[Int(chunk & 63)]
                read += 3
                written += 4
            }
            switch input.count - read {
            case 2:
                let chunk = UInt32(input[read]) << 16 | UInt32(input[read + 1]) << 8
                text[written] = symbols[Int(chunk >> 18 & 63)]
                text[written + 1] = symbols[Int(chunk >> 12 & 63)]
                text[written + 2] = symbols[Int(chunk >> 6 & 63)]
            case 1:
                let chunk = UInt32(input[read]) << 16
                text[written] = symbols[Int(chunk >> 18 & 63)]
                text[written + 1] = symbols[Int(chunk >> 12 & 63)]
            default:
                break
            }
        }
    }

    /// Decodes unpadded base64url text, or returns `nil` when it is not the one canonical encoding of some bytes.
    public static func decode(_ text: some StringProtocol) -> [UInt8]? {
        decode(utf8: Array(text.utf8))
    }

    /// Decodes unpadded base64url text, reading a String's UTF-8 in place (no copy: every resolve
    /// decodes its PermID); `nil` when it is not the one canonical encoding of some bytes.
    public static func decode(_ text: String) -> [UInt8]? {
        var text = text
        return text.withUTF8 { decode($0) }
    }

    /// Decodes unpadded base64url given as UTF-8 bytes; `nil` when not canonical.
    public static func decode(utf8 input: some Collection<UInt8>) -> [UInt8]? {
        if let decoded = input.withContiguousStorageIfAvailable({ decode($0) }) { return decoded }
        return Array(input).withUnsafeBufferPointer { decode($0) }
    }

    /// The 6-bit value of one base64url character, or `nil` outside the alphabet.
    private static func value(_ character: UInt8) -> UInt32? {
        switch character {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): UInt32(character - UInt8(ascii: "A"))
        case UInt8(ascii: "a")...UInt8(ascii: "z"): UInt32(character - UInt8(ascii: "a")) + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt32(character - UInt8(ascii: "0")) + 52
        case UInt8(ascii: "-"): 62
        case UInt8(ascii: "_"): 63
        default: nil
        }
    }

    private static func decode(_ input: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        let tail = input.count % 4
        if tail == 1 { return nil }
        let count = input.count / 4 * 3 + (tail == 0 ? 0 : tail - 1)
        var valid = true
        let output = [UInt8](unsafeUninitializedCapacity: count) { bytes, initialized in
            var read = 0, written = 0
            while read + 4 <= input.count {
                guard let a = value(input[read]), let b = value(input[read + 1]),
                      let c = value(input[read + 2]), let d = value(input[read + 3])
                else { valid = false; return }
                let chunk = a << 18 | b << 12 | c << 6 | d
                bytes[written] = UInt8(truncatingIfNeeded: chunk >> 16)
                bytes[written + 1] = UInt8(truncatingIfNeeded: chunk >> 8)
                bytes[written + 2] = UInt8(truncatingIfNeeded: chunk)
                read += 4
                written += 3
                initialized = written
            }
            switch tail {
            case 3:
                guard let a = value(input[read]), let b = value(input[read + 1]), let c = value(input[read + 2]),
                      c & 0b11 == 0 // the unused low bits of the last character are zero
                else { valid = false; return }
                let chunk = a << 18 | b << 12 | c << 6
                bytes[written] = UInt8(truncatingIfNeeded: chunk >> 16)
                bytes[written + 1] = UInt8(truncatingIfNeeded: chunk >> 8)
            case 2:
                guard let a = value(input[read]), let b = value(input[read + 1]), b & 0b1111 == 0 else { valid = false; return }
                bytes[written] = UInt8(truncatingIfNeeded: (a << 18 | b << 12) >> 16)
            default:
                break
            }
            initialized = count
        }
        return valid ? output : nil
    }
}
