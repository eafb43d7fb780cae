import Foundation
import Logging
import PermIDKit

/// Writes one JSON object per log line to standard error: time, level, label, message and metadata.
struct JSONLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var writer = JSONWriter()
        writer.beginObject()
        writer.string("time", Date().formatted(.iso8601))
        writer.string("level", event.level.rawValue)
        writer.string("logger", label)
        writer.string("message", event.message.description)
        for (key, value) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 }).sorted(by: { $0.key < $1.key }) {
            writer.string(key, "\(value)")
        }
        writer.endObject()
        FileHandle.standardError.write(Data(writer.bytes + [0x0A]))
    }
}
