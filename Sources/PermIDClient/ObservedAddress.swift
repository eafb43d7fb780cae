import PermIDKit

/// What `GET /v1/whoami` says: the address the directory sees for this host, and its clock.
public struct ObservedAddress: Hashable, Sendable {
    /// The source address the directory sees.
    public let ip: IPAddress
    /// The source port it sees, when it names one in 0 … 65535.
    public let port: UInt16?
    /// The directory's clock, Unix seconds (0 … 2^53 − 1).
    public let serverTime: UInt64

    /// Seconds the directory's clock is ahead of this machine's (negative when behind); `nil` when the
    /// difference does not fit 64 bits.
    public var clockOffset: Int64? { Clock.secondsAhead(of: serverTime) }
}
