import ArgumentParser
import Foundation
import PermIDKit
import PermIDStore

/// `permidd import FILE`: re-verifies exported records and stores them under the sequence rule.
struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import NDJSON records: each is re-verified, expired ones are skipped, the sequence rule applies.",
        discussion: """
            Of the clock-skew rule only the bound on the future applies: an exported record may be old, \
            but not expired. Prints counts of accepted and rejected records by reason.

            Example:
              permidd import records.ndjson
            """
    )

    @OptionGroup var database: DatabaseOptions

    @Option(help: "Commit durability: full or normal.")
    var sync: SyncMode = .full

    @Option(help: "Allowed seconds an issued_at may be ahead of the clock.")
    var clockSkew: UInt64 = ProtocolConstants.clockSkew

    @Option(help: "Longest allowed expires_at - issued_at, in seconds.")
    var maxTTL: UInt64 = ProtocolConstants.maxTTL

    @Argument(help: "The NDJSON file, or - for standard input.")
    var file: String

    func run() throws {
        let data: Data
        do {
            data = file == "-" ? FileHandle.standardInput.readDataToEndOfFile() : try Data(contentsOf: URL(fileURLWithPath: file))
        } catch {
            throw CommandFailure("cannot read \(file): \(error.localizedDescription)")
        }
        let store = try database.openStore(sync: sync)
        defer { store.close() }
        let validator = RecordValidator(clockSkew: clockSkew, maxTTL: maxTTL)
        let now = UInt64(Date().timeIntervalSince1970)
        var accepted = 0
        var rejected = [String: Int]()
        var batch = [SignedRecord]()
        func flush() throws {
            guard !batch.isEmpty else { return }
            for outcome in try store.announce(batch: batch) {
                if case .stale = outcome { rejected["stale-seq", default: 0] += 1 } else { accepted += 1 }
            }
            batch.removeAll(keepingCapacity: true)
        }
        for line in data.split(separator: 0x0A, omittingEmptySubsequences: true) {
            do {
                batch.append(try validator.validateRecord(json: Array(line), now: now, freshness: .importing))
            } catch {
                rejected[error.slug, default: 0] += 1
            }
            if batch.count == 1_000 { try flush() }
        }
        try flush()
        let reasons = rejected.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        print("accepted \(accepted), rejected \(rejected.values.reduce(0, +))" + (reasons.isEmpty ? "" : " (\(reasons))"))
    }
}
