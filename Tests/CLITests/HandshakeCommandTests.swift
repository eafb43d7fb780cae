import Foundation
import PermIDKit
import Testing

/// `permid listen` and `permid connect` with a PermID resolved through a real permidd.
@Suite struct HandshakeCommandTests {
    /// `permid listen --once` on a loopback port 0, its stdin given; `port` read from its stderr.
    final class Listener: @unchecked Sendable {
        // @unchecked Sendable: immutable after init; the pipes are read once, after exit.
        let process = Process()
        let out = Pipe(), err = Pipe()
        let port: Int
        private var stderrStart = ""

        init(_ directory: Directory, key: String, stdin: String, extra: [String] = []) throws {
            process.executableURL = Processes.products.appendingPathComponent("permid")
            process.environment = ProcessInfo.processInfo.environment.merging(["XDG_CONFIG_HOME": directory.directory + "/config"]) { $1 }
            process.arguments = ["listen", "--port", "0", "--host", "127.0.0.1", "--key", key, "--once"] + extra
            let input = Pipe()
            process.standardInput = input
            process.standardOutput = out
            process.standardError = err
            try process.run()
            input.fileHandleForWriting.write(Data(stdin.utf8))
            try input.fileHandleForWriting.close()
            var text = ""
            while !text.contains("\n") {
                let data = err.fileHandleForReading.availableData
                if data.isEmpty { break }
                text += String(decoding: data, as: UTF8.self)
            }
            let line = text.prefix { $0 != "\n" }
            guard line.hasPrefix("listening on "), let port = Int(line.dropFirst(13)) else { throw POSIXError(.EIO) }
            self.port = port
            stderrStart = String(text.drop { $0 != "\n" }.dropFirst())
        }

        /// Waits for the listener to exit: its status, stdout and stderr.
        func finish() -> (status: Int32, stdout: String, stderr: String) {
            let stdout = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            let stderr = stderrStart + String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            return (process.terminationStatus, stdout, stderr)
        }
    }

    @Test func connectToAPermIDThroughTheDirectory() throws {
        let directory = try Directory()
        let server = try directory.keygen("server", "libnacl"), client = try directory.keygen("client", "sect233k1")
        #expect(try directory.permid(["friends", "add", "carol", client.permID]).status == 0)
        let listener = try Listener(directory, key: server.path, stdin: "from the listener\n", extra: ["--friends-only"])
        #expect(try directory.permid(["announce", "--key", server.path, "--port", "\(listener.port)"]).status == 0)
        let connect = try directory.permid(["connect", server.permID, "--key", client.path], stdin: "from the client\n")
        let served = listener.finish()
        #expect(connect.status == 0, "\(connect.stderr)")
        #expect(connect.stdout == "from the listener\n" && connect.stderr.contains("authenticated \(server.permID)"))
        #expect(served.status == 0 && served.stdout == "from the client\n", "\(served.stderr)")
        #expect(served.stderr.contains("authenticated \(client.permID)\nfriend carol\n"))
    }

    @Test func aListenerProvingAnotherPermIDGetsNothing() throws {
        let directory = try Directory()
        let target = try directory.keygen("target"), impostor = try directory.keygen("impostor"), client = try directory.keygen("client")
        let listener = try Listener(directory, key: impostor.path, stdin: "")
        #expect(try directory.permid(["announce", "--key", target.path, "--port", "\(listener.port)"]).status == 0)
        let connect = try directory.permid(["connect", target.permID, "--key", client.path], stdin: "secret\n")
        let served = listener.finish()
        #expect(connect.status == 3 && connect.stdout.isEmpty, "\(connect.stderr)")
        #expect(connect.stderr.contains("not the expected \(target.permID)") && !connect.stderr.contains("authenticated"))
        #expect(served.status == 3 && served.stdout.isEmpty, "\(served.stderr)")
    }

    @Test func friendNamesAndBadTargets() throws {
        let directory = try Directory()
        let server = try directory.keygen("server"), client = try directory.keygen("client")
        let listener = try Listener(directory, key: server.path, stdin: "hi\n")
        #expect(try directory.permid(["friends", "add", "bob", server.permID]).status == 0)
        let connect = try directory.permid(["connect", "bob", "--key", client.path, "--server", "http://127.0.0.1:1"], stdin: "")
        // A friend's name resolves through the directory (here unreachable: status 4), never to a guess.
        #expect(connect.status == 4, "\(connect.stderr)")
        let direct = try directory.permid(["connect", "127.0.0.1:\(listener.port)", "--key", client.path, "--expect", server.permID], stdin: "")
        #expect(direct.status == 0 && direct.stdout == "hi\n", "\(direct.stderr)")
        #expect(listener.finish().status == 0)
        #expect(try directory.permid(["connect", "no-such-friend", "--key", client.path]).status == 1)
        #expect(try directory.permid(["connect", "127.0.0.1:1", "--key", client.path, "--expect", "nonsense"]).status == 1)
    }
}
