import CoreMetrics
import Foundation
import PermIDKit
import Prometheus
import Synchronization

/// The directory's metrics in its own Prometheus registry (no process-wide bootstrap, so several
/// servers can live in one process), recorded through swift-metrics.
public final class ServerMetrics: Sendable {
    private let registry = PrometheusCollectorRegistry()
    private let factory: PrometheusMetricsFactory
    private let liveRecords: CoreMetrics.Gauge
    private let storedRecords: CoreMetrics.Gauge
    private let databaseBytes: CoreMetrics.Gauge
    private let waitingResolves: CoreMetrics.Gauge
    /// Metric handles by name and labels, made once: creating one costs a registry lookup and validation.
    /// A request's counter and its route's timer, found with one lookup (the registry gives every
    /// key of a route the same timer).
    private let requestHandles = Mutex<[RequestKey: RequestHandles]>([:])
    private let announcementCounters = Mutex<[String: CoreMetrics.Counter]>([:])

    /// The version reported as `permid_build_info`.
    public static let version = "1.0.0"

    /// Makes the registry and the fixed gauges.
    public init() {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
            .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .seconds(1),
        ]
        self.factory = factory
        liveRecords = CoreMetrics.Gauge(label: "permid_records_live", factory: factory)
        storedRecords = CoreMetrics.Gauge(label: "permid_records_stored", factory: factory)
        databaseBytes = CoreMetrics.Gauge(label: "permid_database_bytes", factory: factory)
        waitingResolves = CoreMetrics.Gauge(label: "permid_waiting_resolves", factory: factory)
        CoreMetrics.Gauge(label: "permid_build_info", dimensions: [("version", Self.version)], factory: factory).record(1)
    }

    /// Counts a request and records its latency.
    public func recordRequest(route: String, method: String, status: Int, duration: Duration) {
        let handles = Self.handle(requestHandles, RequestKey(route: route, method: method, status: status)) {
            RequestHandles(
                counter: CoreMetrics.Counter(
                    label: "permid_http_requests_total", dimensions: [("route", route), ("method", method), ("status", String(status))],
                    factory: factory),
                timer: CoreMetrics.Timer(label: "permid_http_request_duration_seconds", dimensions: [("route", route)], factory: factory))
        }
        handles.counter.increment()
        handles.timer.recordNanoseconds(duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000)
    }

    /// The cached handle for `key`, made by `make` the first time.
    private static func handle<Key: Hashable & Sendable, Handle: Sendable>(
        _ cache: borrowing Mutex<[Key: Handle]>, _ key: Key, make: () -> sending Handle
    ) -> Handle {
        cache.withLock { handles in
            if let handle = handles[key] { return handle }
            let handle = make()
            handles[key] = handle
            return handle
        }
    }

    /// The labels of one request counter.
    private struct RequestKey: Hashable {
        let route: String
        let method: String
        let status: Int
    }

    /// The metric handles one request key records to.
    private struct RequestHandles: Sendable {
        let counter: CoreMetrics.Counter
        let timer: CoreMetrics.Timer
    }

    /// Counts an announcement by outcome: `accepted` or the problem slug it was rejected with.
    public func recordAnnouncement(outcome: String) {
        Self.handle(announcementCounters, outcome) {
            CoreMetrics.Counter(label: "permid_announcements_total", dimensions: [("outcome", outcome)], factory: factory)
        }.increment()
    }

    /// Updates the gauge of resolves waiting for a change (`GET …?wait=`).
    public func updateWaiting(_ count: Int) { waitingResolves.record(count) }

    /// Updates the store gauges.
    public func updateStore(_ counts: StoreCounts) {
        liveRecords.record(counts.live)
        storedRecords.record(counts.records)
        databaseBytes.record(counts.storageBytes)
    }

    /// The Prometheus text exposition of every metric.
    public func exposition() -> [UInt8] { registry.emitToBuffer() }
}
