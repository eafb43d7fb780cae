/// Builds compact JSON text. Members are written in the order given; strings are escaped per RFC 8259.
public struct JSONWriter: Sendable {
    /// The UTF-8 text written so far.
    public private(set) var bytes: [UInt8] = []
    private var needsComma = false

    /// Starts an empty document.
    public init() { bytes.reserveCapacity(512) }

    /// Opens an object; `name` when it is a member of an enclosing object.
    public mutating func beginObject(_ name: String? = nil) { open(name, UInt8(ascii: "{")) }
    /// Closes the innermost object.
    public mutating func endObject() { close(UInt8(ascii: "}")) }
    /// Opens an array; `name` when it is a member of an enclosing object.
    public mutating func beginArray(_ name: String? = nil) { open(name, UInt8(ascii: "[")) }
    /// Closes the innermost array.
    public mutating func endArray() { close(UInt8(ascii: "]")) }

    /// Writes a string value.
    public mutating func string(_ name: String?, _ value: String) {
        prefix(name)
        appendEscaped(value)
    }

    /// Writes `bytes` as a base64url string value (its alphabet needs no escaping), without making a String.
    public mutating func base64URL(_ name: String?, _ value: some Collection<UInt8>) {
        prefix(name)
        bytes.append(UInt8(ascii: "\""))
        Base64URL.encode(value, appendingTo: &bytes)
        bytes.append(UInt8(ascii: "\""))
    }

    /// Writes an unsigned integer value.
    public mutating func number(_ name: String?, _ value: UInt64) {
        prefix(name)
        appendDigits(value)
    }

    /// Writes a signed integer value.
    public mutating func number(_ name: String?, _ value: Int) {
        prefix(name)
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        appendDigits(UInt64(value.magnitude))
    }

    /// Writes `true` or `false`.
    public mutating func bool(_ name: String?, _ value: Bool) {
        prefix(name)
        bytes += Array((value ? "true" : "false").utf8)
    }

    /// Writes `null`.
    public mutating func null(_ name: String? = nil) {
        prefix(name)
        bytes += Array("null".utf8)
    }

    /// Writes pre-encoded JSON text as a value.
    public mutating func raw(_ name: String?, _ json: [UInt8]) {
        prefix(name)
        bytes += json
    }

    /// Writes a parsed JSON value back as compact text (numbers keep their exact text).
    public mutating func value(_ name: String?, _ value: JSONValue) {
        switch value {
        case .null: null(name)
        case .bool(let flag): raw(name, Array((flag ? "true" : "false").utf8))
        case .number(let text): raw(name, Array(text.utf8))
        case .string(let text): string(name, text)
        case .array(let elements):
            beginArray(name)
            for element in elements { self.value(nil, element) }
            endArray()
        case .object(let members):
            beginObject(name)
            for member in members { self.value(member.name, member.value) }
            endObject()
        }
    }

    /// The text as a String.
    public var text: String { String(decoding: bytes, as: UTF8.self) }

    private mutating func open(_ name: String?, _ bracket: UInt8) {
        prefix(name)
        bytes.append(bracket)
        needsComma = false
    }

    private mutating func close(_ bracket: UInt8) {
        bytes.append(bracket)
        needsComma = true
    }

    private mutating func prefix(_ name: String?) {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
        needsComma = true
        if let name {
            appendEscaped(name)
            bytes.append(UInt8(ascii: ":"))
        }
    }

    /// Appends the decimal digits of `value`, written on the stack first (at most 20), without making a String.
    private mutating func appendDigits(_ value: UInt64) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var start = 20
            var remaining = value
            repeat {
                start -= 1
                digits[start] = UInt8(ascii: "0") + UInt8(truncatingIfNeeded: remaining % 10)
                remaining /= 10
            } while remaining > 0
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: digits[start...]))
        }
    }

    private mutating func appendEscaped(_ value: String) {
        bytes.append(UInt8(ascii: "\""))
        // Most strings (PermIDs, signatures, addresses, member names) need no escaping: copy them
        // whole, scanning their contiguous UTF-8 once.
        var text = value
        let copied = text.withUTF8 { utf8 -> Bool in
            guard !utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) else { return false }
            bytes.append(contentsOf: utf8)
            return true
        }
        if copied {
            bytes.append(UInt8(ascii: "\""))
            return
        }
        let hex = Array("0123456789abcdef".utf8)
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\""): bytes += [0x5C, 0x22]
            case UInt8(ascii: "\\"): bytes += [0x5C, 0x5C]
            case 0x0A: bytes += [0x5C, UInt8(ascii: "n")]
            case 0x0D: bytes += [0x5C, UInt8(ascii: "r")]
            case 0x09: bytes += [0x5C, UInt8(ascii: "t")]
            case 0..<0x20: bytes += Array("\\u00".utf8) + [hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}
