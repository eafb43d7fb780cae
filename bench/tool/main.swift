// Data and store-level measurements for `make bench`. Subcommands:
//   preload DATABASE COUNT SAMPLE_OUT SAMPLE     N signed Ed25519 records straight into the store;
//                                                writes SAMPLE PermIDs (one per line) for load scripts
//   announcements TYPE COUNT OUT                 pre-signed PUT requests (path TAB body per line)
//   commit DATABASE COUNT                        commits/s: group commit vs one transaction per write (FULL)
//   lookup DATABASE SAMPLE_FILE SECONDS SEED     point lookups/s through the store on one thread, PermIDs
//                                                drawn by SplitMix64(SEED) as bench/ceiling/sqlite_lookup.c does
//   tombstones DIRECTORY [TOMBSTONES] [LIVE]     a 1,000-record page and the counts behind /metrics, over
//                                                LIVE live records alone and with TOMBSTONES tombstones
//                                                (defaults 1,000,000 and 1,000); leaves DIRECTORY/tombstones.sqlite
//   preload-sealed DATABASE COUNT SAMPLE_OUT     N signed sealed records (8 boxes of 208 bytes, as for
//                                                X25519 friends) straight into the store, every PermID in SAMPLE_OUT
//   sealing ROUNDS                               medians (µs) of blinding + signing a sealed record, of sealing
//                                                for 8 friends, of opening one box, and of opening a record of
//                                                64 boxes whose own box is the last (every core), per KEM
import Foundation
import PermIDClient
import PermIDKit
import PermIDStore
import Synchronization

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("permid-bench: \(message)\n".utf8))
    exit(1)
}

let arguments = Array(CommandLine.arguments.dropFirst())
let now = UInt64(Date().timeIntervalSince1970)

/// Signs `count` records with fresh keys of `type`, in parallel, seq 1, valid for a day.
func signedRecords(_ type: KeyType, count: Int, endpoint: @escaping @Sendable (Int) -> Endpoint) -> [SignedRecord] {
    let results = Mutex<[SignedRecord?]>(Array(repeating: nil, count: count))
    let workers = ProcessInfo.processInfo.activeProcessorCount
    DispatchQueue.concurrentPerform(iterations: workers) { worker in
        var local = [(Int, SignedRecord)]()
        for index in stride(from: worker, to: count, by: workers) {
            let key = try! PrivateKey.generate(type)
            local.append((index, try! SignedRecord.sign(with: key, seq: 1, issuedAt: now, expiresAt: now + 86_400, endpoints: [endpoint(index)])))
        }
        results.withLock { for (index, record) in local { $0[index] = record } }
    }
    return results.withLock { $0.map { $0! } }
}

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

/// Globally reachable addresses (203.0.114.0–203.0.116.255, past the TEST-NET-3 documentation range),
/// which a directory under `--endpoint-policy any` accepts without `--allow-private`; nothing connects to them.
func publicEndpoint(_ index: Int) -> Endpoint {
    Endpoint(address: IPAddress(bytes: [203, 0, UInt8(114 + index % 3), UInt8(1 + index % 250)])!, port: UInt16(1024 + index % 60_000))
}

