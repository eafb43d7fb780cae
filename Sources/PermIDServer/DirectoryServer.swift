import Dispatch
import Foundation
import Logging
import PermIDKit
import Synchronization

/// A running directory: one ``HTTPDaemon`` per listen address serving a ``DirectoryService``, and a
/// sweeper thread that turns expired records into tombstones in bounded batches.
public final class DirectoryServer: Sendable {
    /// The daemons, one per listen address.
    public let daemons: [HTTPDaemon]
    /// The service answering requests.
    public let service: DirectoryService
    private let store: any RecordStore
    private let clock: @Sendable () -> UInt64
    private let stopSweeper = DispatchSemaphore(value: 0)
    private let sweeperStopped = DispatchSemaphore(value: 0)
    private let logger: Logger
    private let stopped = Mutex(false)

    /// Starts listening on every address and starts the sweeper.
    ///
    /// - Parameters:
    ///   - store: the records.
    ///   - configuration: how requests are answered.
    ///   - listen: addresses and ports (port 0 picks a free one; see ``boundEndpoints``).
    ///   - options: libmicrohttpd options shared by every daemon.
    ///   - sweepInterval: how often expired records are swept.
    ///   - logger: where request and lifecycle lines go.
    /// - Throws: ``DaemonStartError`` if an address cannot be bound; daemons already started are stopped.
    public init(
        store: any RecordStore, configuration: DirectoryConfiguration, listen: [(IPAddress, UInt16)],
        options: DaemonOptions, sweepInterval: Duration = .seconds(60), logger: Logger
    ) throws(DaemonStartError) {
        let service = DirectoryService(store: store, configuration: configuration, logger: logger)
        var daemons = [HTTPDaemon]()
        // Every client behind a trusted proxy shares the proxy's address: its connections are not
        // counted against the per-address limit.
        var options = options
        options.perIPExempt += configuration.trustedProxies
        for (address, port) in listen {
            daemons.append(try HTTPDaemon(address: address, port: port, options: options, handler: service))
        }
        self.daemons = daemons
        self.service = service
        self.store = store
        self.clock = configuration.clock
        self.logger = logger
        let thread = Thread { [self] in sweepUntilStopped(every: sweepInterval) }
        thread.name = "permid-sweeper"
        thread.start()
    }

    /// The bound `HOST:PORT` of every daemon.
    public var boundEndpoints: [String] { daemons.map(\.boundEndpoint) }

    /// Stops, in an order that never drops an acknowledged announcement nor leaves libmicrohttpd a
    /// suspended connection: stop accepting; answer every waiting resolve (`wait=`) at once; let
    /// requests in flight finish for up to `grace`; then make
    /// the store fail every write still queued or waiting on a lock (503), wait until no request is
    /// suspended on the store, and only then stop the daemons and the sweeper. The store is closed by
    /// the caller, last. Idempotent.
    public func shutdown(grace: Duration = .seconds(10)) {
        let wasRunning = stopped.withLock { stopped in
            defer { stopped = true }
            return !stopped
        }
        guard wasRunning else { return }
        for daemon in daemons { daemon.quiesce() }
        service.endWatches()
        let deadline = ContinuousClock.now + grace
        while daemons.contains(where: { $0.requestsInFlight > 0 }) && ContinuousClock.now < deadline {
            Thread.sleep(forTimeInterval: 0.01)
        }
        if daemons.contains(where: { $0.requestsSuspended > 0 }) {
            logger.warning("grace period over with announcements waiting for the database; answering them 503")
        }
        store.stopWrites()
        while daemons.contains(where: { $0.requestsSuspended > 0 }) {
            Thread.sleep(forTimeInterval: 0.005)
        }
        // The resumed requests still have their 503 to send: give them (not slow clients) a moment.
        let sendDeadline = ContinuousClock.now + .seconds(1)
        while daemons.contains(where: { $0.requestsInFlight > 0 }) && ContinuousClock.now < sendDeadline {
            Thread.sleep(forTimeInterval: 0.005)
        }
        for daemon in daemons { daemon.stop() }
        stopSweeper.signal()
        sweeperStopped.wait()
    }

    /// How many expired records one sweep transaction turns into tombstones at most.
    static let sweepBatch = 1_000

    /// Sweeps one round now: batches of ``sweepBatch`` until fewer remain. Returns how many were swept.
    @discardableResult
    public func sweep() -> Int {
        var total = 0
        while true {
            do {
                let swept = try store.sweep(now: clock(), limit: Self.sweepBatch)
                total += swept
                if swept < Self.sweepBatch { return total }
            } catch {
                logger.warning("sweep failed", metadata: ["error": .string(error.detail)])
                return total
            }
        }
    }

    private func sweepUntilStopped(every interval: Duration) {
        let seconds = Double(interval.components.seconds) + Double(interval.components.attoseconds) / 1e18
        while stopSweeper.wait(timeout: .now() + seconds) == .timedOut {
            let swept = sweep()
            if swept > 0 { logger.info("swept expired records", metadata: ["count": .stringConvertible(swept)]) }
        }
        sweeperStopped.signal()
    }
}
