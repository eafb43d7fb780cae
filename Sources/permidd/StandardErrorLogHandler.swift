import Foundation
import Logging
import PermIDKit

/// Writes one line per log event to standard error, as text or as a JSON object: time, level, label,
/// message and metadata. Either way no text a client sent (a header, a path) can break a line or
/// forge a field.
struct StandardErrorLogHandler: LogHandler {
    let label: String
    let format: LogFormat
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let time = Date().formatted(.iso8601)
        let fields = metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 }).sorted(by: { $0.key < $1.key })
        let line: [UInt8]
        switch format {
        case .json:
            var writer = JSONWriter()
            writer.beginObject()
            writer.string("time", time)
            writer.string("level", event.level.rawValue)
            writer.string("logger", label)
            writer.string("message", event.message.description)
            for (key, value) in fields { writer.string(key, "\(value)") }
            writer.endObject()
            line = writer.bytes
        case .text:
            var text = "\(time) \(event.level.rawValue) \(label): \(Self.escaped(event.message.description, inField: false))"
            for (key, value) in fields { text += " \(Self.escaped(key, inField: true))=\(Self.escaped("\(value)", inField: true))" }
            line = Array(text.utf8)
        }
        FileHandle.standardError.write(Data(line + [0x0A]))
    }

    /// `text` with C0 and C1 control characters, DEL and backslashes escaped (`\n`, `\t`, `\\`,
    /// `\x1b` …), and, in a key or value, spaces and `=` too, where they would start another field.
    static func escaped(_ text: String, inField: Bool) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case " " where inField, "=" where inField, _ where scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value):
                result += "\\x" + (scalar.value < 0x10 ? "0" : "") + String(scalar.value, radix: 16)
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }
}
