import Foundation

/// The local clock as the protocol counts it.
enum Clock {
    /// The current Unix time in seconds (0 for a clock set before 1970).
    static func seconds() -> UInt64 { UInt64(max(0, Date().timeIntervalSince1970)) }

    /// The current Unix time in milliseconds (0 for a clock set before 1970).
    static func milliseconds() -> UInt64 { UInt64(max(0, Date().timeIntervalSince1970 * 1000)) }

    /// Seconds `serverTime` is ahead of `local` (this machine's clock by default; negative when behind),
    /// without trapping on any value: `nil` when the difference does not fit 64 bits.
    static func secondsAhead(of serverTime: UInt64, local: UInt64 = seconds()) -> Int64? {
        guard let server = Int64(exactly: serverTime), let local = Int64(exactly: local) else { return nil }
        let (offset, overflow) = server.subtractingReportingOverflow(local)
        return overflow ? nil : offset
    }
}
