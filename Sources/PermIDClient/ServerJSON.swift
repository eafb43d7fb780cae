import PermIDKit

/// A JSON object the directory sent, read with checked conversions only: the directory is never trusted,
/// so a member that is not what it should be reads as absent instead of trapping or wrapping around.
struct ServerJSON {
    private let members: [JSONValue.Member]

    /// Parses `body` strictly; `nil` unless it is one JSON object.
    init?(_ body: [UInt8]) {
        guard case .object(let members)? = try? StrictJSONParser.parse(body) else { return nil }
        self.members = members
    }

    /// A member that is a non-negative integer written without sign, fraction or exponent, and fits 64 bits.
    func integer(_ name: String) -> UInt64? {
        guard case .number(let text)? = value(name) else { return nil }
        return UInt64(digits: text)
    }

    /// A string member, with control characters removed for printing.
    func text(_ name: String) -> String? {
        guard case .string(let text)? = value(name) else { return nil }
        return text.printable
    }

    private func value(_ name: String) -> JSONValue? {
        members.first { $0.name == name }?.value
    }
}

extension UInt64 {
    /// Reads decimal digits only (no sign, space, fraction or exponent); `nil` when the value needs more than 64 bits.
    init?<Text: StringProtocol>(digits text: Text) {
        guard !text.isEmpty, text.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) else { return nil }
        self.init(text, radix: 10)
    }
}
