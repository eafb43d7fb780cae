import Foundation
import PermIDKit
import Testing
@testable import PermIDStore

/// A small tmpfs, so a test can fill the disk or make it read-only for real. Needs the right to mount
/// (root, as on this project's machines and CI); elsewhere these tests are disabled, not passed.
final class TinyFilesystem {
    let path = NSTemporaryDirectory() + "permid-tiny-\(UUID().uuidString)"

    static let canMount: Bool = {
        guard let probe = try? TinyFilesystem(kilobytes: 64) else { return false }
        probe.unmount()
        return true
    }()

    init(kilobytes: Int) throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        guard Self.mount(["-t", "tmpfs", "-o", "size=\(kilobytes)k", "tmpfs", path]) else { throw POSIXError(.EPERM) }
    }

    func remountReadOnly() -> Bool { Self.mount(["-o", "remount,ro", path]) }

    func unmount() {
        _ = Self.run("/bin/umount", [path])
        try? FileManager.default.removeItem(atPath: path)
    }

    private static func mount(_ arguments: [String]) -> Bool { run("/bin/mount", arguments) }

    private static func run(_ tool: String, _ arguments: [String]) -> Bool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }
}

@Suite(.serialized) struct FilesystemFaultTests {
    @Test(.enabled(if: TinyFilesystem.canMount, "needs permission to mount a tmpfs"))
    func aFullDiskAnswers503AndKeepsWhatWasAcknowledged() throws {
        let disk = try TinyFilesystem(kilobytes: 1024)
        defer { disk.unmount() }
        let store = try SQLiteRecordStore(path: disk.path + "/permid.sqlite", sync: .full)
        var acknowledged = [SignedRecord]()
        var failure: DirectoryError?
        for _ in 0..<5_000 {
            let record = StoreFixtures.record(try PrivateKey.generate(.ed25519), seq: 1)
            do {
                _ = try store.announce(record)
                acknowledged.append(record)
            } catch {
                failure = error
                break
            }
        }
        #expect(failure == .serviceUnavailable("the directory's storage is full"), "\(String(describing: failure))")
        #expect(acknowledged.count > 10, "the disk filled before anything was written")
        for record in acknowledged {
            #expect(try store.record(for: record.permID.bytes, now: StoreFixtures.now) == record)
        }
        store.close()
        let check = try SQLiteConnection(path: disk.path + "/permid.sqlite", readOnly: true).statement("PRAGMA integrity_check")
        #expect(try check.step() && check.text(0) == "ok")
    }

    @Test(.enabled(if: TinyFilesystem.canMount, "needs permission to mount a tmpfs"))
    func aReadOnlyDatabaseGivesOneClearError() throws {
        let disk = try TinyFilesystem(kilobytes: 1024)
        defer { disk.unmount() }
        let path = disk.path + "/permid.sqlite"
        let record = StoreFixtures.record(try PrivateKey.generate(.ed25519), seq: 1)
        do {
            let store = try SQLiteRecordStore(path: path)
            _ = try store.announce(record)
            store.close()
        }
        #expect(disk.remountReadOnly())
        do {
            _ = try SQLiteRecordStore(path: path)
            Issue.record("opened a read-only database for writing")
        } catch {
            #expect(error.description.contains("read-only") || error.description.contains("cannot open"), "\(error.description)")
        }
    }
}
