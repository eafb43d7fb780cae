internal import CMicroHTTPD
internal import CShims
import Foundation
import PermIDKit
import Synchronization

/// What a handler does with a request: answer now, or later from another thread (the connection is
/// suspended meanwhile, so no server thread waits).
public enum HandlerResult: Sendable {
    /// The response, ready now.
    case respond(HTTPResponse)
    /// The response, once the one-shot is fulfilled; the connection resumes then.
    case later(OneShot<HTTPResponse>)
}

/// Receives requests from an ``HTTPDaemon``: makes each one's context once, handles it, and hears
/// once that it completed.
public protocol HTTPHandler: Sendable {
    /// The context of a request, from its head (no body yet); called once per request.
    func context(for request: HTTPRequest, started: ContinuousClock.Instant) -> RequestContext
    /// Handles a complete request. Called on a libmicrohttpd thread; must not block for long.
    func handle(_ request: HTTPRequest, in context: RequestContext) -> HandlerResult
    /// Reports a finished request once, from libmicrohttpd's completion callback, for logs, metrics
    /// and counts. `context` is `nil` when libmicrohttpd answered the request itself (431, 400 …)
    /// before its head was complete; `problem` is the slug of a problem answer.
    func completed(_ context: RequestContext?, status: Int, problem: String?, started: ContinuousClock.Instant)
}

/// Options for one libmicrohttpd daemon.
public struct DaemonOptions: Sendable {
    /// Worker threads, each with its own epoll set.
    public var threads: Int
    /// Open connections at most.
    public var connectionLimit: Int
    /// Open connections per client address at most (0 for no limit).
    public var perIPConnectionLimit: Int
    /// Addresses the per-address limit does not count (trusted proxies: every client behind one
    /// shares its address).
    public var perIPExempt: [CIDR] = []
    /// Seconds of inactivity after which a connection is closed.
    public var connectionTimeout: Int
    /// Bytes per connection for the request line, headers and buffers; larger headers are refused
    /// (431/414). libmicrohttpd zeroes this pool after every request, so it costs time as well as memory.
    public var connectionMemoryLimit: Int
    /// Bytes of request bodies held at once, over all connections; a request that would pass it gets 503.
    public var bodyMemoryLimit: Int

    /// Makes options; the defaults are permidd's (``standard``).
    public init(
        threads: Int = ProcessInfo.processInfo.activeProcessorCount, connectionLimit: Int = 16_384, perIPConnectionLimit: Int = 256,
        connectionTimeout: Int = 15, connectionMemoryLimit: Int = 16 * 1024, bodyMemoryLimit: Int = 64 * 1024 * 1024
    ) {
        self.threads = threads
        self.connectionLimit = connectionLimit
        self.perIPConnectionLimit = perIPConnectionLimit
        self.connectionTimeout = connectionTimeout
        self.connectionMemoryLimit = connectionMemoryLimit
        self.bodyMemoryLimit = bodyMemoryLimit
    }
}

extension DaemonOptions {
    /// The defaults: a thread per core, 16,384 connections (room for the default 10,000 waiting
    /// resolves), 256 per client address, 15 s idle timeout, a 16 KiB pool per connection, 64 MiB of bodies.
    public static let standard = DaemonOptions()
}

/// Why a daemon could not start.
public struct DaemonStartError: Error, CustomStringConvertible, Sendable {
    /// The human explanation.
    public let description: String
}

/// One libmicrohttpd daemon listening on one address. Owns its `MHD_Daemon`, stopped in ``stop()``
/// or `deinit`.
public final class HTTPDaemon: @unchecked Sendable {
    // @unchecked Sendable: `daemon` is set in init and only passed to libmicrohttpd's thread-safe
    // quiesce/stop calls, guarded by `stopped`.
    private let daemon: OpaquePointer
    private let context: Unmanaged<DaemonContext>
    private let stopped = Mutex(false)
    /// The address and port actually bound (the port is the real one when 0 was asked for).
    public let boundEndpoint: String

