import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import PermIDKit

/// A small synchronous client for a permidd directory over URLSession.
struct DirectoryClient {
    /// A response: status, headers (lowercase names) and body.
    struct Response {
        let status: Int
        let headers: [String: String]
        let body: [UInt8]

        /// The problem's `type` slug, `detail` (else `title`) and any `stored_seq`, for error responses; the
        /// text is printable (control characters removed) and a `stored_seq` that is not an integer is absent.
        var problem: (slug: String, detail: String, storedSeq: UInt64?) {
            let object = ServerJSON(body)
            let slug = object?.text("type")?.components(separatedBy: "/").last.flatMap { $0.isEmpty ? nil : $0 } ?? "http-\(status)"
            let detail = object?.text("detail") ?? object?.text("title") ?? "HTTP \(status)"
            return (slug, detail, object?.integer("stored_seq"))
        }

        /// The directory's refusal as a failure (exit status 4).
        var failure: CLIFailure { CLIFailure(.server, "the directory answered \(status) \(problem.slug): \(problem.detail)") }
    }

    let base: URL
    let timeout: Double

    /// Sends one request and waits for the answer.
    func send(_ method: String, _ path: String, json body: [UInt8]? = nil) throws -> Response {
        guard let url = URL(string: base.absoluteString.trimmingSuffix("/") + path) else {
            throw CLIFailure(.usage, "cannot build a URL from \(base) and \(path)")
        }
        var request = URLRequest(url: url)
        request.httpMethod = method
        request.timeoutInterval = timeout
        if let body {
            request.httpBody = Data(body)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let outcome = OneShot<Result<Response, CLIFailure>>()
        let session = URLSession(configuration: .ephemeral)
        defer { session.finishTasksAndInvalidate() }
        let server = base.absoluteString
        session.dataTask(with: request) { data, response, error in
            outcome.fulfill(Self.response(data, response as? HTTPURLResponse, error, server: server))
        }.resume()
        return try outcome.wait().get()
    }

    /// What a URLSession completion means to the CLI.
    private static func response(_ data: Data?, _ response: HTTPURLResponse?, _ error: (any Error)?, server: String) -> Result<Response, CLIFailure> {
        if let error {
            return .failure(CLIFailure(.server, "cannot reach the directory at \(server): \(error.localizedDescription)"))
        }
        guard let response else { return .failure(CLIFailure(.server, "no HTTP response from \(server)")) }
        var headers = [String: String]()
        for (name, value) in response.allHeaderFields {
            if let name = name as? String, let value = value as? String { headers[name.lowercased()] = value }
        }
        return .success(Response(status: response.statusCode, headers: headers, body: Array(data ?? Data())))
    }

    /// `GET /v1/whoami`: the address the directory sees and its clock. A `server_time` outside the protocol's
    /// integer range (0 ... 2^53 − 1) makes the answer not understood; a `port` outside 0 ... 65535 is dropped.
    func whoami() throws -> (ip: IPAddress, port: UInt16?, serverTime: UInt64) {
        let response = try send("GET", "/v1/whoami")
        guard response.status == 200 else { throw response.failure }
        guard let object = ServerJSON(response.body),
              let ip = object.text("ip").flatMap({ IPAddress($0) }),
              let time = object.integer("server_time"), time <= SignedRecord.maxSafeInteger
        else { throw CLIFailure(.server, "the directory's whoami answer is not understood") }
        return (ip, object.integer("port").flatMap { UInt16(exactly: $0) }, time)
    }
}

extension String {
    fileprivate func trimmingSuffix(_ suffix: String) -> String {
        hasSuffix(suffix) ? String(dropLast(suffix.count)) : self
    }
}
