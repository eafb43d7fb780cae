/// A JSON value as the strict parser reads it: numbers keep their exact text, objects keep member order.
public indirect enum JSONValue: Hashable, Sendable {
    case null
    case bool(Bool)
    /// A number's exact text as it appeared (RFC 8259 grammar already checked).
    case number(String)
    case string(String)
    case array([JSONValue])
    /// Members in document order; names are unique.
    case object([Member])

    /// One member of an object.
    public struct Member: Hashable, Sendable {
        /// The member name.
        public let name: String
        /// The member value.
        public let value: JSONValue
    }

    /// The JSON type's name, for error details.
    public var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .number: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }
}

/// Why the strict parser refused a document; `offset` is the byte position.
public struct JSONSyntaxError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What is wrong.
    public let reason: String
    /// The byte offset in the input where it was found.
    public let offset: Int

    public var description: String { "\(reason) at byte \(offset)" }
}
