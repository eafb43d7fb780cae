import ArgumentParser
import Foundation
import PermIDClient
import PermIDKit

/// `permid whoami`: the address a directory sees.
struct WhoamiCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "whoami",
        abstract: "Show the address and port the directory sees for this host, and its clock.",
        discussion: "Example:\n  permid whoami --server http://127.0.0.1:8080"
    )

    @OptionGroup var server: ServerOptions

    @Flag(help: "Print JSON: the directory's whoami answer as the API gives it (server_time in Unix seconds), plus clock_offset_seconds.")
    var json = false

    func run() throws {
        let seen = try server.client().whoami()
        let offset = seen.clockOffset
        if json {
            var writer = JSONWriter()
            writer.beginObject()
            writer.string("ip", seen.ip.description)
            if let port = seen.port { writer.number("port", Int(port)) } else { writer.null("port") }
            writer.number("server_time", seen.serverTime)
            if let offset { writer.number("clock_offset_seconds", Int(offset)) } else { writer.null("clock_offset_seconds") }
            writer.endObject()
            printJSON(writer)
        } else {
            let address = seen.port.map { Endpoint(address: seen.ip, port: $0).description } ?? seen.ip.description
            print(address)
            FileHandle.standardError.write("server time \(isoTime(seen.serverTime)) (offset \(offset.map { "\($0)" } ?? "unknown") s)\n")
        }
    }
}
