/// An RFC 8259 JSON parser that refuses what lenient parsers let through: duplicate member names,
/// invalid UTF-8, lone surrogates, unescaped control characters, trailing data and excessive nesting.
public struct StrictJSONParser {
    /// The deepest nesting of arrays and objects accepted.
    public static let maxDepth = 32

    private let input: [UInt8]
    private var position = 0
    private var depth = 0

    private init(_ input: [UInt8]) { self.input = input }

    /// Parses a whole document.
    ///
    /// - Throws: ``JSONSyntaxError`` naming the first problem and its byte offset.
    public static func parse(_ input: [UInt8]) throws(JSONSyntaxError) -> JSONValue {
        var parser = StrictJSONParser(input)
        parser.skipWhitespace()
        let value = try parser.parseValue()
        parser.skipWhitespace()
        guard parser.position == input.count else { throw parser.error("trailing data after the JSON value") }
        return value
    }

    // MARK: - Values

    private mutating func parseValue() throws(JSONSyntaxError) -> JSONValue {
        guard position < input.count else { throw error("unexpected end of input") }
        switch input[position] {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
        default: throw error("unexpected character")
        }
    }

    private mutating func parseObject() throws(JSONSyntaxError) -> JSONValue {
        try enter()
        position += 1
        var members = [JSONValue.Member]()
        // Duplicate names are found by comparing with the members so far while there are few (every
        // record and endpoint object: no hashing, no set to allocate), and through a set past 16 (a
        // hostile object of thousands stays linear).
        var names: Set<String>?
        skipWhitespace()
        if consume(UInt8(ascii: "}")) { depth -= 1; return .object(members) }
        while true {
            skipWhitespace()
            guard position < input.count, input[position] == UInt8(ascii: "\"") else { throw error("expected a member name") }
            let nameOffset = position
            let name = try parseString()
            let duplicate: Bool
            if names != nil {
                duplicate = !names!.insert(name).inserted
            } else {
                duplicate = members.contains { $0.name == name }
                if !duplicate, members.count >= 16 { names = Set(members.map(\.name) + [name]) }
            }
            guard !duplicate else {
                throw JSONSyntaxError(reason: "duplicate member \"\(name)\"", offset: nameOffset)
            }
            skipWhitespace()
            guard consume(UInt8(ascii: ":")) else { throw error("expected ':'") }
            skipWhitespace()
            members.append(.init(name: name, value: try parseValue()))
            skipWhitespace()
            if consume(UInt8(ascii: ",")) { continue }
            guard consume(UInt8(ascii: "}")) else { throw error("expected ',' or '}'") }
            depth -= 1
            return .object(members)
        }
    }

    private mutating func parseArray() throws(JSONSyntaxError) -> JSONValue {
        try enter()
        position += 1
        var elements = [JSONValue]()
        skipWhitespace()
        if consume(UInt8(ascii: "]")) { depth -= 1; return .array(elements) }
        while true {
            skipWhitespace()
            elements.append(try parseValue())
            skipWhitespace()
            if consume(UInt8(ascii: ",")) { continue }
            guard consume(UInt8(ascii: "]")) else { throw error("expected ',' or ']'") }
            depth -= 1
            return .array(elements)
        }
    }

    private mutating func enter() throws(JSONSyntaxError) {
        depth += 1
        guard depth <= Self.maxDepth else { throw error("nesting deeper than \(Self.maxDepth)") }
    }

    // MARK: - Numbers

    private mutating func parseNumber() throws(JSONSyntaxError) -> String {
        let start = position
        _ = consume(UInt8(ascii: "-"))
        guard position < input.count else { throw error("incomplete number") }
        if input[position] == UInt8(ascii: "0") {
            position += 1
        } else {
            guard digits() > 0 else { throw error("invalid number") }
        }
        if consume(UInt8(ascii: ".")) {
            guard digits() > 0 else { throw error("invalid fraction") }
        }
        if position < input.count, input[position] | 0x20 == UInt8(ascii: "e") {
            position += 1
            if !consume(UInt8(ascii: "+")) { _ = consume(UInt8(ascii: "-")) }
            guard digits() > 0 else { throw error("invalid exponent") }
        }
        return String(decoding: input[start..<position], as: UTF8.self)
    }

    private mutating func digits() -> Int {
        let start = position
        while position < input.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(input[position]) { position += 1 }
        return position - start
    }

    // MARK: - Strings

