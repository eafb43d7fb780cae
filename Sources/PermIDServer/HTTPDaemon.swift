internal import CMicroHTTPD
internal import CShims
import Foundation
import PermIDKit
import Synchronization

/// What a handler does with a request: answer now, or answer later from another thread
/// (the connection is suspended meanwhile, so no server thread waits).
public enum HandlerResult: Sendable {
    /// The response, ready now.
    case respond(HTTPResponse)
    /// Call the closure with a completion; the connection resumes when the completion is called.
    case later(@Sendable (_ completion: @escaping @Sendable (HTTPResponse) -> Void) -> Void)
}

/// Receives complete requests from an ``HTTPDaemon``.
public protocol HTTPHandler: Sendable {
    /// The body limit in bytes for a request to `path` with `method`; larger bodies get 413 while
    /// being read, and nothing more of them is buffered.
    func bodyLimit(method: String, path: String) -> Int
    /// Handles a complete request. Called on a libmicrohttpd thread; must not block for long.
    func handle(_ request: HTTPRequest) -> HandlerResult
    /// Called once per request after its response was queued, for logs and metrics.
    func completed(_ request: HTTPRequest?, method: String, path: String, status: Int, duration: Duration)
}

/// Options for one libmicrohttpd daemon.
public struct DaemonOptions: Sendable {
    /// Worker threads, each with its own epoll set.
    public var threads: Int
    /// Open connections at most.
    public var connectionLimit: Int
    /// Open connections per client address at most (0 for no limit).
    public var perIPConnectionLimit: Int
    /// Seconds of inactivity after which a connection is closed.
    public var connectionTimeout: Int
    /// Bytes per connection for the request line, headers and buffers; larger headers are refused.
    public var connectionMemoryLimit: Int

    /// Makes options.
    public init(threads: Int, connectionLimit: Int = 4096, perIPConnectionLimit: Int = 0, connectionTimeout: Int = 15, connectionMemoryLimit: Int = 32 * 1024) {
        self.threads = threads
        self.connectionLimit = connectionLimit
        self.perIPConnectionLimit = perIPConnectionLimit
        self.connectionTimeout = connectionTimeout
        self.connectionMemoryLimit = connectionMemoryLimit
    }
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
        let context = Unmanaged.passRetained(DaemonContext(handler: handler))
        var flags = UInt32(MHD_USE_EPOLL_INTERNAL_THREAD.rawValue) | UInt32(MHD_ALLOW_SUSPEND_RESUME.rawValue)
            | UInt32(MHD_USE_TURBO.rawValue)
        if address.family == 6 { flags |= UInt32(MHD_USE_IPv6.rawValue) }
        let started: OpaquePointer? = Self.withSocketAddress(address, port) { socketAddress in
            var mhdOptions = permid_mhd_options(
                flags: flags, address: socketAddress, thread_pool_size: UInt32(max(1, options.threads)),
                connection_limit: UInt32(options.connectionLimit), per_ip_connection_limit: UInt32(options.perIPConnectionLimit),
                connection_timeout: UInt32(options.connectionTimeout), connection_memory_limit: options.connectionMemoryLimit,
                listen_backlog: 1024)
            return permid_mhd_start(&mhdOptions, accessTrampoline, context.toOpaque(), completedTrampoline, context.toOpaque())
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

    /// Stops the daemon and its threads. Idempotent.
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

    init(handler: any HTTPHandler) { self.handler = handler }
}

/// One request's state across libmicrohttpd's calls, reached through `*con_cls`.
final class RequestState: @unchecked Sendable {
    // @unchecked Sendable: every field but `deferred` is used only on the connection's MHD thread;
    // `deferred` is behind a Mutex because a store thread fills it before resuming the connection.
    let method: String
    let path: String
    let started = ContinuousClock.now
    let bodyLimit: Int
    var body: [UInt8] = []
    var tooLarge = false
    var suspended = false
    var request: HTTPRequest?
    let deferred = Mutex<HTTPResponse?>(nil)

