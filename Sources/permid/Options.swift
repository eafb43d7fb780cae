import ArgumentParser
import Foundation
import PermIDKit

/// `--key`: which private key file to use.
struct KeyOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "The private key file (PKCS#8 PEM, or an IPv8 key file). Default: $PERMID_KEY, else $XDG_CONFIG_HOME/permid/default.pem (~/.config/permid/default.pem).",
        valueName: "file"))
    var key: String?

    /// The key file path after applying the environment and the default.
    var path: String { key ?? KeyFile.defaultPath }

    /// Reads the key.
    func load() throws -> PrivateKey { try KeyFile.read(path) }
}

/// `--server`: which directory to talk to.
struct ServerOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The directory's base URL. Default: $PERMID_SERVER, else http://127.0.0.1:8080.", valueName: "url"))
    var server: String?

    @Option(help: "Seconds to wait for the directory before giving up.")
    var timeout: Double = 10

    /// A client for the chosen server.
    func client() throws -> DirectoryClient {
        let text = server ?? ProcessInfo.processInfo.environment["PERMID_SERVER"] ?? "http://127.0.0.1:8080"
        guard let url = URL(string: text), let scheme = url.scheme, ["http", "https"].contains(scheme), url.host != nil else {
            throw CLIFailure(.usage, "--server \(text) is not an http(s) URL")
        }
        return DirectoryClient(base: url, timeout: timeout)
    }
}

/// ISO 8601 text for a Unix time, for human output.
func isoTime(_ seconds: UInt64) -> String {
    Date(timeIntervalSince1970: TimeInterval(seconds)).formatted(.iso8601)
}

/// The current Unix time in seconds (0 for a clock set before 1970).
func unixNow() -> UInt64 { UInt64(max(0, Date().timeIntervalSince1970)) }

/// The current Unix time in milliseconds (0 for a clock set before 1970).
func unixMilliseconds() -> UInt64 { UInt64(max(0, Date().timeIntervalSince1970 * 1000)) }

/// Seconds a directory's `server_time` is ahead of this machine's clock (negative when behind), without
/// trapping on any value: `nil` when the difference does not fit 64 bits.
func secondsAhead(of serverTime: UInt64) -> Int64? {
    guard let server = Int64(exactly: serverTime), let local = Int64(exactly: unixNow()) else { return nil }
    let (offset, overflow) = server.subtractingReportingOverflow(local)
    return overflow ? nil : offset
}

/// Writes a JSON value made with JSONWriter, plus a newline, to stdout.
func printJSON(_ writer: JSONWriter) {
    print(writer.text)
}
