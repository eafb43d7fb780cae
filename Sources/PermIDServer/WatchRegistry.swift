import Dispatch
import PermIDKit
import Synchronization

/// How a watch ended.
enum WatchEnd: Sendable {
    /// A record with another seq than the one the watcher knew was accepted.
    case stored(SignedRecord)
    /// The wait ran out, or the server is shutting down.
    case timedOut
}

/// The requests waiting for a PermID's record to change (`GET /v1/peers/{permid}?wait=`). A watch is
/// a suspended connection plus one small entry here: no thread waits. Bounded in total and per source.
final class WatchRegistry: Sendable {
    private struct Entry {
        let knownSeq: UInt64?
        let source: [UInt8]
        let end: OneShot<WatchEnd>
    }

    private struct State {
        var byPermID: [[UInt8]: [UInt64: Entry]] = [:]
        var perSource: [[UInt8]: Int] = [:]
        var total = 0
        var nextID: UInt64 = 0
        var closed = false
    }

    private let state = Mutex(State())
    private let maxTotal: Int
    private let maxPerSource: Int
    private let timers = DispatchQueue(label: "permid-watch-timers")

    /// - Parameters:
    ///   - maxTotal: watches held at once; past it, 503.
    ///   - maxPerSource: watches one source (address, or IPv6 prefix) holds at once; past it, 429.
    init(maxTotal: Int, maxPerSource: Int) {
        self.maxTotal = maxTotal
        self.maxPerSource = maxPerSource
    }

    /// Whether a watch of `permID` is waiting.
    func isWatched(_ permID: [UInt8]) -> Bool { state.withLock { $0.byPermID[permID] != nil } }

    /// The number of watches held now.
    var count: Int { state.withLock { $0.total } }

    /// Starts watching `permID`: the one-shot ends with the first accepted record whose seq is not
    /// `knownSeq`, or `.timedOut` after `seconds`.
    ///
    /// - Throws: 429 ``DirectoryError/rateLimited(retryAfter:)`` past the per-source bound, 503 past
    ///   the total or while shutting down.
    func watch(_ permID: [UInt8], knownSeq: UInt64?, source: [UInt8], seconds: Int) throws(DirectoryError) -> OneShot<WatchEnd> {
        let end = OneShot<WatchEnd>()
        let id: UInt64 = try state.withLock { state throws(DirectoryError) in
            guard !state.closed else { throw .serviceUnavailable("the directory is shutting down") }
            guard state.total < maxTotal else { throw .serviceUnavailable("too many requests are waiting; retry shortly") }
            guard state.perSource[source, default: 0] < maxPerSource else { throw .rateLimited(retryAfter: 5) }
            state.nextID += 1
            state.byPermID[permID, default: [:]][state.nextID] = Entry(knownSeq: knownSeq, source: source, end: end)
            state.perSource[source, default: 0] += 1
            state.total += 1
            return state.nextID
        }
        timers.asyncAfter(deadline: .now() + .seconds(seconds)) { [self] in
            if let entry = remove(permID, id) { entry.end.fulfill(.timedOut) }
        }
        return end
    }

    /// Wakes the watchers of an accepted record's PermID that knew another seq.
    func stored(_ record: SignedRecord) {
        let woken = state.withLock { state -> [Entry] in
            guard let entries = state.byPermID[record.permID.bytes] else { return [] }
            var woken = [Entry]()
            for (id, entry) in entries where entry.knownSeq != record.seq {
                woken.append(entry)
                Self.forget(&state, record.permID.bytes, id, entry)
            }
            return woken
        }
        for entry in woken { entry.end.fulfill(.stored(record)) }
    }

    /// Ends every watch now (`.timedOut`) and refuses new ones: for shutdown.
    func endAll() {
        let ended = state.withLock { state -> [Entry] in
            state.closed = true
            defer {
                state.byPermID = [:]
                state.perSource = [:]
                state.total = 0
            }
            return state.byPermID.values.flatMap(\.values)
        }
        for entry in ended { entry.end.fulfill(.timedOut) }
    }

    private func remove(_ permID: [UInt8], _ id: UInt64) -> Entry? {
        state.withLock { state in
            guard let entry = state.byPermID[permID]?[id] else { return nil }
            Self.forget(&state, permID, id, entry)
            return entry
        }
    }

    private static func forget(_ state: inout State, _ permID: [UInt8], _ id: UInt64, _ entry: Entry) {
        state.byPermID[permID]?[id] = nil
        if state.byPermID[permID]?.isEmpty == true { state.byPermID[permID] = nil }
        state.perSource[entry.source, default: 1] -= 1
        if state.perSource[entry.source] == 0 { state.perSource[entry.source] = nil }
        state.total -= 1
    }
}
