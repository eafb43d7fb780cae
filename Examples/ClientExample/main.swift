// permid-client-example: PermIDClient used as an app would. It makes a key in memory, announces an
// endpoint, resolves it (verified), names it as a friend in a scratch keyring, keeps it alive for one round,
// withdraws it, and checks every answer. Usage: permid-client-example [SERVER]  (default $PERMID_SERVER,
// else http://127.0.0.1:8080). Exit status 0 when every step did what it should.
import Foundation
import PermIDClient
import PermIDKit

/// Stops the example with a message and status 1.
func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("permid-client-example: \(message)\n".utf8))
    exit(1)
}

do {
    let server = CommandLine.arguments.dropFirst().first ?? ProcessInfo.processInfo.environment["PERMID_SERVER"] ?? "http://127.0.0.1:8080"
    let client = try DirectoryClient(server: server, timeout: 5)

    // A key that lives only in this process, and an announcer whose seq state lives there too.
    let key = try PrivateKey.generate(.ed25519)
    var announcer = Announcer(key: key, client: client, seqState: .inMemory, ttl: 120)
    let endpoint = Endpoint("127.0.0.1:7000")!
    let announced = try announcer.announce([endpoint])
    print("announced \(key.permID) at seq \(announced.seq)")

    // Resolving verifies the signature and that the record is for the PermID asked for.
    guard case .found(let record) = try client.resolve(key.permID), record.endpoints == [endpoint] else {
        fail("the announced record did not resolve")
    }
    print("resolved \(key.permID) to \(record.endpoints[0])")

    // A keyring and friends list in a scratch directory (an app would use Keyring.standard()).
    let scratch = NSTemporaryDirectory() + "permid-example-\(UUID().uuidString)"
    defer { try? FileManager.default.removeItem(atPath: scratch) }
    let keyring = Keyring(directory: scratch)
    try keyring.add(key, named: "example")
    let friends = FriendsList(beside: keyring)
    try friends.add("me", key.permID)
    let stranger = try PrivateKey.generate(.ec(.p256)).permID
    let batch = try client.resolve([try friends.permID(for: "me"), stranger])
    guard case .found = batch[key.permID], batch[stranger] == Resolution.notFound else { fail("the batch lookup was wrong") }
    print("batch: friend me found, a stranger not found; keyring holds \(try keyring.list().map(\.name))")

    // Keep-alive with NAT rebinding follows the address the directory sees; this one stops after a round.
    var rounds = 0
    try announcer.keepAlive(.observed(port: 7001), withdrawOnStop: false, wait: { _ in rounds += 1; return true }) { event in
        if case .announced(let record) = event { print("keep-alive announced \(record.endpoints.map(\.description))") }
    }

    // A withdrawal is a signed record too: the directory now serves "not reachable".
    _ = try announcer.withdraw()
    guard case .found(let withdrawal) = try client.resolve(key.permID), withdrawal.isWithdrawal else { fail("the withdrawal did not resolve") }
    print("withdrew \(key.permID); example: ok")
} catch let error as ClientError {
    fail(error.description)
} catch {
    fail("\(error)")
}