    /// Starts listening on `address`:`port` and serving `handler`.
    ///
    /// - Throws: ``DaemonStartError`` if the address cannot be bound.
    public init(address: IPAddress, port: UInt16, options: DaemonOptions, handler: any HTTPHandler) throws(DaemonStartError) {
        let context = Unmanaged.passRetained(DaemonContext(handler: handler, options: options))
        var flags = UInt32(MHD_USE_EPOLL_INTERNAL_THREAD.rawValue) | UInt32(MHD_ALLOW_SUSPEND_RESUME.rawValue)
            | UInt32(MHD_USE_TURBO.rawValue)
        if address.family == 6 { flags |= UInt32(MHD_USE_IPv6.rawValue) }
        let started: OpaquePointer? = Self.withSocketAddress(address, port) { socketAddress in
            var mhdOptions = permid_mhd_options(
                flags: flags, address: socketAddress, thread_pool_size: UInt32(max(1, options.threads)),
                connection_limit: UInt32(options.connectionLimit),
                connection_timeout: UInt32(options.connectionTimeout), connection_memory_limit: options.connectionMemoryLimit,
                listen_backlog: 1024)
            return permid_mhd_start(
                &mhdOptions, context.toOpaque(), accessTrampoline, startedTrampoline, completedTrampoline, acceptTrampoline,
                connectionTrampoline)
        }
        guard let started else {
            context.release()
            let where_ = address.family == 6 ? "[\(address)]:\(port)" : "\(address):\(port)"
            throw DaemonStartError(description: "cannot listen on \(where_): address in use, not local, or not permitted")
        }
        self.daemon = started
        self.context = context
        let boundPort = permid_mhd_bound_port(started)
        boundEndpoint = address.family == 6 ? "[\(address)]:\(boundPort)" : "\(address):\(boundPort)"
    }

    deinit { stop() }

    /// Stops accepting new connections and closes the listening socket (new connections are refused);
    /// requests already in flight go on.
    public func quiesce() {
        stopped.withLock { stopped in
            guard !stopped else { return }
            let listener = MHD_quiesce_daemon(daemon)
            // libmicrohttpd hands the listening socket back to the caller to close.
            if listener >= 0 { close(listener) }
        }
    }

    /// Stops the daemon and its threads, closing every connection. Idempotent. Call it only when
    /// ``requestsSuspended`` is 0: libmicrohttpd must not stop with a suspended connection, which a
    /// store thread would later resume.
    public func stop() {
        let wasRunning = stopped.withLock { stopped in
            defer { stopped = true }
            return !stopped
        }
        guard wasRunning else { return }
        MHD_stop_daemon(daemon)
        context.release()
    }

    /// The number of requests received and not yet completed.
    public var requestsInFlight: Int { context.takeUnretainedValue().inFlight.load(ordering: .relaxed) }

    /// The number of requests suspended, waiting for a store thread's answer.
    public var requestsSuspended: Int { context.takeUnretainedValue().suspended.load(ordering: .acquiring) }

    private static func withSocketAddress<T>(_ address: IPAddress, _ port: UInt16, _ body: (UnsafePointer<sockaddr>) -> T) -> T {
        if address.family == 4 {
            var socketAddress = sockaddr_in()
            socketAddress.sin_family = sa_family_t(AF_INET)
            socketAddress.sin_port = port.bigEndian
            withUnsafeMutableBytes(of: &socketAddress.sin_addr) { $0.copyBytes(from: address.bytes) }
            return withUnsafePointer(to: &socketAddress) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1, body) }
        }
        var socketAddress = sockaddr_in6()
        socketAddress.sin6_family = sa_family_t(AF_INET6)
        socketAddress.sin6_port = port.bigEndian
        withUnsafeMutableBytes(of: &socketAddress.sin6_addr) { $0.copyBytes(from: address.bytes) }
        return withUnsafePointer(to: &socketAddress) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1, body) }
    }
}

/// What the C trampolines reach through their context pointer.
final class DaemonContext: Sendable {
    let handler: any HTTPHandler
    let inFlight = Atomic<Int>(0)
    let suspended = Atomic<Int>(0)
    /// Body bytes still free to reserve, over all connections.
    let bodyBudget: Atomic<Int>

