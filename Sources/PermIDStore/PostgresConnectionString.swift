internal import CPostgres
import Foundation

/// Where a PostgreSQL database is: a `postgresql://` or `postgres://` URI, or a libpq keyword string
/// (`host=… dbname=…`), checked by libpq's own parser. Its ``description`` masks the password, and
/// so does ``masking(_:)`` for any text that might echo it.
public struct PostgresConnectionString: Sendable, Hashable, CustomStringConvertible {
    /// The string as given, for libpq only; never logged.
    let conninfo: String
    private let password: String?

    /// Whether `text` names a PostgreSQL database rather than an SQLite file: a `postgresql://` or
    /// `postgres://` URI, or a string of `keyword=value` pairs.
    public static func names(_ text: String) -> Bool {
        text.hasPrefix("postgresql://") || text.hasPrefix("postgres://")
            || text.range(of: #"^\s*[a-z_]+\s*=\s*\S"#, options: .regularExpression) != nil
    }

    /// Parses `text` with libpq.
    ///
    /// - Throws: ``PostgresError`` naming what is wrong, with any password masked.
    public init(_ text: String) throws(PostgresError) {
        var errorMessage: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(text, &errorMessage) else {
            let message = errorMessage.map { String(cString: $0) } ?? "cannot parse the connection string"
            PQfreemem(errorMessage)
            let masked = Self.maskInline(message.trimmingCharacters(in: .whitespacesAndNewlines))
            throw PostgresError(message: "invalid PostgreSQL connection string: \(masked)")
        }
        defer { PQconninfoFree(options) }
        var password: String?
        var option = options
        while let keyword = option.pointee.keyword {
            if String(cString: keyword) == "password", let value = option.pointee.val {
                password = String(cString: value)
            }
            option += 1
        }
        conninfo = text
        self.password = password.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The string with its password replaced by `***`.
    public var description: String { masking(Self.maskInline(conninfo)) }

    /// `text` with every occurrence of the password replaced by `***`.
    public func masking(_ text: String) -> String {
        guard let password else { return text }
        return text.replacingOccurrences(of: password, with: "***")
    }

    /// Masks the password of a URI's user-info (`user:secret@`) and of `password=` parameters.
    private static func maskInline(_ text: String) -> String {
        text.replacingOccurrences(of: #"(://[^:/@?]*:)[^@/?]*@"#, with: "$1***@", options: .regularExpression)
            .replacingOccurrences(of: #"(password\s*=\s*)('([^'\\]|\\.)*'|[^\s&]*)"#, with: "$1***", options: .regularExpression)
    }
}
