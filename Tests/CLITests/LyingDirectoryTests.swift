import Foundation
import Synchronization
import Testing

/// `permid` against a directory that lies (docs/security.md §6): it never crashes, never saves a seq more
/// than a day ahead of the clock, saves a jumped seq only after a 2xx, bounds Retry-After, still withdraws
/// on SIGTERM, and prints the directory's text without control characters.
@Suite struct LyingDirectoryTests {
    /// The exit statuses docs/cli.md documents.
    static let documentedStatuses: Set<Int32> = [0, 1, 2, 3, 4, 5, 6]

    /// One day in milliseconds: the furthest ahead of the clock a saved seq may be.
    static let day: UInt64 = 86_400_000

    static func nowMilliseconds() -> UInt64 { UInt64(Date().timeIntervalSince1970 * 1000) }

    /// A fresh key in a temporary directory, and `permid` run with it against a liar.
    struct Owner {
        let directory = NSTemporaryDirectory() + "permid-liar-\(UUID().uuidString)"
        var key: String { directory + "/key.pem" }

        init() throws {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let keygen = try Processes.run("permid", ["keygen", "--out", key])
            #expect(keygen.status == 0, "\(keygen.stderr)")
        }

        /// The seq saved in the key's state file, if any.
        var savedSeq: UInt64? {
            (try? String(contentsOfFile: key + ".seq", encoding: .utf8)).flatMap { UInt64($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        }

        /// Runs `permid` with this key against `liar`; with `terminateAfter`, sends SIGTERM that many seconds after
        /// the liar's first request (so the signal never arrives before permid has started waiting for it).
        func permid(_ arguments: [String], _ liar: LyingDirectory, terminateAfter seconds: Double = 60) throws -> Processes.Result {
            try Processes.run("permid", arguments + ["--server", liar.url], environment: ["PERMID_KEY": key, "XDG_CONFIG_HOME": directory],
                              terminateAfter: seconds, started: { !liar.requests.isEmpty })
        }
    }

    /// Checks what every run against a liar must hold: it exited (no trap) with a documented status, and
    /// the saved seq is not past the cap.
    private func expectSurvived(_ result: Processes.Result, _ owner: Owner, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(!result.crashed, "permid died of signal \(result.status): \(result.stderr)", sourceLocation: sourceLocation)
        #expect(Self.documentedStatuses.contains(result.status), "\(result.status) \(result.stderr)", sourceLocation: sourceLocation)
        if let saved = owner.savedSeq {
            #expect(saved <= Self.nowMilliseconds() + Self.day, "saved seq \(saved) is past the cap", sourceLocation: sourceLocation)
        }
    }

    /// Whether `text` holds no C0 control but line feeds, no DEL and no C1 control.
    private static func isPrintable(_ text: String) -> Bool {
        text.unicodeScalars.allSatisfy { $0 == "\n" || !($0.value < 0x20 || (0x7F...0x9F).contains($0.value)) }
    }

    // MARK: - stored_seq

    @Test func keepAliveAgainstAStoredSeqThatAlwaysJumpsADaySavesNoJumpAndStillWithdraws() throws {
        let owner = try Owner()
        let liar = try LyingDirectory { request in
            .problem(409, #""type":"https://permid.example/problems/stale-seq","title":"Stale seq","stored_seq":\#(request.seq + 86_399_999)"#,
                     headers: ["Retry-After": "0"])
        }
        let start = Self.nowMilliseconds()
        let result = try owner.permid(["announce", "--endpoint", "127.0.0.1:6881", "--keep-alive", "--withdraw-on-exit"], liar, terminateAfter: 3.5)
        expectSurvived(result, owner)
        #expect(result.status == 4, "the withdrawal was refused too: \(result.stderr)")
        let saved = try #require(owner.savedSeq)
        #expect(saved < start + 60_000, "a jumped seq was saved without a 2xx: \(saved - start) ms ahead")
        // Retry-After is ignored on a 409: the loop backs off 1 s, 2 s, … instead of spinning.
        let announcements = liar.puts.filter { !$0.isWithdrawal }
        #expect(announcements.count <= 8, "\(announcements.count) PUTs in 3.5 s")
        #expect(liar.requests.last?.isWithdrawal == true, "no withdrawal was sent on SIGTERM")
    }

    @Test func aJumpedSeqIsSavedOnlyOnceADirectoryAcceptsIt() throws {
        let stored = Self.nowMilliseconds() + 3_600_000
        for accepts in [false, true] {
            let owner = try Owner()
            let count = Mutex(0)
            let liar = try LyingDirectory { _ in
                let first = count.withLock { count in count += 1; return count == 1 }
                if first { return .problem(409, #""type":"x/stale-seq","stored_seq":\#(stored)"#) }
                return accepts ? .accepted : .problem(503, #""type":"x/unavailable","title":"Unavailable""#)
            }
            let result = try owner.permid(["announce", "--endpoint", "127.0.0.1:6881"], liar)
            expectSurvived(result, owner)
            #expect(liar.puts.last?.seq == stored + 1)
            if accepts {
                #expect(result.status == 0 && result.stdout.contains("seq \(stored + 1)"), "\(result.stderr)")
                #expect(owner.savedSeq == stored + 1)
            } else {
                #expect(result.status == 4)
                #expect(try #require(owner.savedSeq) < stored, "the jump was saved after a 503")
            }
        }
    }

    @Test(arguments: [
        "SEQ_PLUS_A_DAY", "9007199254740991", "9223372036854775807", "9223372036854775808", "18446744073709551615",
        "18446744073709551616", "-1", "1e300", "1.5", #""7""#, "null",
    ])
    func hostileStoredSeqNeverCrashesOrPassesTheCap(storedSeq: String) throws {
        let owner = try Owner()
        let liar = try LyingDirectory { request in
            let stored = storedSeq == "SEQ_PLUS_A_DAY" ? "\(request.seq + 86_399_999)" : storedSeq
            return .problem(409, #""type":"x/stale-seq","stored_seq":\#(stored)"#)
        }
        let result = try owner.permid(["announce", "--endpoint", "127.0.0.1:6881"], liar)
        expectSurvived(result, owner)
        #expect(result.status == 4, "\(result.stderr)")
        #expect(liar.puts.allSatisfy { $0.seq <= Self.nowMilliseconds() + Self.day })
    }

    @Test func aStateFileBeyondTheCapIsALocalError() throws {
        let owner = try Owner()
        try "9007199254740991\n".write(toFile: owner.key + ".seq", atomically: true, encoding: .utf8)
        let liar = try LyingDirectory { _ in .accepted }
        let result = try owner.permid(["announce", "--endpoint", "127.0.0.1:6881"], liar)
        #expect(!result.crashed && result.status == 5 && result.stderr.contains("more than a day ahead"), "\(result.stderr)")
        #expect(liar.puts.isEmpty)
    }

    // MARK: - Retry-After

    @Test(arguments: [
        (429, "0"), (503, "0"), (429, "-5"), (503, "-1"), (429, "soon"), (503, "Wed, 21 Oct 2099 07:28:00 GMT"),
        (429, "9223372036854775807"), (503, "99999999999999999999"), (429, "1e9"),
    ])
    func hostileRetryAfterIsBoundedAndKeepAliveStillWithdraws(status: Int, retryAfter: String) throws {
        let owner = try Owner()
        let liar = try LyingDirectory { request in
            request.isWithdrawal ? .accepted
                : .problem(status, #""type":"x/rate-limited","retry_after":\#(retryAfter.first == "-" || retryAfter.first!.isNumber ? retryAfter : "null")"#,
                           headers: ["Retry-After": retryAfter])
        }
        let result = try owner.permid(["announce", "--endpoint", "127.0.0.1:6881", "--keep-alive", "--withdraw-on-exit"], liar, terminateAfter: 2.5)
        expectSurvived(result, owner)
        #expect(result.status == 0, "\(result.stderr)")
        let announcements = liar.puts.filter { !$0.isWithdrawal }
        #expect((1...4).contains(announcements.count), "\(announcements.count) PUTs in 2.5 s: Retry-After was not bounded to at least 1 s")
        #expect(liar.requests.last?.isWithdrawal == true && result.stdout.contains("withdrawn"), "\(result.stdout)")
    }

    // MARK: - server_time

    @Test(arguments: [
        "-1", "9223372036854775807", "9223372036854775808", "18446744073709551615", "18446744073709551616",
        "9007199254740991", "0", "1e30", "1.5", #""now""#,
    ])
    func hostileServerTimeNeverCrashes(serverTime: String) throws {
        let owner = try Owner()
        let liar = try LyingDirectory { request in
            request.method == "GET" ? .whoami(serverTime: serverTime) : .problem(400, #""type":"x/clock-skew","title":"Clock skew""#)
        }
        for json in [false, true] {
            let whoami = try owner.permid(["whoami"] + (json ? ["--json"] : []), liar)
            expectSurvived(whoami, owner)
            #expect(whoami.status == 0 || whoami.status == 4, "\(whoami.stderr)")
        }
        // Through whoami (no --endpoint), and through a clock-skew answer: both adopt the clock only within an hour.
        let seen = try owner.permid(["announce", "--port", "6881"], liar)
        expectSurvived(seen, owner)
        #expect(seen.status == 4 && liar.puts.isEmpty, "\(seen.stderr)")
        let skew = try owner.permid(["announce", "--endpoint", "127.0.0.1:6881"], liar)
        expectSurvived(skew, owner)
        #expect(skew.status == 4, "\(skew.stderr)")
    }

    // MARK: - Server text

    /// Members of a problem whose text tries to clear the screen, recolour, set the title and forge a line.
    static let hostileText = #""type":"x/\u001b[31mbad","title":"\u001b]0;owned\u0007","detail":"\u001b[2J\u001b[1;1Hgone\npermid: announced seq 1\r\u009b31m\u007f""#

    @Test func serverTextIsPrintedWithoutControlCharacters() throws {
        let owner = try Owner()
        let liar = try LyingDirectory { _ in .problem(400, Self.hostileText) }
        let permID = try Processes.run("permid", ["id", "--quiet", "--key", owner.key]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let runs = [
            try owner.permid(["announce", "--endpoint", "127.0.0.1:6881"], liar),
            try owner.permid(["announce", "--port", "6881"], liar),
            try owner.permid(["whoami"], liar),
            try owner.permid(["resolve", permID], liar),
            try owner.permid(["announce", "--endpoint", "127.0.0.1:6881", "--keep-alive"], liar, terminateAfter: 1.5),
        ]
        for run in runs {
            expectSurvived(run, owner)
            #expect(Self.isPrintable(run.stderr) && Self.isPrintable(run.stdout), "\(run.stderr.debugDescription)")
        }
        #expect(runs.prefix(4).allSatisfy { $0.status == 4 && $0.stderr.split(separator: "\n").count == 1 })
        #expect(runs[0].stderr.contains("gone permid: announced seq 1"), "\(runs[0].stderr.debugDescription)")

        // A served record with an unknown member named by an escape sequence: the refusal names the member.
        let forger = try LyingDirectory { _ in Answer(status: 200, body: #"{"\u001b[2Jx":1}"#) }
        let forged = try owner.permid(["resolve", permID], forger)
        expectSurvived(forged, owner)
        #expect(forged.status == 3 && forged.stderr.contains("FORGED") && Self.isPrintable(forged.stderr), "\(forged.stderr.debugDescription)")
    }
}

private typealias Answer = LyingDirectory.Answer
