/// An IPv4 or IPv6 address held as its network-order bytes, with strict text parsing and
/// canonical text output (dotted quad; RFC 5952 for IPv6).
public struct IPAddress: Hashable, Sendable, CustomStringConvertible {
    /// 4 bytes for IPv4, 16 for IPv6, in network order.
    public let bytes: [UInt8]

    /// Wraps 4 or 16 network-order bytes; `nil` for any other length.
    public init?(bytes: [UInt8]) {
        guard bytes.count == 4 || bytes.count == 16 else { return nil }
        self.bytes = bytes
    }

    /// Parses dotted-quad IPv4 (no leading zeros) or RFC 4291 IPv6 text (no zone, no prefix).
    public init?(_ text: some StringProtocol) {
        let utf8 = Array(text.utf8)
        if utf8.contains(UInt8(ascii: ":")) {
            guard let parsed = Self.parseIPv6(utf8) else { return nil }
            bytes = parsed
        } else {
            guard let parsed = Self.parseIPv4(utf8[...]) else { return nil }
            bytes = parsed
        }
    }

    /// 4 for IPv4, 6 for IPv6: the family byte of the signed message.
    public var family: UInt8 { bytes.count == 4 ? 4 : 6 }

    /// Whether this is an IPv6 address of the form ::ffff:a.b.c.d.
    public var isIPv4Mapped: Bool {
        bytes.count == 16 && bytes[0..<10].allSatisfy { $0 == 0 } && bytes[10] == 0xFF && bytes[11] == 0xFF
    }

    /// The IPv4 address inside an IPv4-mapped IPv6 address, or the address itself.
    public var unmapped: IPAddress {
        isIPv4Mapped ? IPAddress(bytes: Array(bytes[12...]))! : self
    }

    /// The canonical text: dotted quad, or RFC 5952 for IPv6 (lowercase, no leading zeros,
    /// the longest run of two or more zero groups, leftmost on a tie, as `::`).
    public var description: String {
        if bytes.count == 4 {
            // At most 15 bytes, written on the stack: the String is a small one, with no allocation
            // (this runs for every endpoint of every record served).
            return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 15) { text in
                var count = 0
                for (index, byte) in bytes.enumerated() {
                    if index > 0 { text[count] = UInt8(ascii: "."); count += 1 }
                    if byte >= 100 { text[count] = UInt8(ascii: "0") + byte / 100; count += 1 }
                    if byte >= 10 { text[count] = UInt8(ascii: "0") + byte / 10 % 10; count += 1 }
                    text[count] = UInt8(ascii: "0") + byte % 10
                    count += 1
                }
                return String(decoding: UnsafeBufferPointer(rebasing: text[..<count]), as: UTF8.self)
            }
        }
        let groups = (0..<8).map { UInt16(bytes[2 * $0]) << 8 | UInt16(bytes[2 * $0 + 1]) }
        var bestStart = -1, bestLength = 0, index = 0
        while index < 8 {
            guard groups[index] == 0 else { index += 1; continue }
            let start = index
            while index < 8 && groups[index] == 0 { index += 1 }
            if index - start > bestLength { bestStart = start; bestLength = index - start }
        }
        let hex = groups.map { String($0, radix: 16) }
        guard bestLength >= 2 else { return hex.joined(separator: ":") }
        let head = hex[0..<bestStart].joined(separator: ":")
        let tail = hex[(bestStart + bestLength)...].joined(separator: ":")
        return head + "::" + tail
    }

    // MARK: - Parsing

    private static func parseIPv4(_ text: ArraySlice<UInt8>) -> [UInt8]? {
        let parts = text.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var output = [UInt8]()
        for part in parts {
            guard (1...3).contains(part.count),
                  part.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
                  part.count == 1 || part.first != UInt8(ascii: "0")
            else { return nil }
            let value = part.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
            guard value <= 255 else { return nil }
            output.append(UInt8(value))
        }
        return output
    }

    private static func parseIPv6(_ text: [UInt8]) -> [UInt8]? {
        var head = text[...], tail: ArraySlice<UInt8>? = nil
        if let range = doubleColon(in: text) {
            head = text[..<range]
            tail = text[(range + 2)...]
            if doubleColon(in: Array(tail!)) != nil { return nil }
        }
        guard let headGroups = groups(head, allowIPv4: tail == nil) else { return nil }
        if let tail {
            guard let tailGroups = groups(tail, allowIPv4: true),
                  headGroups.count + tailGroups.count <= 7
            else { return nil }
            let zeros = [UInt16](repeating: 0, count: 8 - headGroups.count - tailGroups.count)
            return bytes(of: headGroups + zeros + tailGroups)
        }
        return headGroups.count == 8 ? bytes(of: headGroups) : nil
    }

    private static func doubleColon(in text: [UInt8]) -> Int? {
        guard text.count >= 2 else { return nil }
        for index in 0..<(text.count - 1) where text[index] == UInt8(ascii: ":") && text[index + 1] == UInt8(ascii: ":") {
            return index
        }
        return nil
    }

    /// Hex groups separated by single colons; the last may be a dotted IPv4 address (two groups).
    private static func groups(_ text: ArraySlice<UInt8>, allowIPv4: Bool) -> [UInt16]? {
        if text.isEmpty { return [] }
        let parts = text.split(separator: UInt8(ascii: ":"), omittingEmptySubsequences: false)
        var output = [UInt16]()
        for (index, part) in parts.enumerated() {
            if index == parts.count - 1, allowIPv4, part.contains(UInt8(ascii: ".")) {
                guard let v4 = parseIPv4(part) else { return nil }
                output.append(UInt16(v4[0]) << 8 | UInt16(v4[1]))
                output.append(UInt16(v4[2]) << 8 | UInt16(v4[3]))
                continue
            }
            guard (1...4).contains(part.count) else { return nil }
            var value: UInt16 = 0
            for character in part {
                guard let digit = hexDigit(character) else { return nil }
                value = value << 4 | UInt16(digit)
            }
            output.append(value)
        }
        return output.count <= 8 ? output : nil
    }

    private static func hexDigit(_ character: UInt8) -> UInt8? {
        switch character {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): character - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): character - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): character - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    private static func bytes(of groups: [UInt16]) -> [UInt8] {
        groups.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
    }
}
