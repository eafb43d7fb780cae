import ArgumentParser

/// `permid friends`: names for other people's PermIDs.
struct FriendsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "friends",
        abstract: "Name other people's PermIDs; a friend's name works wherever a PermID is taken.",
        discussion: """
            The list is the file friends beside the keys ($XDG_CONFIG_HOME/permid/friends, mode 0600): one \
            `NAME PERMID` a line, # comments. Names are 1 to 64 of A-Z a-z 0-9 . _ - (not starting with a dot, \
            and never a PermID); every PermID is checked when added and when read.

            Examples:
              permid friends add alice MCowBQYDK2VwAyEA...
              permid friends list
              permid resolve alice
              permid friends rm alice
            """,
        subcommands: [FriendsAddCommand.self, FriendsListCommand.self, FriendsRemoveCommand.self]
    )
}