    /// Open connections per client address (exempt addresses are not counted).
    let connectionsPerAddress = Mutex<[[UInt8]: Int]>([:])
    let perAddressLimit: Int
    let exempt: [CIDR]

    init(handler: any HTTPHandler, options: DaemonOptions) {
        self.handler = handler
        self.bodyBudget = Atomic(options.bodyMemoryLimit)
        self.perAddressLimit = options.perIPConnectionLimit
        self.exempt = options.perIPExempt
    }

    /// The address a per-address limit counts, or `nil` when it is not counted.
    func countedAddress(_ bytes: [UInt8], family: Int32) -> [UInt8]? {
        guard perAddressLimit > 0, family == 4 || family == 6,
              let address = IPAddress(bytes: Array(bytes.prefix(family == 4 ? 4 : 16)))?.unmapped,
              !exempt.contains(where: { $0.contains(address) })
        else { return nil }
        return address.bytes
    }

    /// Takes `bytes` from the body budget; `false` if they are not free.
    func reserveBody(_ bytes: Int) -> Bool {
        var free = bodyBudget.load(ordering: .relaxed)
        while free >= bytes {
            let (exchanged, original) = bodyBudget.compareExchange(expected: free, desired: free - bytes, ordering: .relaxed)
            if exchanged { return true }
            free = original
        }
        return false
    }

    func releaseBody(_ bytes: Int) { bodyBudget.add(bytes, ordering: .relaxed) }
}

/// One request's state across libmicrohttpd's calls, reached through `*req_cls`: made when the
/// request line arrives, released by the completion callback.
final class RequestState: @unchecked Sendable {
    // @unchecked Sendable: every field but `deferred` is used only on the connection's MHD thread (a
    // suspended connection is not touched by MHD until it is resumed); `deferred` is behind a Mutex
    // because a store thread fills it before resuming the connection.
    let started = ContinuousClock.now
    var context: RequestContext?
    var request: HTTPRequest?
    /// Body bytes taken from the daemon's budget for this request.
    var reservedBody = 0
    var suspended = false
    var problem: String?
    let deferred = Mutex<HTTPResponse?>(nil)
}

/// A connection pointer carried to the thread that resumes it; libmicrohttpd allows
/// `MHD_resume_connection` from any thread.
private struct SuspendedConnection: @unchecked Sendable {
    let pointer: OpaquePointer
}

// MARK: - Trampolines
// C callbacks are free functions in this file, never closures in main.swift (which would be
// @MainActor-isolated and trap when libmicrohttpd calls them from its own threads).

/// Refuses a new connection from an address that already holds `perIPConnectionLimit` (libmicrohttpd's
/// own per-address limit is not used: it cannot exempt trusted proxies). Several threads accept at
/// once, so this is only the cheap first check: the count that decides is taken as the connection
/// starts (``connectionTrampoline``).
private let acceptTrampoline: MHD_AcceptPolicyCallback = { context, address, _ in
    guard let context else { return .YES }
    let daemon = Unmanaged<DaemonContext>.fromOpaque(context).takeUnretainedValue()
    var bytes = [UInt8](repeating: 0, count: 16)
    let family = permid_socket_address(address, &bytes)
    guard let key = daemon.countedAddress(bytes, family: family) else { return .YES }
    return daemon.connectionsPerAddress.withLock { $0[key, default: 0] } < daemon.perAddressLimit ? .YES : .NO
}

/// Marks, in its socket context, a connection that started past its address's limit: its first request
/// closes it unanswered.
private var overLimit: UnsafeMutableRawPointer { UnsafeMutableRawPointer(bitPattern: 1)! }

