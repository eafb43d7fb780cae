import ArgumentParser
import Foundation
import PermIDClient
import PermIDKit

/// `permid watch`: follows a PermID's record as it changes, with the directory's long-poll.
struct WatchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Print a PermID's record each time it changes, verified here.",
        discussion: """
            Prints the current record, then waits in the directory (GET …?wait=) until another record is \
            stored and prints that one, and so on until stopped (or --count records). Each record is \
            verified as `resolve` does; a record that does not verify is reported on stderr and not \
            printed. When no live record is left, a line says so on stderr. On errors it backs off \
            (1 s doubling to 60 s; a 429 or 503 asks for its Retry-After, within 1 s … 1 h).

            Output: a line per record (`TIME seq N: IP:PORT …, valid until TIME`), or with --json the \
            signed record itself, one JSON object per line (NDJSON).

            Examples:
              permid watch MCowBQYDK2VwAyEA...
              permid watch alice --json
            """
    )

    @OptionGroup var server: ServerOptions

    @Argument(help: ArgumentHelp("The PermID (base64url), or a friend's name.", valueName: "permid|friend"))
    var target: String

    @Option(help: "Seconds each request waits in the directory, 1 to 300.")
    var wait = 60

    @Option(help: "Exit after printing this many records (default: run until stopped).")
    var count: Int?

    @Flag(help: "Print each record as its signed JSON, one per line (NDJSON).")
    var json = false

    func validate() throws {
        guard ProtocolConstants.watchSeconds.contains(wait) else { throw ValidationError("--wait must be from 1 to 300") }
        guard count.map({ $0 >= 1 }) ?? true else { throw ValidationError("--count must be at least 1") }
    }

    func run() throws {
        // Stopped by SIGINT or SIGTERM at any point (nothing to clean up), even when started with them
        // blocked by a parent process.
        var signals = sigset_t()
        sigemptyset(&signals)
        sigaddset(&signals, SIGINT)
        sigaddset(&signals, SIGTERM)
        pthread_sigmask(SIG_UNBLOCK, &signals, nil)
        let permID = try FriendsList(beside: Keyring.standard()).permID(for: target)
        let client = try server.client()
        var known: UInt64?
        var printed = 0
        var backoff = 0.0
        var first = true
        while count.map({ printed < $0 }) ?? true {
            let update: Resolution?
            do {
                update = first ? try client.resolve(permID) : try client.watch(permID, knownSeq: known, seconds: wait)
                first = false
            } catch {
                backoff = min(max(1, backoff * 2), 60)
                let pause = if case .refused(let refusal) = error, let asked = refusal.retryAfter { asked } else { backoff }
                FileHandle.standardError.write("permid: \(error.description); trying again in \(Int(pause)) s\n")
                Thread.sleep(forTimeInterval: pause)
                continue
            }
            switch update {
            case nil:
                backoff = 0
            case .found(let record):
                backoff = 0
                guard record.seq != known else { continue }
                known = record.seq
                printed += 1
                // Written unbuffered, one line per record, so a pipe sees each at once.
                if json {
                    FileHandle.standardOutput.write(String(decoding: record.json, as: UTF8.self) + "\n")
                } else {
                    let targets = record.isWithdrawal ? "withdrawn" : record.endpoints.map(\.description).joined(separator: ", ")
                    FileHandle.standardOutput.write("\(isoTime(unixNow())) seq \(record.seq): \(targets), valid until \(isoTime(record.expiresAt))\n")
                }
            case .notFound:
                backoff = 0
                known = nil
                FileHandle.standardError.write("permid: \(target.printable): no live record\n")
            case .forged(let reason):
                // A directory serving something that does not verify: say so, print nothing, and wait
                // before asking again (the same answer would come back at once).
                backoff = min(max(1, backoff * 2), 60)
                FileHandle.standardError.write("permid: \(target.printable): FORGED record refused: \(reason)\n")
                Thread.sleep(forTimeInterval: backoff)
            }
        }
    }
}
