import Foundation
import PermIDKit

/// Builds, signs and PUTs records for one key, keeping the seq state beside the key file.
struct Announcer {
    let key: PrivateKey
    let keyPath: String
    let client: DirectoryClient
    let ttl: UInt64
    let scheme: SignatureScheme?
    /// Seconds to add to the local clock to get the directory's (learned from whoami or a clock-skew answer).
    var clockOffset: Int64 = 0

    /// Announces `endpoints` (none for a withdrawal). On a 409 it moves past the stored seq once; on a
    /// clock-skew answer it adopts the directory's clock once. Returns the stored record.
    mutating func announce(_ endpoints: [Endpoint]) throws -> SignedRecord {
        var minimumSeq: UInt64 = 0
        var retriedSeq = false, retriedClock = false
        while true {
            let seq = KeyFile.nextSeq(forKey: keyPath, atLeast: minimumSeq)
            let issuedAt = UInt64(max(0, Int64(unixNow()) + clockOffset))
            let record: SignedRecord
            do {
                record = try SignedRecord.sign(
                    with: key, scheme: scheme, seq: seq, issuedAt: issuedAt, expiresAt: issuedAt + ttl, endpoints: endpoints)
            } catch {
                throw CLIFailure(.local, "cannot sign: \(error)")
            }
            try KeyFile.saveSeq(seq, forKey: keyPath)
            let response = try client.send("PUT", "/v1/peers/\(key.permID.text)", json: record.json)
            switch response.status {
            case 200, 201:
                return record
            case 409 where !retriedSeq:
                retriedSeq = true
                let stored = response.problem.storedSeq ?? seq
                // seq is clock-based (milliseconds); a directory claiming one more than a day ahead is
                // lying or another tool uses this key: never jump there, or the key is stuck at 2^53 − 1.
                guard stored < seq + Self.maximumSeqJump else {
                    throw CLIFailure(.server, "the directory claims stored seq \(stored), more than a day ahead of \(seq); refusing to jump to it")
                }
                minimumSeq = stored + 1
            case 400 where response.problem.slug == "clock-skew" && !retriedClock:
                retriedClock = true
                try adoptClock(of: try client.whoami().serverTime)
            default:
                throw AnnounceFailure(response: response)
            }
        }
    }
}

extension Announcer {
    /// The furthest ahead of the next clock-based seq a 409's stored seq is believed: one day in milliseconds.
    static let maximumSeqJump: UInt64 = 86_400_000

    /// The largest clock difference to the directory that is adopted: one hour.
    static let maximumClockOffset: Int64 = 3_600

    /// Dates records by the directory's clock when it differs from ours, within an hour; beyond that the
    /// local clock is wrong or the directory lies, and both deserve a person's attention.
    mutating func adoptClock(of serverTime: UInt64) throws {
        let offset = Int64(serverTime) - Int64(unixNow())
        guard abs(offset) <= Self.maximumClockOffset else {
            throw CLIFailure(.server, "the directory's clock differs from this machine's by \(offset) s; fix the clock or use another directory")
        }
        clockOffset = offset
    }
}

/// A refused announcement, with what the keep-alive loop needs to back off.
struct AnnounceFailure: Error {
    let response: DirectoryClient.Response

    /// Seconds the directory asked to wait (429 Retry-After), if any.
    var retryAfter: Int? { response.headers["retry-after"].flatMap { Int($0) } }

    var cliFailure: CLIFailure { response.failure }
}