/// Counts open connections per address: up when libmicrohttpd starts one, down when it closes it. A
/// connection that makes the count exceed the limit (two threads accepted at once) is marked over the
/// limit, so the limit holds exactly.
private let connectionTrampoline: MHD_NotifyConnectionCallback = { context, connection, socketContext, code in
    guard let context, let connection else { return }
    let daemon = Unmanaged<DaemonContext>.fromOpaque(context).takeUnretainedValue()
    var bytes = [UInt8](repeating: 0, count: 16)
    var port: UInt16 = 0
    let family = permid_mhd_client_address(connection, &bytes, &port)
    guard let key = daemon.countedAddress(bytes, family: family) else { return }
    daemon.connectionsPerAddress.withLock { counts in
        if code == .CONNECTION_NOTIFY_STARTED {
            counts[key, default: 0] += 1
            if counts[key]! > daemon.perAddressLimit { socketContext?.pointee = overLimit }
        } else {
            counts[key, default: 1] -= 1
            if counts[key] == 0 { counts[key] = nil }
        }
    }
}

private let startedTrampoline: permid_mhd_request_started = { context, _, _ in
    guard let context else { return nil }
    Unmanaged<DaemonContext>.fromOpaque(context).takeUnretainedValue().inFlight.add(1, ordering: .relaxed)
    return Unmanaged.passRetained(RequestState()).toOpaque()
}

private let accessTrampoline: MHD_AccessHandlerCallback = { context, connection, url, method, _, uploadData, uploadSize, requestContext in
    guard let context, let connection, let url, let method, let uploadSize, let stateContext = requestContext?.pointee else { return .NO }
    let daemon = Unmanaged<DaemonContext>.fromOpaque(context).takeUnretainedValue()
    let state = Unmanaged<RequestState>.fromOpaque(stateContext).takeUnretainedValue()

    guard let requestContext = state.context, var request = state.request else {
        // A connection past its address's limit is closed before anything is read or answered.
        if permid_mhd_socket_context(connection) == overLimit { return .NO }
        // First call: the head is complete. Make the context once, and answer on a later call, so
        // libmicrohttpd keeps the connection alive (queueing now makes it close the connection).
        let head = makeRequest(connection, HTTPMethod(token: method), String(cString: url))
        let made = daemon.handler.context(for: head, started: state.started)
        state.context = made
        state.request = head
        // Without a usable Content-Length (chunked), the body is reserved when its first bytes arrive.
        guard let length = head.headers["content-length"], let bytes = Int(length), bytes > 0 else { return .YES }
        // Refused before reading any of the body; libmicrohttpd closes the connection after.
        guard bytes <= made.bodyLimit else {
            return queue(.problem(.bodyTooLarge(limit: made.bodyLimit)), on: connection, state: state)
        }
        guard daemon.reserveBody(bytes) else {
            return queue(.problem(.serviceUnavailable("too many request bodies in progress; retry shortly")), on: connection, state: state)
        }
        state.reservedBody = bytes
        return .YES
    }

    if uploadSize.pointee > 0 {
        let size = uploadSize.pointee
        uploadSize.pointee = 0
        guard let uploadData, request.body.count + size <= requestContext.bodyLimit else {
            // A chunked body past the limit: close the connection at once, reading no more of it.
            // (libmicrohttpd 0.9.75 queues no response in the middle of a body; a body with a
            // Content-Length past the limit got its 413 before any of it was read.)
            return .NO
        }
        if state.reservedBody == 0 {
            // No Content-Length (chunked): reserve the route's limit, the most this body can take.
            guard daemon.reserveBody(requestContext.bodyLimit) else {
                return queue(.problem(.serviceUnavailable("too many request bodies in progress; retry shortly")), on: connection, state: state)
            }
            state.reservedBody = requestContext.bodyLimit
        }
        state.request = nil // the array is uniquely referenced while it grows
        if request.body.isEmpty { request.body.reserveCapacity(state.reservedBody) }
        uploadData.withMemoryRebound(to: UInt8.self, capacity: size) { request.body.append(contentsOf: UnsafeBufferPointer(start: $0, count: size)) }
        state.request = request
        return .YES
    }

    if state.suspended {
        // Resumed after the deferred answer was filled in.
        guard let response = state.deferred.withLock({ $0 }) else { return .NO }
        return queue(response, on: connection, state: state)
    }

    switch daemon.handler.handle(request, in: requestContext) {
    case .respond(let response):
        return queue(response, on: connection, state: state)
    case .later(let pending):
        state.suspended = true
        daemon.suspended.add(1, ordering: .acquiringAndReleasing)
        MHD_suspend_connection(connection)
        let suspended = SuspendedConnection(pointer: connection)
        pending.whenDone { response in
            state.deferred.withLock { $0 = response }
            MHD_resume_connection(suspended.pointer)
            daemon.suspended.subtract(1, ordering: .acquiringAndReleasing)
        }
        return .YES
    }
}

