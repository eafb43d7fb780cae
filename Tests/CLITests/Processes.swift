import Foundation
import Testing

/// Runs the package's built executables for end-to-end tests.
enum Processes {
    /// The directory holding the built products (beside the test bundle).
    static let products: URL = {
        var url = URL(fileURLWithPath: CommandLine.arguments[0])
        while url.path != "/" && !url.lastPathComponent.hasSuffix(".xctest") { url.deleteLastPathComponent() }
        return url.path == "/" ? Bundle.main.bundleURL : url.deletingLastPathComponent()
    }()

    struct Result {
        let status: Int32
        let stdout: String
        let stderr: String
        /// Whether the process died of a signal (a trap, or the deadline's kill) rather than exiting.
        var crashed = false
    }

    /// Runs a product to completion (at most `timeout` seconds) and returns its status and output.
    static func run(_ product: String, _ arguments: [String], environment: [String: String] = [:], stdin: String? = nil, timeout: Double = 60) throws -> Result {
        try run(product, arguments, environment: environment, stdin: stdin, terminateAfter: timeout)
    }

    /// Runs a product, sends it SIGTERM `seconds` after `started` first holds (polled, for at most 30 s) if
    /// it is still running, waits for it (SIGKILL after 20 more seconds) and returns its status and output.
    static func run(_ product: String, _ arguments: [String], environment: [String: String] = [:], stdin: String? = nil,
                    terminateAfter seconds: Double, started: () -> Bool = { true }) throws -> Result {
        let process = Process()
        process.executableURL = products.appendingPathComponent(product)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let out = Pipe(), err = Pipe(), input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        try process.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try input.fileHandleForWriting.close()
        let finished = DispatchSemaphore(value: 0)
        DispatchQueue.global().async { process.waitUntilExit(); finished.signal() }
        let startDeadline = Date().addingTimeInterval(30)
        while !started() && process.isRunning && Date() < startDeadline { Thread.sleep(forTimeInterval: 0.05) }
        if finished.wait(timeout: .now() + seconds) == .timedOut {
            process.terminate()
            if finished.wait(timeout: .now() + 20) == .timedOut { kill(process.processIdentifier, SIGKILL) }
        }
        let stdout = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return Result(status: process.terminationStatus, stdout: stdout, stderr: stderr,
                      crashed: process.terminationReason == .uncaughtSignal)
    }
}

/// A real permidd on an ephemeral loopback port with a temporary database.
final class Directory: @unchecked Sendable {
    // @unchecked Sendable: immutable after init.
    let process = Process()
    let url: String
    let directory: String

    /// Starts permidd on `database` (a PostgreSQL connection string), or on an SQLite file of its own.
    init(database: String? = nil, extraArguments: [String] = []) throws {
        directory = NSTemporaryDirectory() + "permid-cli-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        process.executableURL = Processes.products.appendingPathComponent("permidd")
        process.arguments = ["serve", "--database", database ?? directory + "/permid.sqlite", "--listen", "127.0.0.1:0", "--log-format", "json"] + extraArguments
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        var buffer = ""
        var found: String?
        while found == nil {
            let data = err.fileHandleForReading.availableData
            if data.isEmpty { break }
            buffer += String(decoding: data, as: UTF8.self)
            if let range = buffer.range(of: #""address":"127.0.0.1:[0-9]+""#, options: .regularExpression) {
                found = String(buffer[range].dropFirst(11).dropLast())
            }
        }
        guard let found else { throw POSIXError(.EIO) }
        url = "http://\(found)"
        // Keep draining the log so the server never blocks on a full pipe.
        DispatchQueue.global().async { while !err.fileHandleForReading.availableData.isEmpty {} }
    }

    deinit {
        process.terminate()
        process.waitUntilExit()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// A new key of `type` in a file `NAME.pem` of this directory's folder: its path and PermID.
    func keygen(_ name: String, _ type: String = "ed25519") throws -> (path: String, permID: String) {
        let path = directory + "/\(name).pem"
        let result = try permid(["keygen", "--type", type, "--out", path])
        #expect(result.status == 0, "\(result.stderr)")
        return (path, result.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// Runs `permid` against this directory.
    func permid(_ arguments: [String], stdin: String? = nil, timeout: Double = 60) throws -> Processes.Result {
        try Processes.run("permid", arguments, environment: ["PERMID_SERVER": url, "XDG_CONFIG_HOME": directory + "/config"], stdin: stdin, timeout: timeout)
    }
}
