// Measures parse + verify per second for every key type and scheme, single-threaded, and in the same
// run `openssl speed` verify/s for the algorithms it knows. Usage: permid-bench-verify [SECONDS [KEY-TYPE]]
// (one key type, e.g. to profile it alone).
import Foundation
import PermIDKit

let seconds = CommandLine.arguments.dropFirst().first.flatMap(Double.init) ?? 2.0
let onlyType = CommandLine.arguments.dropFirst(2).first.map { name in
    guard let type = KeyType(name: name) else {
        FileHandle.standardError.write(Data("unknown key type \(name); one of \(KeyType.all.map(\.name).joined(separator: ", "))\n".utf8))
        exit(2)
    }
    return type
}

/// Parses the PermID and verifies one signature as often as possible for `seconds`; returns per second.
func measure(_ key: PrivateKey, _ scheme: SignatureScheme) throws -> Double {
    let record = try SignedRecord.sign(
        with: key, scheme: scheme, seq: 1, issuedAt: 1_764_028_800, expiresAt: 1_764_032_400,
        endpoints: [Endpoint("203.0.113.5:6881")!])
    let message = record.message
    let permID = key.permID.bytes
    let clock = ContinuousClock()
    let start = clock.now
    var count = 0
    while clock.now - start < .seconds(seconds) {
        for _ in 0..<16 {
            let publicKey = try PublicKey(bytes: permID)
            guard publicKey.verify(signature: record.signature, message: message, scheme: scheme) else {
                fatalError("signature did not verify")
            }
        }
        count += 16
    }
    let elapsed = clock.now - start
    return Double(count) / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
}

/// `openssl speed -seconds N ALGORITHM` verify/s, or nil when openssl does not know the algorithm.
func opensslSpeed(_ algorithm: String) -> Double? {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["openssl", "speed", "-seconds", String(Int(seconds.rounded(.up))), algorithm]
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = FileHandle.nullDevice
    guard (try? process.run()) != nil else { return nil }
    let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    guard let line = output.split(separator: "\n").last(where: { $0.contains("bits") }) else { return nil }
    return line.split(separator: " ").last.flatMap { Double($0) }
}

let opensslNames: [KeyType: String] = [
    .ed25519: "ed25519", .libnacl: "ed25519", .ec(.p256): "ecdsap256", .ec(.p384): "ecdsap384",
    .ec(.sect163k1): "ecdsak163", .ec(.sect233k1): "ecdsak233", .ec(.sect409k1): "ecdsak409", .ec(.sect571k1): "ecdsak571",
]

print("| key | scheme | permid parse+verify/s | openssl speed verify/s | ratio |")
print("|---|---|---:|---:|---:|")
var speedCache = [String: Double?]()
for type in KeyType.all where onlyType == nil || onlyType == type {
    let key = try PrivateKey.generate(type)
    for scheme in type.allowedSchemes {
        let ours = try measure(key, scheme)
        let name = opensslNames[type]
        let theirs: Double? = name.flatMap { algorithm in
            if let cached = speedCache[algorithm] { return cached }
            let value = opensslSpeed(algorithm)
            speedCache[algorithm] = value
            return value
        }
        let ratio = theirs.map { String(format: "%.0f%%", 100 * ours / $0) } ?? "n/a"
        let reference = theirs.map { String(format: "%.0f", $0) } ?? "n/a"
        print("| \(type.name) | \(scheme.rawValue) | \(String(format: "%.0f", ours)) | \(reference) | \(ratio) |")
    }
}
