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
                minimumSeq = (response.problem.storedSeq ?? seq) + 1
            case 400 where response.problem.slug == "clock-skew" && !retriedClock:
                retriedClock = true
                clockOffset = Int64(try client.whoami().serverTime) - Int64(unixNow())
            default:
                throw AnnounceFailure(response: response)
            }
        }
    }
}

/// A refused announcement, with what the keep-alive loop needs to back off.
struct AnnounceFailure: Error {
    let response: DirectoryClient.Response

    /// Seconds the directory asked to wait (429 Retry-After), if any.
    var retryAfter: Int? { response.headers["retry-after"].flatMap { Int($0) } }

    var cliFailure: CLIFailure { response.failure }
}
