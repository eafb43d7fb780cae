import ArgumentParser
import Foundation
import PermIDClient
import PermIDKit

/// `permid import-tribler`: adopts an existing Tribler/IPv8 identity unchanged.
struct ImportTriblerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import-tribler",
        abstract: "Import a Tribler/IPv8 private key file so its identity (PermID) can announce unchanged.",
        discussion: """
            Reads what IPv8's private key_to_bin() writes — `LibNaCLSK:` + 64 bytes for curve25519 keys, or SEC1 DER \
            ECPrivateKey for EC keys — and M2Crypto-era PEM `EC PRIVATE KEY` files. EC keys are written as PKCS#8 \
            PEM; curve25519 keys keep IPv8's form, which holds both halves of the dual key. Binary-curve keys sign \
            with ecdsa-sha1 exactly as IPv8 does; curve25519 keys with ed25519.

            Examples:
              permid import-tribler ~/.Tribler/ec_multichain.pem
              permid import-tribler ~/.Tribler/ec_multichain.pem --name tribler
              permid import-tribler ec.pem --out ~/keys/tribler.pem
            """
    )

    @Argument(help: "The Tribler/IPv8 key file.")
    var file: String

    @Option(help: ArgumentHelp("Keep the imported key in the keyring under this name (see `permid keys`).", valueName: "name"))
    var name: String?

    @Option(help: ArgumentHelp("Where to write the imported key. Default: the keyring's key named default.", valueName: "file"))
    var out: String?

    @Flag(help: "Overwrite an existing key.")
    var force = false

    func validate() throws {
        guard name == nil || out == nil else { throw ValidationError("give --name or --out, not both") }
    }

    func run() throws {
        let key = try KeyFile.read(file)
        let path: String
        if let out {
            path = out
            try KeyFile.write(key, to: path, replace: force)
        } else {
            path = try Keyring.standard().add(key, named: name ?? Keyring.defaultName, replace: force)
        }
        print(key.permID.text)
        FileHandle.standardError.write("imported \(key.permID.keyType.name) key (member id \(key.permID.memberID)) to \(path)\n")
    }
}
