import ArgumentParser
import Foundation
import PermIDClient
import PermIDKit

/// `permid keys new`: makes a named key.
struct KeysNewCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "new",
        abstract: "Generate a new key under NAME in the keyring and print its PermID.",
        discussion: "Examples:\n  permid keys new work\n  permid keys new tribler --type libnacl"
    )

    @Argument(help: "The key's name.")
    var name: String

    @Option(help: "Key type.")
    var type: KeyType = .ed25519

    @Flag(help: "Replace an existing key of that name.")
    var force = false

    func run() throws {
        let key = try newKey(type)
        let path = try Keyring.standard().add(key, named: name, replace: force)
        print(key.permID.text)
        FileHandle.standardError.write("wrote \(key.permID.keyType.name) key \(name) to \(path)\n")
    }
}
