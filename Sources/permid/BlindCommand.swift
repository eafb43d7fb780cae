import ArgumentParser
import PermIDClient
import PermIDKit

/// `permid blind`: the per-epoch blinded PermID of a long-term PermID (FRIENDS-v1 part A).
struct BlindCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "blind",
        abstract: "Print the blinded PermID of a long-term PermID for an epoch (the current one by default).",
        discussion: """
            An epoch is \(ProtocolConstants.blindingPeriod) seconds (epoch = ⌊unix time / \(ProtocolConstants.blindingPeriod)⌋). \
            Each epoch's blinded PermID is a fresh Ed25519 or EC key that only those who know the long-term \
            PermID can link to it. Ed25519, LibNaCLPK: (blinded to an Ed25519 PermID), p256, p384 and \
            secp256k1 keys can be blinded; the binary curves cannot.

            Examples:
              permid blind                         # the default key's PermID, this epoch
              permid blind MCowBQYDK2VwAyEA... --epoch 20417
              permid blind alice                   # a friend's (permid friends add)
              permid blind --key work.pem --json
            """
    )

    @Argument(help: ArgumentHelp("A long-term PermID, or a friend's name. Default: the PermID of --key.", valueName: "permid|friend"))
    var permid: String?

    @OptionGroup var key: KeyOptions

    @Option(help: ArgumentHelp("The epoch. Default: the current one.", valueName: "n"))
    var epoch: UInt64?

    @Flag(help: "Print JSON: the long-term PermID, the epoch and the blinded PermID.")
    var json = false

    func validate() throws {
        guard permid == nil || key.key == nil else { throw ValidationError("give a PermID (or friend) or --key, not both") }
    }

    func run() throws {
        let longTerm: PermID
        if let permid {
            longTerm = try FriendsList(beside: Keyring.standard()).permID(for: permid)
        } else {
            longTerm = try key.load().key.permID
        }
        let epoch = epoch ?? Blinding.epoch(at: unixNow())
        let blinded: PermID
        do {
            blinded = try longTerm.blinded(epoch: epoch)
        } catch .unsupportedKeyType(let type) {
            throw CLIFailure(.usage, "\(BlindingError.unsupportedKeyType(type))")
        } catch {
            throw CLIFailure(.local, "\(error)")
        }
        if json {
            var writer = JSONWriter()
            writer.beginObject()
            writer.string("permid", longTerm.text)
            writer.number("epoch", epoch)
            writer.string("blinded_permid", blinded.text)
            writer.endObject()
            printJSON(writer)
        } else {
            print(blinded.text)
        }
    }
}
