import Foundation
import PermIDKit

/// Names for other people's PermIDs, kept beside the keys (`friends` in the ``Keyring``'s directory, 0600).
///
/// The file is UTF-8 text, one friend a line: `NAME PERMID`, separated by one or more spaces or tabs.
/// Blank lines and lines starting with `#` are ignored. Names follow ``Keyring/isValidName(_:)``; each
/// PermID is checked to be a valid public key when the file is read. The file is rewritten atomically.
public struct FriendsList: Hashable, Sendable {
    /// The file.
    public let path: String

    /// The friends list in `path`.
    public init(path: String) {
        self.path = path
    }

    /// The friends list of `keyring`: its `friends` file.
    public init(beside keyring: Keyring) {
        path = keyring.directory + "/friends"
    }

    /// A named PermID.
    public struct Friend: Hashable, Sendable {
        /// The name.
        public let name: String
        /// The PermID.
        public let permID: PermID
    }

    /// Every friend, in the file's order; none when there is no file.
    ///
    /// - Throws: ``ClientError/local(_:)`` when the file is a link, readable by others, or has a line that is
    ///   not `NAME PERMID` (the error names the line).
    public func load() throws(ClientError) -> [Friend] {
        guard try SecureFile.checkPrivateFile(path) else { return [] }
        guard let bytes = SecureFile.read(path) else { throw .local("cannot read \(path)") }
        var friends = [Friend]()
        for (index, line) in String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
            if fields.isEmpty || fields[0].hasPrefix("#") { continue }
            let place = "\(path):\(index + 1)"
            guard fields.count == 2, Self.isFriendName(String(fields[0])) else {
                throw .local("\(place): expected NAME PERMID")
            }
            guard let permID = try? PublicKey(text: fields[1]).permID else { throw .local("\(place): \(fields[0]) has no valid PermID") }
            guard !friends.contains(where: { $0.name == fields[0] }) else { throw .local("\(place): \(fields[0]) is named twice") }
            friends.append(Friend(name: String(fields[0]), permID: permID))
        }
        return friends
    }

    /// Adds the friend `name` for `permID`; with `replace`, an existing friend of that name gets `permID` instead.
    ///
    /// - Throws: ``ClientError/invalidArgument(_:)`` for a name that is not valid or is itself a PermID;
    ///   ``ClientError/local(_:)`` when the name is taken (and `replace` is false) or the file cannot be used.
    public func add(_ name: String, _ permID: PermID, replace: Bool = false) throws(ClientError) {
        guard Self.isFriendName(name) else {
            throw .invalidArgument("\(name.printable) is not a valid friend name (1 to 64 of A-Z a-z 0-9 . _ -, not starting with a dot, and not a PermID)")
        }
        var friends = try load()
        if let index = friends.firstIndex(where: { $0.name == name }) {
            guard replace else { throw .local("\(name) is already a friend (\(friends[index].permID.text)); pass --force to replace it") }
            friends[index] = Friend(name: name, permID: permID)
        } else {
            friends.append(Friend(name: name, permID: permID))
        }
        try save(friends)
    }

    /// Removes the friend `name`.
    ///
    /// - Throws: ``ClientError/local(_:)`` when there is no such friend or the file cannot be used.
    public func remove(_ name: String) throws(ClientError) {
        let friends = try load()
        guard friends.contains(where: { $0.name == name }) else { throw .local("no friend named \(name.printable) in \(path)") }
        try save(friends.filter { $0.name != name })
    }

    /// The PermID `text` stands for: `text` itself when it is a PermID, else the PermID of the friend so named.
    ///
    /// - Throws: ``ClientError/invalidArgument(_:)`` when it is neither; ``ClientError/local(_:)`` when the file cannot be used.
    public func permID(for text: String) throws(ClientError) -> PermID {
        let notAPermID: DirectoryError
        do {
            return try PublicKey(text: text).permID
        } catch {
            notAPermID = error
        }
        if Self.isFriendName(text), let friend = try load().first(where: { $0.name == text }) { return friend.permID }
        throw .invalidArgument("\(String(text.prefix(64)).printable) is neither a friend's name nor a valid PermID: \(notAPermID.detail)")
    }

    /// A valid name (``Keyring/isValidName(_:)``) that does not read as a PermID, so the two never mix.
    private static func isFriendName(_ name: String) -> Bool {
        Keyring.isValidName(name) && (try? PublicKey(text: name)) == nil
    }

    private func save(_ friends: [Friend]) throws(ClientError) {
        var text = "# permid friends: NAME PERMID, one a line\n"
        for friend in friends { text += "\(friend.name) \(friend.permID.text)\n" }
        try SecureFile.write(Array(text.utf8), to: path, replace: true)
    }
}