    init(method: String, path: String, bodyLimit: Int) {
        self.method = method
        self.path = path
        self.bodyLimit = bodyLimit
    }
}

/// A connection pointer carried to the thread that resumes it; libmicrohttpd allows
/// `MHD_resume_connection` from any thread.
private struct SuspendedConnection: @unchecked Sendable {
    let pointer: OpaquePointer
}

// MARK: - Trampolines
// C callbacks are free functions in this file, never closures in main.swift (which would be
// @MainActor-isolated and trap when libmicrohttpd calls them from its own threads).

private let accessTrampoline: MHD_AccessHandlerCallback = { context, connection, url, method, _, uploadData, uploadSize, connectionContext in
    guard let context, let connection, let url, let method, let uploadSize, let connectionContext else { return .NO }
    let daemon = Unmanaged<DaemonContext>.fromOpaque(context).takeUnretainedValue()

    guard let stateContext = connectionContext.pointee else {
        // First call for this request: set up state and answer later, so libmicrohttpd keeps the
        // connection alive (queueing on the first call makes it close the connection).
        let methodText = String(cString: method)
        let path = String(cString: url)
        let state = RequestState(method: methodText, path: path, bodyLimit: daemon.handler.bodyLimit(method: methodText, path: path))
        connectionContext.pointee = Unmanaged.passRetained(state).toOpaque()
        daemon.inFlight.add(1, ordering: .relaxed)
        if let length = MHD_lookup_connection_value(connection, .HEADER_KIND, "content-length"),
           Int(String(cString: length)).map({ $0 > state.bodyLimit }) ?? false {
            // Refused before reading any of the body; libmicrohttpd closes the connection after.
            state.tooLarge = true
            return queue(.problem(.bodyTooLarge(limit: state.bodyLimit)), on: connection, state: state, daemon: daemon)
        }
        return .YES
    }
    let state = Unmanaged<RequestState>.fromOpaque(stateContext).takeUnretainedValue()

    if uploadSize.pointee > 0 {
        // A body without Content-Length (chunked) past the limit is read and dropped, never kept;
        // the 413 is queued once the request is complete.
        let size = uploadSize.pointee
        uploadSize.pointee = 0
        guard !state.tooLarge, state.body.count + size <= state.bodyLimit, let uploadData else {
            state.tooLarge = true
            state.body = []
            return .YES
        }
        uploadData.withMemoryRebound(to: UInt8.self, capacity: size) { state.body.append(contentsOf: UnsafeBufferPointer(start: $0, count: size)) }
        return .YES
    }
    if state.tooLarge {
        return queue(.problem(.bodyTooLarge(limit: state.bodyLimit)), on: connection, state: state, daemon: daemon)
    }

    if state.suspended {
        // Resumed after a deferred answer was filled in.
        guard let response = state.deferred.withLock({ $0 }) else { return .NO }
        return queue(response, on: connection, state: state, daemon: daemon)
    }

    let request = makeRequest(connection, state)
    state.request = request
    state.body = []
    switch daemon.handler.handle(request) {
    case .respond(let response):
        return queue(response, on: connection, state: state, daemon: daemon)
    case .later(let work):
        state.suspended = true
        MHD_suspend_connection(connection)
        let suspended = SuspendedConnection(pointer: connection)
        work { response in
            state.deferred.withLock { $0 = response }
            MHD_resume_connection(suspended.pointer)
        }
        return .YES
    }
}

private let completedTrampoline: MHD_RequestCompletedCallback = { context, _, connectionContext, _ in
    guard let context, let connectionContext, let stateContext = connectionContext.pointee else { return }
    let daemon = Unmanaged<DaemonContext>.fromOpaque(context).takeUnretainedValue()
    Unmanaged<RequestState>.fromOpaque(stateContext).release()
    connectionContext.pointee = nil
    daemon.inFlight.subtract(1, ordering: .relaxed)
}

/// Queues `response` and reports the request as completed to the handler.
private func queue(_ response: HTTPResponse, on connection: OpaquePointer, state: RequestState, daemon: DaemonContext) -> MHD_Result {
    let mhdResponse = response.body.withUnsafeBytes { body in
        MHD_create_response_from_buffer(body.count, UnsafeMutableRawPointer(mutating: body.baseAddress), .RESPMEM_MUST_COPY)
    }
    guard let mhdResponse else { return .NO }
    defer { MHD_destroy_response(mhdResponse) }
    for (name, value) in response.headers { _ = MHD_add_response_header(mhdResponse, name, value) }
    let result = MHD_queue_response(connection, UInt32(response.status), mhdResponse)
    daemon.handler.completed(
        state.request, method: state.method, path: state.path, status: response.status, duration: ContinuousClock.now - state.started)
    return result
}

/// Gathers the header lines the directory reads, joining repeated ones.
private final class HeaderCollector {
    var headers: [String: String] = [:]
}

private let headerTrampoline: MHD_KeyValueIterator = { context, _, name, value in
    guard let context, let name, let value else { return .YES }
    let key = String(cString: name).lowercased()
    guard HTTPRequest.headerNames.contains(key) else { return .YES }
    let collector = Unmanaged<HeaderCollector>.fromOpaque(context).takeUnretainedValue()
    let text = String(cString: value)
    collector.headers[key] = collector.headers[key].map { $0 + ", " + text } ?? text
    return .YES
}

/// Reads the request line, the headers and query arguments the directory uses, and the peer address.
private func makeRequest(_ connection: OpaquePointer, _ state: RequestState) -> HTTPRequest {
    // One pass over every header line, so a header sent on several lines (a proxy appending its own
    // X-Forwarded-For line) is seen whole, joined with commas as RFC 9110 §5.3 allows.
    let collector = HeaderCollector()
    withExtendedLifetime(collector) {
        _ = MHD_get_connection_values(connection, .HEADER_KIND, headerTrampoline, Unmanaged.passUnretained(collector).toOpaque())
    }
    let headers = collector.headers
    var query = [String: String]()
    for name in HTTPRequest.queryNames {
        if let value = MHD_lookup_connection_value(connection, .GET_ARGUMENT_KIND, name) { query[name] = String(cString: value) }
    }
    var addressBytes = [UInt8](repeating: 0, count: 16)
    var port: UInt16 = 0
    let family = permid_mhd_client_address(connection, &addressBytes, &port)
    let address = IPAddress(bytes: Array(addressBytes.prefix(family == 4 ? 4 : 16)))?.unmapped ?? IPAddress(bytes: [0, 0, 0, 0])!
    return HTTPRequest(
        method: state.method, path: state.path, query: query, headers: headers, body: state.body,
        peerAddress: address, peerPort: port)
}
