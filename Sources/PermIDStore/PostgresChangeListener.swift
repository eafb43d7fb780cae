import Foundation
import Synchronization

/// Listens on the channel the `records_notify` trigger sends to (migration postgres/0002) and hands
/// each stored record's PermID to a callback: how a node hears of records other nodes stored. Owns
/// its connection and thread; reconnects after a loss (notifications sent meanwhile are missed — a
/// waiting resolve then still gets the right answer when its wait ends).
final class PostgresChangeListener: Sendable {
    static let channel = "permid_records"

    private let location: PostgresConnectionString
    private let stored: @Sendable ([UInt8]) -> Void
    private let stopped = Atomic(false)
    private let finished = DispatchSemaphore(value: 0)

    /// Starts listening; `stored` is called on the listener's thread.
    init(location: PostgresConnectionString, stored: @escaping @Sendable ([UInt8]) -> Void) {
        self.location = location
        self.stored = stored
        let thread = Thread { [self] in run() }
        thread.name = "permid-listener"
        thread.start()
    }

    /// Stops the thread and waits for it (at most one poll interval). Idempotent.
    func stop() {
        guard !stopped.exchange(true, ordering: .acquiringAndReleasing) else { return }
        finished.wait()
    }

    private func run() {
        var connection: PostgresConnection?
        var backoff = 0.1
        while !stopped.load(ordering: .acquiring) {
            do throws(PostgresError) {
                if connection == nil {
                    let opened = try PostgresConnection(location)
                    try opened.execute("LISTEN \(Self.channel)")
                    connection = opened
                    backoff = 0.1
                }
                for payload in try connection!.notifications(waiting: 200) {
                    if let permID = Self.bytes(hex: payload) { stored(permID) }
                }
            } catch {
                connection = nil
                Thread.sleep(forTimeInterval: backoff)
                backoff = min(backoff * 2, 5)
            }
        }
        finished.signal()
    }

    /// The bytes of a hex payload, or `nil` if it is not hex.
    static func bytes(hex text: String) -> [UInt8]? {
        let digits = Array(text.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var bytes = [UInt8]()
        bytes.reserveCapacity(digits.count / 2)
        for index in stride(from: 0, to: digits.count, by: 2) {
            guard let high = Self.nibble(digits[index]), let low = Self.nibble(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
        }
        return bytes
    }

    private static func nibble(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        default: nil
        }
    }
}