switch arguments.first {
case "preload":
    guard arguments.count == 5, let count = Int(arguments[2]), let sample = Int(arguments[4]) else { fail("usage: preload DATABASE COUNT SAMPLE_OUT SAMPLE") }
    let store = try SQLiteRecordStore(path: arguments[1], sync: .normal)
    var written = 0
    var permIDs = [String]()
    let chunk = 50_000
    while written < count {
        let offset = written
        let records = signedRecords(.ed25519, count: min(chunk, count - written), endpoint: { publicEndpoint(offset + $0) })
        for batch in stride(from: 0, to: records.count, by: 5_000) {
            _ = try store.announce(batch: Array(records[batch..<min(batch + 5_000, records.count)]))
        }
        permIDs += records.prefix(max(0, sample - permIDs.count)).map(\.permID.text)
        written += records.count
    }
    store.close()
    try (permIDs.joined(separator: "\n") + "\n").write(toFile: arguments[3], atomically: true, encoding: .utf8)
    print("preloaded \(written)")

case "announcements":
    guard arguments.count == 4, let type = KeyType(name: arguments[1]), let count = Int(arguments[2]) else {
        fail("usage: announcements TYPE COUNT OUT")
    }
    let records = signedRecords(type, count: count, endpoint: publicEndpoint)
    let lines = records.map { "/v1/peers/\($0.permID.text)\t" + String(decoding: $0.json, as: UTF8.self) }
    try (lines.joined(separator: "\n") + "\n").write(toFile: arguments[3], atomically: true, encoding: .utf8)
    print("signed \(count)")

case "commit":
    guard arguments.count == 3, let count = Int(arguments[2]) else { fail("usage: commit DATABASE COUNT") }
    let records = signedRecords(.ed25519, count: 2 * count, endpoint: publicEndpoint)
    let store = try SQLiteRecordStore(path: arguments[1], sync: .full)
    let clock = ContinuousClock()
    var start = clock.now
    for record in records[0..<count] { _ = try store.announce(record) }
    let single = Double(count) / seconds(clock.now - start)
    start = clock.now
    // 64 real threads (concurrentPerform would run only one per core), each waiting for its commit.
    let group = DispatchGroup()
    for worker in 0..<64 {
        group.enter()
        Thread {
            for index in stride(from: count + worker, to: 2 * count, by: 64) { _ = try! store.announce(records[index]) }
            group.leave()
        }.start()
    }
    group.wait()
    let grouped = Double(count) / seconds(clock.now - start)
    store.close()
    print(String(format: "{\"single_commits_per_s\": %.1f, \"group_commits_per_s\": %.1f}", single, grouped))

case "lookup":
    guard arguments.count == 5, let duration = Double(arguments[3]), var state = UInt64(arguments[4]) else {
        fail("usage: lookup DATABASE SAMPLE_FILE SECONDS SEED")
    }
    // SplitMix64, the same sequence as bench/ceiling/sqlite_lookup.c: no system call per draw.
    func nextRandom() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    let store = try SQLiteRecordStore(path: arguments[1], sync: .normal)
    let permIDs = try String(contentsOfFile: arguments[2], encoding: .utf8).split(separator: "\n").map { Base64URL.decode($0)! }
    let clock = ContinuousClock()
    let start = clock.now
    var done = 0
    while seconds(clock.now - start) < duration {
        for _ in 0..<1_000 {
            guard try store.record(for: permIDs[Int(nextRandom() % UInt64(permIDs.count))], now: now) != nil else { fail("missing record") }
        }
        done += 1_000
    }
    store.close()
    print(String(format: "{\"store_lookups_per_s\": %.1f}", Double(done) / seconds(clock.now - start)))

case "tombstones":
    guard (2...4).contains(arguments.count), let tombstones = Int(arguments.dropFirst(2).first ?? "1000000"),
          let live = Int(arguments.dropFirst(3).first ?? "1000")
    else { fail("usage: tombstones DIRECTORY [TOMBSTONES] [LIVE]") }
    try FileManager.default.createDirectory(atPath: arguments[1], withIntermediateDirectories: true)
    let liveOnly = arguments[1] + "/live-only.sqlite", withTombstones = arguments[1] + "/tombstones.sqlite"
    for path in [liveOnly, withTombstones] {
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    }
    let liveRecords = signedRecords(.ed25519, count: live, endpoint: publicEndpoint)
    var store = try SQLiteRecordStore(path: liveOnly, sync: .normal)
    _ = try store.announce(batch: liveRecords)
    store.close()

    // Tombstones as the sweeper leaves them: expired records (the store does not check signatures)
    // announced in batches, then swept.
    let clock = ContinuousClock()
    var start = clock.now
    store = try SQLiteRecordStore(path: withTombstones, sync: .normal)
    _ = try store.announce(batch: liveRecords)
    let ed25519Prefix = Array(try PrivateKey.generate(.ed25519).permID.bytes.prefix(12))
    var generator = SystemRandomNumberGenerator()
    for batchStart in stride(from: 0, to: tombstones, by: 10_000) {
        let batch = (batchStart..<min(batchStart + 10_000, tombstones)).map { index in
            let key = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
            return SignedRecord(
                permID: PermID(validatedBytes: ed25519Prefix + key, keyType: .ed25519), scheme: .ed25519, seq: 1,
                issuedAt: now - 7_200, expiresAt: now - 3_600, endpoints: [publicEndpoint(index)], signature: Array(repeating: 0, count: 64))
        }
        _ = try store.announce(batch: batch)
        while try store.sweep(now: now, limit: 10_000) > 0 {}
    }
    store.close()
    let buildSeconds = seconds(clock.now - start)

    /// The median of `rounds` timings of `body`, in milliseconds, after `rounds / 10` to warm the caches.
    func medianMilliseconds(rounds: Int, _ body: () throws -> Void) rethrows -> Double {
        for _ in 0..<max(1, rounds / 10) { try body() }
        var timings = [Double]()
        for _ in 0..<rounds {
            start = clock.now
            try body()
            timings.append(seconds(clock.now - start) * 1_000)
        }
        return timings.sorted()[rounds / 2]
    }
    var figures = [String: Double]()
    for (name, path) in [("live_only", liveOnly), ("tombstones", withTombstones)] {
        let store = try SQLiteRecordStore(path: path, sync: .normal)
        let counts = try store.counts(now: now)
        guard counts.live == live, try store.list(after: nil, address: nil, limit: 1_000, now: now).records.count == min(live, 1_000) else {
            fail("\(path): expected \(live) live records, counted \(counts)")
        }
        figures["page_ms_\(name)"] = try medianMilliseconds(rounds: 200) {
            _ = try store.list(after: nil, address: nil, limit: 1_000, now: now)
        }
        figures["counts_ms_\(name)"] = try medianMilliseconds(rounds: 2_000) { _ = try store.counts(now: now) }
        figures["records_\(name)"] = Double(counts.records)
        figures["db_bytes_\(name)"] = Double(counts.storageBytes)
        store.close()
    }
    figures["page_ratio"] = figures["page_ms_tombstones"]! / figures["page_ms_live_only"]!
    figures["build_s"] = buildSeconds
    let body = figures.sorted { $0.key < $1.key }.map { "\"\($0.key)\": \(String(format: "%.4f", $0.value))" }
    print("{" + body.joined(separator: ", ") + "}")

case "preload-sealed":
    guard arguments.count == 4, let count = Int(arguments[2]) else { fail("usage: preload-sealed DATABASE COUNT SAMPLE_OUT") }
    let store = try SQLiteRecordStore(path: arguments[1], sync: .normal)
    let records = Mutex<[SignedRecord?]>(Array(repeating: nil, count: count))
    let workers = ProcessInfo.processInfo.activeProcessorCount
    DispatchQueue.concurrentPerform(iterations: workers) { worker in
        var generator = SystemRandomNumberGenerator()
        var local = [(Int, SignedRecord)]()
        for index in stride(from: worker, to: count, by: workers) {
            let boxes = (0..<8).map { _ in (0..<SealingKEM.x25519.boxLength).map { _ in UInt8.random(in: 0...255, using: &generator) } }
            let key = try! PrivateKey.generate(.ed25519)
            local.append((index, try! SignedRecord.sign(with: key, seq: 1, issuedAt: now, expiresAt: now + 86_400, content: .sealed(boxes))))
        }
        records.withLock { for (index, record) in local { $0[index] = record } }
    }
    let all = records.withLock { $0.map { $0! } }
    for batch in stride(from: 0, to: all.count, by: 5_000) {
        _ = try store.announce(batch: Array(all[batch..<min(batch + 5_000, all.count)]))
    }
    store.close()
    try (all.map(\.permID.text).joined(separator: "\n") + "\n").write(toFile: arguments[3], atomically: true, encoding: .utf8)
    print("preloaded \(all.count)")

case "sealing":
    guard arguments.count == 2, let rounds = Int(arguments[1]), rounds >= 10 else { fail("usage: sealing ROUNDS (at least 10)") }
    let clock = ContinuousClock()
    /// The median of `rounds` timings of `body` in microseconds, after a tenth as many to warm up.
    func medianMicroseconds(_ body: () throws -> Void) rethrows -> Double {
        for _ in 0..<(rounds / 10) { try body() }
        var timings = [Double]()
        for _ in 0..<rounds {
            let start = clock.now
            try body()
            timings.append(seconds(clock.now - start) * 1e6)
        }
        return timings.sorted()[rounds / 2]
    }
    let endpoints = [Endpoint("203.0.113.5:6881")!, Endpoint("[2001:db8::5]:6881")!]
    let epoch = Blinding.epoch(at: now)
    var figures = [String: Double]()
    let eight = try (0..<8).map { _ in try PrivateKey.generate(.ed25519).permID }
    for type in [KeyType.ed25519, .libnacl, .ec(.p256), .ec(.p384), .ec(.secp256k1)] {
        let owner = try PrivateKey.generate(type)
        let boxes = try SealedRecords.boxes(endpoints, for: eight, recordPermID: try owner.permID.blinded(epoch: epoch), seq: 1)
        figures["blind_sign_\(type.name)_us"] = try medianMicroseconds {
            let blinded = try owner.blinded(epoch: epoch)
            _ = try SignedRecord.sign(with: blinded, seq: 1, issuedAt: now, expiresAt: now + 3_600, content: .sealed(boxes))
        }
    }
    let owner = try PrivateKey.generate(.ed25519).blinded(epoch: epoch)
    figures["seal_for_8_x25519_friends_us"] = try medianMicroseconds {
        _ = try SealedRecords.boxes(endpoints, for: eight, recordPermID: owner.permID, seq: 1)
    }
    for type in [KeyType.ed25519, .ec(.p256), .ec(.p384)] {
        // 64 boxes of the friend's length, its own box last: the most a friend ever tries.
        let friend = try PrivateKey.generate(type)
        let others = try (0..<63).map { _ in try PrivateKey.generate(type).permID }
        let info = SealedBox.info(permID: owner.permID, seq: 1)
        let plaintext = SealedBox.plaintext(endpoints: endpoints)
        let boxes = try (others + [friend.permID]).map { try SealedRecords.seal(plaintext, to: SealingPublicKey(permID: $0), info: info) }
        let record = try SignedRecord.sign(with: owner, seq: 1, issuedAt: now, expiresAt: now + 3_600, content: .sealed(boxes))
        let key = try SealingPrivateKey(key: friend)
        guard try SealedRecords.open(record, with: key) == endpoints else { fail("the last box did not open") }
        figures["open_last_of_64_\(type.name)_us"] = try medianMicroseconds {
            guard try SealedRecords.open(record, with: key) != nil else { fail("the last box did not open") }
        }
        figures["open_own_box_\(type.name)_us"] = medianMicroseconds {
            guard SealedRecords.open(boxes[63], with: key, info: info) != nil else { fail("the box did not open") }
        }
    }
    let body = figures.sorted { $0.key < $1.key }.map { "\"\($0.key)\": \(String(format: "%.1f", $0.value))" }
    print("{" + body.joined(separator: ", ") + "}")

default:
    fail("usage: permid-bench preload|preload-sealed|announcements|commit|lookup|tombstones|sealing ...")
}
