import ArgumentParser

/// `permid keys`: the keyring of named keys.
struct KeysCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Manage named keys in the keyring ($XDG_CONFIG_HOME/permid, ~/.config/permid).",
        discussion: """
            Keys live in $XDG_CONFIG_HOME/permid (else $HOME/.config/permid), a 0700 directory: the key named \
            `default` in default.pem (where `permid keygen` writes), every other in keys/NAME.pem, each 0600 \
            with its seq state beside it (NAME.pem.seq). Names are 1 to 64 of A-Z a-z 0-9 . _ -, not starting \
            with a dot. A keyring file that is a symbolic link or readable by others is refused. Every \
            command's --key takes a NAME or a file path.

            Examples:
              permid keys new work --type p256
              permid keys list
              permid keys default work
              permid announce --key work --port 6881
              permid keys rm work --yes
            """,
        subcommands: [KeysNewCommand.self, KeysListCommand.self, KeysRemoveCommand.self, KeysDefaultCommand.self]
    )
}
