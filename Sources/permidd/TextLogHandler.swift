import Foundation
import Logging

/// Writes one text line per log event to standard error: `time level label: message key=value …`.
/// Every value is escaped, so no text a client sent (a header, a path) can break a line or forge a
/// field: control characters, backslashes and spaces become `\n`, `\t`, `\\`, `\x1b`, `\x20`-style escapes.
struct TextLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var line = "\(Date().formatted(.iso8601)) \(event.level.rawValue) \(label): \(Self.escaped(event.message.description, spaces: false))"
        for (key, value) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 }).sorted(by: { $0.key < $1.key }) {
            line += " \(Self.escaped(key, spaces: true))=\(Self.escaped("\(value)", spaces: true))"
        }
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    /// `text` with C0 and C1 control characters, DEL and backslashes escaped (and spaces too, in
    /// keys and values, where a space would start a new field).
    static func escaped(_ text: String, spaces: Bool) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case " " where spaces: result += "\\x20"
            case "=" where spaces: result += "\\x3d"
            case _ where scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value):
                result += "\\x" + String(scalar.value, radix: 16).leftPadded(to: 2)
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
