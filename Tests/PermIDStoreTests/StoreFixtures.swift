import Foundation
import PermIDKit
@testable import PermIDStore

/// Small factories for store tests: a temporary directory, a signing key, and signed records.
enum StoreFixtures {
    /// A fresh temporary directory for one test.
    static func temporaryDirectory() -> String {
        let path = NSTemporaryDirectory() + "permid-store-\(UUID().uuidString)"
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// A new store in a fresh directory.
    static func store(sync: SyncMode = .normal) throws -> SQLiteRecordStore {
        try SQLiteRecordStore(path: temporaryDirectory() + "/permid.sqlite", sync: sync)
    }

    static let now: UInt64 = 1_764_028_800

    /// A signed record for `key`, valid for an hour from ``now``.
    static func record(
        _ key: PrivateKey, seq: UInt64, endpoints: [String] = ["203.0.113.5:6881"], expiresAt: UInt64 = now + 3600
    ) -> SignedRecord {
        try! SignedRecord.sign(
            with: key, seq: seq, issuedAt: now, expiresAt: expiresAt, endpoints: endpoints.map { Endpoint($0)! })
    }

    /// The directory holding the test bundle and the package's other built products.
    static var productsDirectory: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .pathComponents.contains(where: { $0.hasSuffix(".xctest") })
            ? URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().deletingLastPathComponent()
            : Bundle.main.bundleURL
    }
}
