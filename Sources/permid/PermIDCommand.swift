import ArgumentParser

/// The root command.
struct PermIDCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "permid",
        abstract: "Manage PermIDs, publish where you are, and resolve others — verifying every record yourself.",
        discussion: """
            A PermID is a public key. Its owner signs records saying where it can be reached; a directory \
            (permidd) stores them; `permid resolve` checks each signature locally and never trusts the directory.

            Exit status: 0 ok, 1 usage error, 2 not found, 3 verification failed (forged or invalid record, or a \
            peer's handshake proof), 4 server or network error, 5 local error (key, state, keyring or friends file), 6 a friend's sealed \
            record is not shared with this key (and it has no public record).

            Quick start:
              permid keygen
              permid announce --server http://127.0.0.1:8080 --port 6881
              permid resolve $(permid id --quiet) --server http://127.0.0.1:8080
            """,
        version: "1.0.0",
        subcommands: [
            KeygenCommand.self, IDCommand.self, ImportTriblerCommand.self, AnnounceCommand.self, WithdrawCommand.self,
            ResolveCommand.self, WatchCommand.self, VerifyCommand.self, WhoamiCommand.self, KeysCommand.self, FriendsCommand.self,
            BlindCommand.self, ListenCommand.self, ConnectCommand.self,
        ]
    )
}
