import ArgumentParser
import Foundation
import PermIDClient
import PermIDKit

/// `permid keys list`: the keyring's keys.
struct KeysListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List the keyring's keys: default mark (*), name, key type and PermID.",
        discussion: "A key that cannot be used (a loose mode, a link, an unreadable file) is listed with the reason.\nExample:\n  permid keys list --json"
    )

    @Flag(help: "Print JSON: one object per key with name, key_type, permid, default and path (or problem).")
    var json = false

    func run() throws {
        let keyring = Keyring.standard()
        let entries = try keyring.list()
        if json {
            var writer = JSONWriter()
            writer.beginArray()
            for entry in entries {
                writer.beginObject()
                writer.string("name", entry.name)
                if let permID = entry.permID {
                    writer.string("key_type", permID.keyType.name)
                    writer.string("permid", permID.text)
                }
                writer.value("default", .bool(entry.isDefault))
                writer.string("path", entry.path)
                if let problem = entry.problem { writer.string("problem", problem) }
                writer.endObject()
            }
            writer.endArray()
            printJSON(writer)
            return
        }
        guard !entries.isEmpty else {
            FileHandle.standardError.write("no keys in \(keyring.directory); make one with `permid keys new NAME`\n")
            return
        }
        let width = entries.map(\.name.count).max() ?? 0
        for entry in entries {
            let name = entry.name.padding(toLength: width, withPad: " ", startingAt: 0)
            let rest = entry.permID.map { "\($0.keyType.name.padding(toLength: 9, withPad: " ", startingAt: 0))  \($0.text)" } ?? "unusable: \(entry.problem ?? "")"
            print("\(entry.isDefault ? "*" : " ") \(name)  \(rest)")
        }
    }
}
