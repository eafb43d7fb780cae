import ArgumentParser
import Foundation
import PermIDClient

// permid: keys, announcements and verified resolution for PermID directories.
// Exit status: 0 ok, 1 usage, 2 not found, 3 verification failed, 4 server or network error, 5 local error,
// 6 not shared with you (a friend's sealed record has no box for this key).
do {
    var command = try PermIDCommand.parseAsRoot()
    try command.run()
} catch let failure as CLIFailure {
    FileHandle.standardError.write(Data("permid: \(failure.message)\n".utf8))
    exit(failure.status.rawValue)
} catch let error as ClientError {
    let failure = CLIFailure(error)
    FileHandle.standardError.write(Data("permid: \(failure.message)\n".utf8))
    exit(failure.status.rawValue)
} catch {
    let code = PermIDCommand.exitCode(for: error)
    if code == .success {
        print(PermIDCommand.fullMessage(for: error))
        exit(0)
    }
    FileHandle.standardError.write(Data((PermIDCommand.fullMessage(for: error) + "\n").utf8))
    exit(CLIFailure.Status.usage.rawValue)
}
