import ArgumentParser
import Foundation
import PermIDClient

/// `permid keys rm`: deletes a named key.
struct KeysRemoveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rm",
        abstract: "Delete the key NAME and its seq state from the keyring, after asking.",
        discussion: """
            Asks on stderr and reads the answer from stdin (y or yes removes); --yes does not ask. A removed \
            key cannot be recovered, and its PermID cannot be announced again. Removing the default key makes \
            the key named default the default again.
            Example:
              permid keys rm work --yes
            """
    )

    @Argument(help: "The key's name.")
    var name: String

    @Flag(help: "Remove without asking.")
    var yes = false

    func run() throws {
        let keyring = Keyring.standard()
        let path = try keyring.path(ofKey: name)
        guard FileManager.default.fileExists(atPath: path) else { throw CLIFailure(.local, "no key named \(name) in \(keyring.directory)") }
        if !yes {
            let permID = (try? keyring.key(named: name).permID.text) ?? "unreadable"
            FileHandle.standardError.write("remove key \(name) (\(permID)) from \(keyring.directory)? This cannot be undone. [y/N] ")
            let answer = readLine()?.trimmingCharacters(in: .whitespaces).lowercased()
            guard answer == "y" || answer == "yes" else { throw CLIFailure(.usage, "not removed") }
        }
        try keyring.remove(named: name)
        FileHandle.standardError.write("removed key \(name)\n")
    }
}