    private mutating func parseString() throws(JSONSyntaxError) -> String {
        position += 1
        // Most strings are printable ASCII throughout (every member name, PermID and signature):
        // those are made from the input's bytes at once, with no buffer grown byte by byte.
        let start = position
        while position < input.count, case 0x20..<0x80 = input[position],
              input[position] != UInt8(ascii: "\""), input[position] != UInt8(ascii: "\\") {
            position += 1
        }
        if position < input.count, input[position] == UInt8(ascii: "\"") {
            position += 1
            return String(decoding: input[start..<(position - 1)], as: UTF8.self)
        }
        var output = Array(input[start..<position])
        while true {
            guard position < input.count else { throw error("unterminated string") }
            let byte = input[position]
            switch byte {
            case UInt8(ascii: "\""):
                position += 1
                return String(decoding: output, as: UTF8.self)
            case UInt8(ascii: "\\"):
                position += 1
                try parseEscape(into: &output)
            case 0..<0x20:
                throw error("unescaped control character in string")
            case 0x20..<0x80:
                output.append(byte)
                position += 1
            default:
                try copyUTF8Sequence(into: &output)
            }
        }
    }

    private mutating func parseEscape(into output: inout [UInt8]) throws(JSONSyntaxError) {
        guard position < input.count else { throw error("unterminated escape") }
        let escape = input[position]
        position += 1
        switch escape {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): output.append(escape)
        case UInt8(ascii: "b"): output.append(0x08)
        case UInt8(ascii: "f"): output.append(0x0C)
        case UInt8(ascii: "n"): output.append(0x0A)
        case UInt8(ascii: "r"): output.append(0x0D)
        case UInt8(ascii: "t"): output.append(0x09)
        case UInt8(ascii: "u"):
            var scalar = try hex4()
            if (0xD800..<0xDC00).contains(scalar) {
                guard consume(UInt8(ascii: "\\")), consume(UInt8(ascii: "u")) else { throw error("lone high surrogate") }
                let low = try hex4()
                guard (0xDC00..<0xE000).contains(low) else { throw error("invalid low surrogate") }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            } else if (0xDC00..<0xE000).contains(scalar) {
                throw error("lone low surrogate")
            }
            output += Array(String(Character(Unicode.Scalar(scalar)!)).utf8)
        default:
            throw error("invalid escape")
        }
    }

    private mutating func hex4() throws(JSONSyntaxError) -> UInt32 {
        guard position + 4 <= input.count else { throw error("incomplete \\u escape") }
        var value: UInt32 = 0
        for byte in input[position..<(position + 4)] {
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw error("invalid \\u escape")
            }
            value = value << 4 | UInt32(digit)
        }
        position += 4
        return value
    }

    /// Copies one well-formed multi-byte UTF-8 sequence (no overlongs, no surrogates, ≤ U+10FFFF).
    private mutating func copyUTF8Sequence(into output: inout [UInt8]) throws(JSONSyntaxError) {
        let lead = input[position]
        let length: Int
        var lowerBound: UInt8 = 0x80, upperBound: UInt8 = 0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; lowerBound = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; upperBound = 0x9F
        case 0xF0: length = 4; lowerBound = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; upperBound = 0x8F
        default: throw error("invalid UTF-8")
        }
        guard position + length <= input.count else { throw error("invalid UTF-8") }
        let second = input[position + 1]
        guard (lowerBound...upperBound).contains(second) else { throw error("invalid UTF-8") }
        for index in 2..<max(2, length) where !(0x80...0xBF).contains(input[position + index]) {
            throw error("invalid UTF-8")
        }
        output += input[position..<(position + length)]
        position += length
    }

    // MARK: - Helpers

    private mutating func expectLiteral(_ literal: StaticString) throws(JSONSyntaxError) {
        let bytes = UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount)
        guard position + bytes.count <= input.count, input[position..<(position + bytes.count)].elementsEqual(bytes) else {
            throw error("invalid literal")
        }
        position += bytes.count
    }

    private mutating func consume(_ byte: UInt8) -> Bool {
        guard position < input.count, input[position] == byte else { return false }
        position += 1
        return true
    }

    private mutating func skipWhitespace() {
        while position < input.count {
            switch input[position] {
            case 0x20, 0x09, 0x0A, 0x0D: position += 1
            default: return
            }
        }
    }

    private func error(_ reason: String) -> JSONSyntaxError {
        JSONSyntaxError(reason: reason, offset: position)
    }
}
