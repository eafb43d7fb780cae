// A child process for the store's crash tests: announces records for fresh keys through the store as
// fast as it can, from several threads, and prints "ack SEQ PERMID_HEX" after each acknowledged write,
// one write(2) per line, until it is killed. Usage: store-crash-writer DATABASE [full|normal]
import Foundation
import PermIDKit
import PermIDStore

let arguments = CommandLine.arguments
guard arguments.count >= 2 else {
    FileHandle.standardError.write(Data("usage: store-crash-writer DATABASE [full|normal]\n".utf8))
    exit(1)
}
let sync = arguments.count > 2 ? SyncMode(rawValue: arguments[2]) ?? .full : .full
let store: SQLiteRecordStore
do {
    store = try SQLiteRecordStore(path: arguments[1], sync: sync)
} catch {
    FileHandle.standardError.write(Data("\(error)\n".utf8))
    exit(2)
}
let now = UInt64(Date().timeIntervalSince1970)
DispatchQueue.concurrentPerform(iterations: 4) { _ in
    let key = try! PrivateKey.generate(.ed25519)
    var seq: UInt64 = 1
    while true {
        let record = try! SignedRecord.sign(
            with: key, seq: seq, issuedAt: now, expiresAt: now + 3600, endpoints: [Endpoint("203.0.113.5:6881")!])
        do {
            _ = try store.announce(record)
            FileHandle.standardOutput.write(Data("ack \(seq) \(key.permID.bytes.hexString)\n".utf8))
        } catch {
            FileHandle.standardError.write(Data("write failed: \(error)\n".utf8))
            exit(3)
        }
        seq += 1
    }
}
