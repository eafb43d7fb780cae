import Foundation

/// Private files (keys, seq state, the friends list): written atomically (temporary file, then rename) with
/// mode 0600 in a 0700 directory, and, where the keyring asks, read only when they are plain files that
/// nobody else can read.
enum SecureFile {
    /// Writes `bytes` to `path` with mode 0600, creating missing directories with mode 0700; refuses to
    /// replace an existing file unless `replace`.
    static func write(_ bytes: [UInt8], to path: String, replace: Bool) throws(ClientError) {
        let manager = FileManager.default
        if !replace && (manager.fileExists(atPath: path) || isSymlink(path)) {
            throw .local("\(path) exists; pass --force to overwrite it")
        }
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        do {
            try manager.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw .local("cannot create \(directory): \(error.localizedDescription)")
        }
        let temporary = path + ".tmp-\(getpid())"
        guard manager.createFile(atPath: temporary, contents: Data(bytes), attributes: [.posixPermissions: 0o600]),
              rename(temporary, path) == 0 else {
            try? manager.removeItem(atPath: temporary)
            throw .local("cannot write \(path)")
        }
    }

    /// Whether `path` is a symbolic link (not followed).
    static func isSymlink(_ path: String) -> Bool {
        var status = stat()
        return lstat(path, &status) == 0 && (status.st_mode & S_IFMT) == S_IFLNK
    }

    /// Checks that `path`, if it exists, is a plain file (not a link) with no permission for group or others.
    ///
    /// - Returns: whether it exists.
    @discardableResult
    static func checkPrivateFile(_ path: String) throws(ClientError) -> Bool {
        var status = stat()
        guard lstat(path, &status) == 0 else { return false }
        switch status.st_mode & S_IFMT {
        case S_IFLNK: throw .local("\(path) is a symbolic link; refusing to use it (keyring files must be plain files)")
        case S_IFREG: break
        default: throw .local("\(path) is not a plain file")
        }
        guard status.st_mode & 0o077 == 0 else {
            throw .local("\(path) has mode \(String(status.st_mode & 0o777, radix: 8)): others can read it; run `chmod 600 \(path)`")
        }
        return true
    }

    /// Checks that the directory `path`, if it exists, is a real directory (not a link) nobody else can
    /// write to, as ssh asks of `~/.ssh` (it is made 0700; one that others can only list is accepted).
    static func checkPrivateDirectory(_ path: String) throws(ClientError) {
        var status = stat()
        guard lstat(path, &status) == 0 else { return }
        switch status.st_mode & S_IFMT {
        case S_IFLNK: throw .local("\(path) is a symbolic link; refusing to use it as the keyring")
        case S_IFDIR: break
        default: throw .local("\(path) is not a directory")
        }
        guard status.st_mode & 0o022 == 0 else {
            throw .local("\(path) has mode \(String(status.st_mode & 0o777, radix: 8)): others can replace what is in it; run `chmod 700 \(path)`")
        }
    }

    /// Reads a file whole.
    static func read(_ path: String) -> [UInt8]? {
        FileManager.default.contents(atPath: path).map { Array($0) }
    }
}