private let completedTrampoline: MHD_RequestCompletedCallback = { context, connection, requestContext, _ in
    guard let context, let requestContext, let stateContext = requestContext.pointee else { return }
    let daemon = Unmanaged<DaemonContext>.fromOpaque(context).takeUnretainedValue()
    let state = Unmanaged<RequestState>.fromOpaque(stateContext).takeRetainedValue()
    requestContext.pointee = nil
    let status = connection.map { Int(permid_mhd_http_status($0)) } ?? 0
    daemon.handler.completed(state.context, status: status, problem: state.problem, started: state.started)
    daemon.releaseBody(state.reservedBody)
    daemon.inFlight.subtract(1, ordering: .relaxed)
}

/// Queues `response` without copying its body: libmicrohttpd holds the body's bytes until it has sent them.
private func queue(_ response: HTTPResponse, on connection: OpaquePointer, state: RequestState) -> MHD_Result {
    let body = Unmanaged.passRetained(response.body)
    guard let mhdResponse = MHD_create_response_from_buffer_with_free_callback_cls(
        response.body.count, response.body.buffer.baseAddress, releaseBodyTrampoline, body.toOpaque())
    else {
        body.release()
        return .NO
    }
    defer { MHD_destroy_response(mhdResponse) }
    // withCString, not implicit bridging: that makes a heap copy of each small String.
    for (name, value) in response.headers {
        _ = name.withCString { name in value.withCString { value in MHD_add_response_header(mhdResponse, name, value) } }
    }
    state.problem = response.problem
    return MHD_queue_response(connection, UInt32(response.status), mhdResponse)
}

/// Lets go of a response body once libmicrohttpd is done with it.
private let releaseBodyTrampoline: MHD_ContentReaderFreeCallback = { body in
    guard let body else { return }
    Unmanaged<ResponseBytes>.fromOpaque(body).release()
}

/// Gathers the header lines the directory reads into the `[String: String]` its context points to,
/// joining repeated ones.
private let headerTrampoline: MHD_KeyValueIterator = { context, _, name, value in
    guard let context, let name, let value else { return .YES }
    let key = String(cString: name).lowercased()
    guard HTTPRequest.headerNames.contains(key) else { return .YES }
    let text = String(cString: value)
    let headers = context.assumingMemoryBound(to: [String: String].self)
    headers.pointee[key] = headers.pointee[key].map { $0 + ", " + text } ?? text
    return .YES
}

/// Reads the request line, the headers and query arguments the directory uses, and the peer address.
private func makeRequest(_ connection: OpaquePointer, _ method: HTTPMethod, _ path: String) -> HTTPRequest {
    // One pass over every header line, so a header sent on several lines (a proxy appending its own
    // X-Forwarded-For line) is seen whole, joined with commas as RFC 9110 §5.3 allows.
    var headers = [String: String]()
    _ = withUnsafeMutablePointer(to: &headers) { MHD_get_connection_values(connection, .HEADER_KIND, headerTrampoline, $0) }
    var query = [String: String]()
    for name in HTTPRequest.queryNames {
        if let value = name.withCString({ MHD_lookup_connection_value(connection, .GET_ARGUMENT_KIND, $0) }) {
            query[name] = String(cString: value)
        }
    }
    var addressBytes = [UInt8](repeating: 0, count: 16)
    var port: UInt16 = 0
    let family = permid_mhd_client_address(connection, &addressBytes, &port)
    if family == 4 { addressBytes.removeLast(12) } // in place: the address keeps this array
    let address = IPAddress(bytes: addressBytes)?.unmapped ?? IPAddress(bytes: [0, 0, 0, 0])!
    return HTTPRequest(method: method, path: path, query: query, headers: headers, peerAddress: address, peerPort: port)
}
