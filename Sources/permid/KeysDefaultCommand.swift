import ArgumentParser
import Foundation
import PermIDClient

/// `permid keys default`: shows or chooses the default key.
struct KeysDefaultCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "default",
        abstract: "Make NAME the default key (used when there is no --key or $PERMID_KEY); without NAME, print the default's name.",
        discussion: "The choice is kept in the keyring's default-key file; `permid keys default default` goes back to default.pem.\nExample:\n  permid keys default work"
    )

    @Argument(help: "The key's name.")
    var name: String?

    func run() throws {
        let keyring = Keyring.standard()
        guard let name else {
            print(try keyring.defaultKeyName())
            return
        }
        try keyring.setDefault(named: name)
        FileHandle.standardError.write("default key: \(name)\n")
    }
}
