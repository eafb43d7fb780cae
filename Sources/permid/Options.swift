import ArgumentParser
import Foundation
import PermIDClient
import PermIDKit

/// `--key`: which private key to use.
struct KeyOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "A key NAME from the keyring (`permid keys list`), or a key FILE (PKCS#8 PEM, or an IPv8 key file); a value with a / is always a file. Default: $PERMID_KEY, else the default key (`permid keys default`).",
        valueName: "name|file"))
    var key: String?

    /// Reads the chosen key, and the file its seq state is kept beside.
    func load() throws -> (key: PrivateKey, path: String) {
        let keyring = Keyring.standard()
        let environment = ProcessInfo.processInfo.environment["PERMID_KEY"].flatMap { $0.isEmpty ? nil : $0 }
        guard let chosen = key ?? environment else {
            let name = try keyring.defaultKeyName()
            return (try keyring.key(named: name), try keyring.path(ofKey: name))
        }
        let (path, name) = try keyring.locate(chosen)
        if let name { return (try keyring.key(named: name), path) }
        return (try KeyFile.read(path), path)
    }
}

/// `--server`: which directory to talk to.
struct ServerOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The directory's base URL. Default: $PERMID_SERVER, else http://127.0.0.1:8080.", valueName: "url"))
    var server: String?

    @Option(help: "Seconds to wait for the directory before giving up.")
    var timeout: Double = 10

    /// A client for the chosen server.
    func client() throws -> DirectoryClient {
        try DirectoryClient(server: server ?? ProcessInfo.processInfo.environment["PERMID_SERVER"] ?? "http://127.0.0.1:8080", timeout: timeout)
    }
}

/// ISO 8601 text for a Unix time, for human output.
func isoTime(_ seconds: UInt64) -> String {
    Date(timeIntervalSince1970: TimeInterval(seconds)).formatted(.iso8601)
}

/// The current Unix time in seconds (0 for a clock set before 1970).
func unixNow() -> UInt64 { UInt64(max(0, Date().timeIntervalSince1970)) }

/// Writes a JSON value made with JSONWriter, plus a newline, to stdout.
func printJSON(_ writer: JSONWriter) {
    print(writer.text)
}
