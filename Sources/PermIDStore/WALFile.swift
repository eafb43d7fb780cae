internal import CSQLite
import Foundation

/// The writer's WAL file, synced by its flusher thread (`full` durability). Owns a read-only
/// descriptor of the file, opened at the first sync and closed in `deinit`; `fdatasync` through any
/// descriptor of a file writes out all of its data, including the frames SQLite wrote through its own.
///
/// Syncing here rather than in SQLite's commit lets the writer commit the next batch while the
/// disk takes this one (the writer waited on `fdatasync` for about half of each commit). The WAL
/// stays the same file while the writer's connection is open: SQLite deletes it only when the last
/// connection closes, and restarts it by writing over it from the start, after a checkpoint has
/// copied and synced every frame into the database file.
final class WALFile: @unchecked Sendable {
    // @unchecked Sendable: only the flusher thread calls `sync`.
    private let path: String
    private var descriptor: Int32 = -1

    init(path: String) { self.path = path }

    deinit {
        if descriptor >= 0 { close(descriptor) }
    }

    /// Writes the WAL's data out to the disk; the first time, its directory entry too (the file may
    /// have been created by this process).
    func sync() throws(SQLiteError) {
        if descriptor < 0 {
            let opened = open(path, O_RDONLY | O_CLOEXEC)
            guard opened >= 0 else { throw Self.failure("cannot open \(path) to sync it") }
            descriptor = opened
            let parent = (path as NSString).deletingLastPathComponent
            let directory = open(parent.isEmpty ? "." : parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            guard directory >= 0 else { throw Self.failure("cannot open the directory of \(path) to sync it") }
            defer { close(directory) }
            guard fsync(directory) == 0 else { throw Self.failure("cannot sync the directory of \(path)") }
        }
        guard fdatasync(descriptor) == 0 else { throw Self.failure("cannot sync \(path)") }
    }

    /// An I/O error (SQLITE_IOERR_FSYNC) naming what failed and errno's reason.
    private static func failure(_ what: String) -> SQLiteError {
        SQLiteError(code: SQLITE_IOERR | (4 << 8), message: "\(what): \(String(cString: strerror(errno)))")
    }
}
