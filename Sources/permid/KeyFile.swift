import Foundation
import PermIDKit

/// Key files on disk: where the default one lives, reading any supported format, writing with mode 0600,
/// and the sequence state kept beside each key.
enum KeyFile {
    /// `$PERMID_KEY`, else `$XDG_CONFIG_HOME/permid/default.pem`, else `~/.config/permid/default.pem`.
    static var defaultPath: String {
        let environment = ProcessInfo.processInfo.environment
        if let key = environment["PERMID_KEY"], !key.isEmpty { return key }
        let config = environment["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? (NSHomeDirectory() + "/.config")
        return config + "/permid/default.pem"
    }

    /// Reads a private key in any supported format.
    static func read(_ path: String) throws -> PrivateKey {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CLIFailure(.local, "cannot read key file \(path); create one with `permid keygen` or pass --key")
        }
        do {
            return try PrivateKey(fileContents: Array(data))
        } catch {
            throw CLIFailure(.local, "\(path) is not a usable private key: \(error)")
        }
    }

    /// The bytes a key is stored as: PKCS#8 PEM, or IPv8's binary form for a dual curve25519 key.
    static func contents(of key: PrivateKey) throws -> [UInt8] {
        do {
            return key.permID.keyType == .libnacl ? try key.ipv8Binary() : Array(try key.pkcs8PEM().utf8)
        } catch {
            throw CLIFailure(.local, "cannot encode the key: \(error)")
        }
    }

    /// Writes `bytes` to `path` with mode 0600, creating the directory (0700); refuses to replace a file unless `force`.
    static func write(_ bytes: [UInt8], to path: String, force: Bool) throws {
        let manager = FileManager.default
        if manager.fileExists(atPath: path) && !force {
            throw CLIFailure(.local, "\(path) exists; pass --force to overwrite it")
        }
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        do {
            try manager.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw CLIFailure(.local, "cannot create \(directory): \(error.localizedDescription)")
        }
        let temporary = path + ".tmp-\(getpid())"
        guard manager.createFile(atPath: temporary, contents: Data(bytes), attributes: [.posixPermissions: 0o600]),
              rename(temporary, path) == 0 else {
            try? manager.removeItem(atPath: temporary)
            throw CLIFailure(.local, "cannot write \(path)")
        }
    }

    /// The sequence state file beside a key: the last seq used with it.
    static func statePath(forKey path: String) -> String { path + ".seq" }

    /// How far ahead of the clock a seq may ever be, in milliseconds: one day. seq is clock-based, so an honest
    /// seq is never near this; a directory (or anyone on the path) that claims more is lying, and following it
    /// would walk the key towards 2^53 − 1, where no directory accepts it again. The server has no such bound:
    /// it is the client's protection, kept here until the protocol's constants move into PermIDKit.
    static let maximumSeqLead: UInt64 = 86_400_000

    /// The highest seq a key may use or save now: Unix time in milliseconds plus ``maximumSeqLead``.
    static func seqCeiling() -> UInt64 {
        min(SignedRecord.maxSafeInteger, unixMilliseconds() + maximumSeqLead)
    }

    /// The next seq for a key: max(last used + 1, now in milliseconds), so a lost state file still works.
    ///
    /// - Throws: ``CLIFailure`` (local) when the state file already holds a seq at the ceiling.
    static func nextSeq(forKey path: String) throws -> UInt64 {
        let text = (try? String(contentsOfFile: statePath(forKey: path), encoding: .utf8)) ?? ""
        let last = UInt64(digits: text.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        guard last < seqCeiling() else {
            throw CLIFailure(.local, "\(statePath(forKey: path)) holds seq \(last), more than a day ahead of this machine's clock; fix the clock, or wait until it passes that seq")
        }
        return max(last + 1, unixMilliseconds())
    }

    /// Records `seq` as used with the key.
    ///
    /// - Throws: ``CLIFailure`` (local) when `seq` is past ``seqCeiling()`` or the file cannot be written.
    static func saveSeq(_ seq: UInt64, forKey path: String) throws {
        guard seq <= seqCeiling() else {
            throw CLIFailure(.local, "refusing to save seq \(seq) in \(statePath(forKey: path)): more than a day ahead of this machine's clock")
        }
        try write(Array("\(seq)\n".utf8), to: statePath(forKey: path), force: true)
    }
}
