import Foundation
import PermIDKit

/// Named private keys under the config directory, as ssh keeps `~/.ssh`:
///
/// ```
/// $XDG_CONFIG_HOME/permid/        0700 (else $HOME/.config/permid)
///   default.pem                   0600  the key named "default" (where `permid keygen` has always written)
///   keys/NAME.pem                 0600  every other named key (PKCS#8 PEM, or IPv8's form for libnacl keys)
///   keys/NAME.pem.seq             0600  the last seq announced with it
///   default-key                   0600  the name of the default key, when it is not "default"
///   friends                       0600  see ``FriendsList``
/// ```
///
/// Names are 1 to 64 of `A-Z a-z 0-9 . _ -`, not starting with a dot. Files are written atomically (temporary
/// file, then rename); a keyring file that is a symbolic link or readable by others is refused, not used.
public struct Keyring: Hashable, Sendable {
    /// The keyring's directory.
    public let directory: String

    /// The name of the key kept in `default.pem`, the default key unless another is chosen.
    public static let defaultName = "default"

    /// A keyring in `directory`.
    public init(directory: String) {
        self.directory = directory
    }

    /// The keyring of this user: `$XDG_CONFIG_HOME/permid`, else `$HOME/.config/permid`.
    ///
    /// - Parameter environment: the environment to read, by default the process's.
    public static func standard(environment: [String: String] = ProcessInfo.processInfo.environment) -> Keyring {
        let config = environment["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? ((environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()) + "/.config")
        return Keyring(directory: config + "/permid")
    }

    /// Whether `name` can name a key or a friend: 1 to 64 of `A-Z a-z 0-9 . _ -`, not starting with a dot.
    public static func isValidName(_ name: String) -> Bool {
        (1...64).contains(name.utf8.count) && name.first != "."
            && name.utf8.allSatisfy { byte in
                (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                    || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_")
                    || byte == UInt8(ascii: "-")
            }
    }

    /// One key of the keyring, as ``list()`` finds it.
    public struct Entry: Hashable, Sendable {
        /// Its name.
        public let name: String
        /// Its file.
        public let path: String
        /// Its PermID, when the file holds a usable key.
        public let permID: PermID?
        /// Whether it is the default key.
        public let isDefault: Bool
        /// Why it cannot be used (a loose mode, a link, an unreadable key), when it cannot.
        public let problem: String?
    }

    // MARK: - Paths

    /// The file of the key called `name`.
    ///
    /// - Throws: ``ClientError/invalidArgument(_:)`` when `name` is not a valid name.
    public func path(ofKey name: String) throws(ClientError) -> String {
        guard Self.isValidName(name) else {
            throw .invalidArgument("\(name.printable) is not a valid key name (1 to 64 of A-Z a-z 0-9 . _ -, not starting with a dot)")
        }
        return name == Self.defaultName ? directory + "/default.pem" : keysDirectory + "/" + name + ".pem"
    }

    private var keysDirectory: String { directory + "/keys" }
    private var defaultMarker: String { directory + "/default-key" }

    /// The name of the default key: the one `default-key` names, else ``defaultName``.
    ///
    /// - Throws: ``ClientError/local(_:)`` when `default-key` is not a private file or names no valid name.
    public func defaultKeyName() throws(ClientError) -> String {
        guard try SecureFile.checkPrivateFile(defaultMarker), let bytes = SecureFile.read(defaultMarker) else { return Self.defaultName }
        let name = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard Self.isValidName(name) else { throw .local("\(defaultMarker) does not hold a key name") }
        return name
    }

    /// Where the key called `nameOrPath` is: a value with a `/` is a path; else the keyring's key of that name
    /// when there is one, else a file of that name in the current directory.
    ///
    /// - Returns: the path, and the name when it is a keyring key (whose files are checked when read).
    /// - Throws: ``ClientError/local(_:)`` when it is neither.
    public func locate(_ nameOrPath: String) throws(ClientError) -> (path: String, name: String?) {
        if !nameOrPath.contains("/") && Self.isValidName(nameOrPath) {
            let path = try path(ofKey: nameOrPath)
            if FileManager.default.fileExists(atPath: path) || SecureFile.isSymlink(path) { return (path, nameOrPath) }
            if !FileManager.default.fileExists(atPath: nameOrPath) {
                throw .local("no key named \(nameOrPath) in \(directory) and no file \(nameOrPath); see `permid keys list`, or create it with `permid keys new \(nameOrPath)`")
            }
        }
        return (nameOrPath, nil)
    }

    // MARK: - Reading

    /// Reads the key called `name`, refusing a file that is a link or readable by others.
    ///
    /// - Throws: ``ClientError/local(_:)`` when it does not exist or cannot be trusted or read.
    public func key(named name: String) throws(ClientError) -> PrivateKey {
        let path = try path(ofKey: name)
        try checkDirectories()
        guard try SecureFile.checkPrivateFile(path) else {
            throw .local("no key named \(name) in \(directory) (\(path)); create it with `permid keys new \(name)`\(name == Self.defaultName ? " or `permid keygen`" : "")")
        }
        return try KeyFile.read(path)
    }

    /// Every key: the key named ``defaultName`` first when it exists, then the others by name.
    ///
    /// - Throws: ``ClientError/local(_:)`` when the keyring directory cannot be trusted or listed.
    public func list() throws(ClientError) -> [Entry] {
        try checkDirectories()
        var names = [String]()
        if FileManager.default.fileExists(atPath: try path(ofKey: Self.defaultName)) { names.append(Self.defaultName) }
        if let files = try? FileManager.default.contentsOfDirectory(atPath: keysDirectory) {
            names += files.filter { $0.hasSuffix(".pem") }.map { String($0.dropLast(4)) }
                .filter { Self.isValidName($0) && $0 != Self.defaultName }.sorted()
        }
        let defaultName = (try? defaultKeyName()) ?? Self.defaultName
        return names.map { name in
            let path = (try? path(ofKey: name)) ?? name
            do {
                return Entry(name: name, path: path, permID: try key(named: name).permID, isDefault: name == defaultName, problem: nil)
            } catch {
                return Entry(name: name, path: path, permID: nil, isDefault: name == defaultName, problem: "\(error)")
            }
        }
    }

    // MARK: - Changing

    /// Stores `key` as `name`.
    ///
    /// - Parameter replace: whether an existing key of that name may be replaced (its seq state is then removed).
    /// - Returns: the key's file.
    /// - Throws: ``ClientError/invalidArgument(_:)`` for a bad name; ``ClientError/local(_:)`` when the name is
    ///   taken (and `replace` is false) or the file cannot be written.
    @discardableResult
    public func add(_ key: PrivateKey, named name: String, replace: Bool = false) throws(ClientError) -> String {
        let path = try path(ofKey: name)
        try checkDirectories()
        if !replace && (FileManager.default.fileExists(atPath: path) || SecureFile.isSymlink(path)) {
            throw .local("a key named \(name) exists (\(path)); pass --force to replace it")
        }
        try KeyFile.write(key, to: path, replace: replace)
        try? FileManager.default.removeItem(atPath: SeqState.path(besideKeyFile: path))
        return path
    }

    /// Deletes the key called `name` and its seq state; when it was the default, ``defaultName`` is again.
    ///
    /// - Throws: ``ClientError/local(_:)`` when there is no such key or it cannot be removed.
    public func remove(named name: String) throws(ClientError) {
        let path = try path(ofKey: name)
        try checkDirectories()
        guard FileManager.default.fileExists(atPath: path) || SecureFile.isSymlink(path) else {
            throw .local("no key named \(name) in \(directory)")
        }
        do {
            try FileManager.default.removeItem(atPath: path)
        } catch {
            throw .local("cannot remove \(path): \(error.localizedDescription)")
        }
        try? FileManager.default.removeItem(atPath: SeqState.path(besideKeyFile: path))
        if (try? defaultKeyName()) == name { try? FileManager.default.removeItem(atPath: defaultMarker) }
    }

    /// Makes the key called `name` the default.
    ///
    /// - Throws: ``ClientError/local(_:)`` when there is no such key or the choice cannot be saved.
    public func setDefault(named name: String) throws(ClientError) {
        _ = try key(named: name)
        if name == Self.defaultName {
            guard FileManager.default.fileExists(atPath: defaultMarker) else { return }
            do {
                try FileManager.default.removeItem(atPath: defaultMarker)
            } catch {
                throw .local("cannot remove \(defaultMarker): \(error.localizedDescription)")
            }
        } else {
            try SecureFile.write(Array("\(name)\n".utf8), to: defaultMarker, replace: true)
        }
    }

    /// Refuses a keyring directory that is a link or open to others.
    private func checkDirectories() throws(ClientError) {
        try SecureFile.checkPrivateDirectory(directory)
        try SecureFile.checkPrivateDirectory(keysDirectory)
    }
}
