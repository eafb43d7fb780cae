import ArgumentParser
import Foundation
import PermIDClient
import PermIDKit

/// `permid keygen`: makes a new identity.
struct KeygenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Generate a new private key (a new PermID) and print the PermID.",
        discussion: """
            The key is written as PKCS#8 PEM with mode 0600 (an IPv8 dual curve25519 key, --type libnacl, \
            in IPv8's own binary form). An existing file is never replaced without --force. Without --out \
            it is the keyring's key named `default`; `permid keys new NAME` makes other named keys.

            Examples:
              permid keygen
              permid keygen --type p256 --out ~/keys/work.pem
              permid keygen --type libnacl --out tribler-style.key
            """
    )

    @Option(help: "Key type.")
    var type: KeyType = .ed25519

    @Option(help: ArgumentHelp("Where to write the key. Default: $PERMID_KEY, else the keyring's key named default ($XDG_CONFIG_HOME/permid/default.pem, ~/.config/permid/default.pem).", valueName: "file"))
    var out: String?

    @Flag(help: "Overwrite an existing file.")
    var force = false

    func run() throws {
        let key = try newKey(type)
        let environment = ProcessInfo.processInfo.environment["PERMID_KEY"].flatMap { $0.isEmpty ? nil : $0 }
        let path: String
        if let target = out ?? environment {
            path = target
            try KeyFile.write(key, to: path, replace: force)
        } else {
            path = try Keyring.standard().add(key, named: Keyring.defaultName, replace: force)
        }
        print(key.permID.text)
        FileHandle.standardError.write("wrote \(key.permID.keyType.name) key to \(path)\n")
    }
}

extension FileHandle {
    /// Writes UTF-8 text.
    func write(_ text: String) { write(Data(text.utf8)) }
}

/// A fresh private key of `type`, or the CLI's local failure (exit status 5).
func newKey(_ type: KeyType) throws -> PrivateKey {
    do {
        return try PrivateKey.generate(type)
    } catch {
        throw CLIFailure(.local, "key generation failed: \(error)")
    }
}
