import ArgumentParser
import Foundation
import PermIDKit

/// `permid whoami`: the address a directory sees.
struct WhoamiCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "whoami",
        abstract: "Show the address and port the directory sees for this host, and its clock.",
        discussion: "Example:\n  permid whoami --server http://127.0.0.1:8080"
    )

    @OptionGroup var server: ServerOptions

    @Flag(help: "Print JSON.")
    var json = false

    func run() throws {
        let seen = try server.client().whoami()
        if json {
            var writer = JSONWriter()
            writer.beginObject()
            writer.string("ip", seen.ip.description)
            if let port = seen.port { writer.number("port", Int(port)) } else { writer.null("port") }
            writer.string("server_time", isoTime(seen.serverTime))
            writer.number("clock_offset_seconds", Int(Int64(seen.serverTime) - Int64(unixNow())))
            writer.endObject()
            printJSON(writer)
        } else {
            let address = seen.port.map { Endpoint(address: seen.ip, port: $0).description } ?? seen.ip.description
            print(address)
            FileHandle.standardError.write("server time \(isoTime(seen.serverTime)) (offset \(Int64(seen.serverTime) - Int64(unixNow())) s)\n")
        }
    }
}
