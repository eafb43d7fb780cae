import Foundation
import PermIDKit

/// Where an ``Announcer`` keeps the last seq it used with a key: in `KEYFILE.seq` beside a key file, or only
/// in memory for a key that is never written (a single-use PermID).
///
/// The next seq is max(last used + 1, Unix time in milliseconds), so a lost state file still works. No seq
/// more than ``maximumSeqLead`` ahead of this machine's clock is ever used or saved: seq is clock-based, so an
/// honest seq is never near that bound, and a directory (or anyone on the path) that claims more is lying;
/// following it would walk the key towards 2^53 − 1, where no directory accepts it again.
public struct SeqState: Sendable {
    private enum Storage: Sendable {
        case file(String)
        case memory(UInt64)
    }

    private var storage: Storage

    /// The state file beside the key file at `keyPath`: `keyPath + ".seq"`.
    public static func beside(keyFile keyPath: String) -> SeqState { SeqState(storage: .file(path(besideKeyFile: keyPath))) }

    /// The state file of the key file at `keyPath`.
    static func path(besideKeyFile keyPath: String) -> String { keyPath + ".seq" }

    /// State kept only in memory, for a key that is never written.
    public static var inMemory: SeqState { SeqState(storage: .memory(0)) }

    /// The state file, when there is one.
    public var path: String? {
        if case .file(let path) = storage { return path }
        return nil
    }

    /// How far ahead of the clock a seq may ever be, in milliseconds: one day.
    public static let maximumSeqLead: UInt64 = 86_400_000

    /// The highest seq a key may use or save now: Unix time in milliseconds plus ``maximumSeqLead``, at most 2^53 − 1.
    public static func ceiling() -> UInt64 {
        min(SignedRecord.maxSafeInteger, Clock.milliseconds() + maximumSeqLead)
    }

    /// The next seq: max(last used + 1, now in milliseconds).
    ///
    /// - Throws: ``ClientError/local(_:)`` when the state already holds a seq at the ceiling.
    public func next() throws(ClientError) -> UInt64 {
        let last: UInt64
        switch storage {
        case .memory(let seq): last = seq
        case .file(let path):
            let text = SecureFile.read(path).map { String(decoding: $0, as: UTF8.self) } ?? ""
            last = UInt64(digits: text.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        }
        guard last < Self.ceiling() else {
            throw .local("\(path ?? "the seq state") holds seq \(last), more than a day ahead of this machine's clock; fix the clock, or wait until it passes that seq")
        }
        return max(last + 1, Clock.milliseconds())
    }

    /// Records `seq` as used.
    ///
    /// - Throws: ``ClientError/local(_:)`` when `seq` is past ``ceiling()`` or the file cannot be written.
    public mutating func save(_ seq: UInt64) throws(ClientError) {
        guard seq <= Self.ceiling() else {
            throw .local("refusing to save seq \(seq) in \(path ?? "the seq state"): more than a day ahead of this machine's clock")
        }
        switch storage {
        case .memory: storage = .memory(seq)
        case .file(let path): try SecureFile.write(Array("\(seq)\n".utf8), to: path, replace: true)
        }
    }
}

