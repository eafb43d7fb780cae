import ArgumentParser
import Foundation
import PermIDClient
import PermIDKit

/// `permid verify`: checks a record offline.
struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Verify a record (JSON) offline: signature, PermID, shape and that it has not expired.",
        discussion: """
            Examples:
              curl -s http://127.0.0.1:8080/v1/peers/ID | permid verify -
              permid verify record.json
            Exit status 0 if valid, 3 if not.
            """
    )

    @Argument(help: "The record file, or - for standard input.")
    var file: String

    func run() throws {
        let data: Data?
        if file == "-" {
            data = FileHandle.standardInput.readDataToEndOfFile()
        } else {
            data = FileManager.default.contents(atPath: file)
        }
        guard let data else { throw CLIFailure(.local, "cannot read \(file)") }
        do {
            let record = try RecordValidator().validateRecord(json: Array(data), now: unixNow(), freshness: .standalone)
            let targets = record.isWithdrawal ? "withdrawn" : record.endpoints.map(\.description).joined(separator: " ")
            print("valid: \(record.permID.text) seq \(record.seq): \(targets), valid until \(isoTime(record.expiresAt))")
        } catch {
            throw CLIFailure(.verificationFailed, "invalid record: \(error.title): \(error.detail)".printable)
        }
    }
}
