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
    ///
    /// A clock-based seq is saved before it is sent, so it is never reused. A seq past a 409's `stored_seq`
    /// (a jump) is saved only once a directory has accepted it (2xx): a 409 proves nothing, since anyone on
    /// the path can send one. No seq past ``KeyFile/seqCeiling()`` is ever sent or saved.
    mutating func announce(_ endpoints: [Endpoint]) throws -> SignedRecord {
        var jumpedSeq: UInt64?
        var retriedSeq = false, retriedClock = false
        while true {
            let seq = try jumpedSeq ?? KeyFile.nextSeq(forKey: keyPath)
            let issuedAt = UInt64(max(0, Int64(unixNow()) + clockOffset))
            let record: SignedRecord
            do {
                record = try SignedRecord.sign(
                    with: key, scheme: scheme, seq: seq, issuedAt: issuedAt, expiresAt: issuedAt + ttl, endpoints: endpoints)
            } catch {
                throw CLIFailure(.local, "cannot sign: \(error)")
            }
            if jumpedSeq == nil { try KeyFile.saveSeq(seq, forKey: keyPath) }
            let response = try client.send("PUT", "/v1/peers/\(key.permID.text)", json: record.json)
            switch response.status {
            case 200, 201:
                if jumpedSeq != nil { try KeyFile.saveSeq(seq, forKey: keyPath) }
                return record
            case 409 where !retriedSeq:
                retriedSeq = true
                jumpedSeq = try jump(past: response.problem.storedSeq)
            case 400 where response.problem.slug == "clock-skew" && !retriedClock:
                retriedClock = true
                try adoptClock(of: try client.whoami().serverTime)
            default:
                throw AnnounceFailure(response: response)
            }
        }
    }

    /// The seq to retry with after a 409 naming `stored`: one past it when that is ahead of the next
    /// clock-based seq (`nil`, the next clock-based seq, otherwise or when the answer names none).
    ///
    /// - Throws: ``CLIFailure`` (server) when one past `stored` would be beyond ``KeyFile/seqCeiling()``.
    private func jump(past stored: UInt64?) throws -> UInt64? {
        guard let stored else { return nil }
        guard stored < KeyFile.seqCeiling() else {
            throw CLIFailure(.server, "the directory claims stored seq \(stored), more than a day ahead of this machine's clock; refusing to jump to it")
        }
        return stored + 1 > (try KeyFile.nextSeq(forKey: keyPath)) ? stored + 1 : nil
    }
}

extension Announcer {
    /// The largest clock difference to the directory that is adopted: one hour.
    static let maximumClockOffset: Int64 = 3_600

    /// Dates records by the directory's clock when it differs from ours, within an hour; beyond that the
    /// local clock is wrong or the directory lies, and both deserve a person's attention.
    mutating func adoptClock(of serverTime: UInt64) throws {
        guard let offset = secondsAhead(of: serverTime), abs(offset) <= Self.maximumClockOffset else {
            throw CLIFailure(.server, "the directory's clock (server_time \(serverTime)) differs from this machine's by more than an hour; fix the clock or use another directory")
        }
        clockOffset = offset
    }
}

/// A refused announcement, with what the keep-alive loop needs to back off.
struct AnnounceFailure: Error {
    let response: DirectoryClient.Response

    /// The shortest and longest wait a directory's `Retry-After` can ask for, in seconds.
    static let retryAfterBounds: ClosedRange<Double> = 1...3_600

    /// Seconds to wait before retrying, when the directory asked: only on 429 and 503, the two answers that
    /// mean "later", from the `Retry-After` header (else the problem's `retry_after`), within
    /// ``retryAfterBounds``. Anything but decimal digits (an HTTP date, a negative number) is ignored;
    /// digits beyond 64 bits ask for the longest wait.
    var retryAfter: Double? {
        guard response.status == 429 || response.status == 503 else { return nil }
        let seconds: UInt64
        if let header = response.headers["retry-after"]?.trimmingCharacters(in: .whitespaces), !header.isEmpty,
           header.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) {
            seconds = UInt64(digits: header) ?? .max
        } else if let field = ServerJSON(response.body)?.integer("retry_after") {
            seconds = field
        } else {
            return nil
        }
        return min(max(Double(seconds), Self.retryAfterBounds.lowerBound), Self.retryAfterBounds.upperBound)
    }

    var cliFailure: CLIFailure { response.failure }
}
