import Foundation
import PermIDKit

/// Which endpoints a keep-alive announces.
public enum EndpointSource: Hashable, Sendable {
    /// These endpoints, always.
    case fixed([Endpoint])
    /// The address the directory sees (`GET /v1/whoami`) with this port, checked again at every interval so a
    /// NAT rebinding is announced at once.
    case observed(port: UInt16)
}

/// What a keep-alive reports as it goes.
public enum KeepAliveEvent: Sendable {
    /// A record was stored (a withdrawal, with no endpoints, when it stops with `withdrawOnStop`).
    case announced(SignedRecord)
    /// An attempt failed; the next is in `seconds`.
    case retrying(ClientError, seconds: Double)
}

extension Announcer {
    /// The shortest and longest backoff after a failure that names no `Retry-After`, in seconds: it starts at
    /// the first and doubles up to the second.
    public static let backoffBounds: ClosedRange<Double> = 1...60

    /// Keeps the record alive until `wait` says stop: re-announces at half the TTL and as soon as the
    /// endpoints change (NAT rebinding, with ``EndpointSource/observed(port:)``), backs off after failures
    /// (``backoffBounds``; on 429 and 503 what `Retry-After` asks, 1 s to 1 h), and reports each announcement
    /// and failure.
    ///
    /// For ``Audience/friends(_:)`` it also re-announces as soon as the blinding epoch turns, under the new
    /// epoch's blinded PermID, then withdraws the old epoch's record (retried until it succeeds or that
    /// record has expired anyway).
    ///
    /// - Parameters:
    ///   - source: the endpoints to announce.
    ///   - checkInterval: seconds between checks of the endpoints.
    ///   - withdrawOnStop: whether to withdraw (announce no endpoints) when stopping.
    ///   - wait: sleeps up to the given seconds; returns `true` to stop (a signal arrived, the app is quitting).
    ///   - report: called with every event, on the calling thread.
    /// - Throws: ``ClientError/local(_:)`` and ``ClientError/invalidArgument(_:)`` at once (they do not get better
    ///   by waiting); with `withdrawOnStop`, whatever refuses the withdrawal.
    public mutating func keepAlive(
        _ source: EndpointSource, checkInterval: Double = 30, withdrawOnStop: Bool,
        wait: (Double) -> Bool, report: (KeepAliveEvent) -> Void
    ) throws(ClientError) {
        var announced: [Endpoint]?
        var announcedEpoch: UInt64?
        var staleEpoch: UInt64?
        var nextAnnouncement = Date()
        var backoff = Self.backoffBounds.lowerBound
        while true {
            var seconds = min(checkInterval, max(0, nextAnnouncement.timeIntervalSinceNow))
            do {
                let current: [Endpoint]
                switch source {
                case .fixed(let endpoints): current = endpoints
                case .observed(let port): current = try observedEndpoints(port: port)
                }
                let epoch = blindingEpoch
                if current != announced || nextAnnouncement.timeIntervalSinceNow <= 0 || epoch != announcedEpoch {
                    report(.announced(try announce(current)))
                    if let announcedEpoch, let epoch, announcedEpoch != epoch { staleEpoch = announcedEpoch }
                    announced = current
                    announcedEpoch = epoch
                    nextAnnouncement = Date().addingTimeInterval(Double(ttl) / 2)
                    if let epoch { nextAnnouncement = min(nextAnnouncement, epochEnd(epoch)) }
                    backoff = Self.backoffBounds.lowerBound
                }
                if let stale = staleEpoch {
                    if directoryTime < Blinding.latestExpiry(epoch: stale) {
                        report(.announced(try withdraw(epoch: stale)))
                    }
                    staleEpoch = nil
                }
                seconds = min(checkInterval, max(0.1, nextAnnouncement.timeIntervalSinceNow))
            } catch {
                switch error {
                case .local, .invalidArgument: throw error
                case .refused(let refusal): seconds = refusal.retryAfter ?? backoff
                case .unreachable, .untrustworthyAnswer, .unverifiable: seconds = backoff
                }
                backoff = min(backoff * 2, Self.backoffBounds.upperBound)
                report(.retrying(error, seconds: seconds))
            }
            if wait(seconds) {
                if withdrawOnStop { report(.announced(try withdraw())) }
                return
            }
        }
    }

    /// For friends, the blinding epoch by the directory's clock as far as it is known; `nil` for everyone.
    private var blindingEpoch: UInt64? {
        guard case .friends = audience else { return nil }
        return Blinding.epoch(at: directoryTime)
    }

    /// When `epoch` ends, as a date on this machine's clock.
    private func epochEnd(_ epoch: UInt64) -> Date {
        let seconds = Double(epoch + 1) * Double(ProtocolConstants.blindingPeriod) - Double(directoryTime)
        return Date().addingTimeInterval(max(0, seconds))
    }
}
