import Foundation
import PermIDClient
import PermIDKit
import Synchronization
import Testing

/// PermIDClient's friends-only announcing and private resolving (FRIENDS-v1 parts A and B) against the
/// real server, with the server's clock and the announcer's moved across a blinding epoch's turn.
@Suite struct FriendsOnlyAnnouncerTests {
    let endpoints = ["203.0.113.5:6881", "[2001:db8::5]:6881"].map { Endpoint($0)! }

    private func client(_ server: TestServer) throws -> DirectoryClient {
        try DirectoryClient(server: "http://\(server.server.boundEndpoints[0])", timeout: 5)
    }

    /// Starts 30 s before an epoch ends: the record is under that epoch's blinded PermID and expires an
    /// hour after it was issued; 60 s later (the next epoch) keep-alive announces under the new blinded
    /// PermID at once and withdraws the old one; on stop it withdraws the new one.
    @Test func keepAliveMovesToTheNewEpochAndWithdrawsTheOldOne() throws {
        let server = try TestServer()
        let boundary = (server.now / 86_400 + 1) * 86_400
        server.clock.advance(by: boundary - 30 - server.now)
        let epoch = boundary / 86_400 - 1
        let owner = try PrivateKey.generate(.ed25519)
        let friend = try PrivateKey.generate(.ec(.p384))
        var announcer = Announcer(key: owner, client: try client(server), seqState: .inMemory, audience: .friends([friend.permID]))
        let clock = server.clock
        announcer.clock = { clock.now }

        var records = [SignedRecord]()
        var waits = 0
        try announcer.keepAlive(
            .fixed(endpoints), checkInterval: 1, withdrawOnStop: true,
            wait: { _ in
                waits += 1
                if waits == 1 { clock.advance(by: 60) }
                return waits == 2
            },
            report: { event in
                switch event {
                case .announced(let record): records.append(record)
                case .retrying(let error, _): Issue.record("\(error)")
                }
            })
        let old = try owner.permID.blinded(epoch: epoch), new = try owner.permID.blinded(epoch: epoch + 1)
        #expect(records.map(\.permID) == [old, new, old, new])
        #expect(records[0].sealedBoxes?.count == 8 && records[0].expiresAt == boundary - 30 + 3_600)
        #expect(records[1].sealedBoxes?.count == 8 && records[1].issuedAt == boundary + 30)
        #expect(records[2].isWithdrawal && records[3].isWithdrawal)
        #expect(try SealedRecords.open(records[1], with: SealingPrivateKey(key: friend)) == endpoints)
        #expect(try server.get("/v1/peers/\(old.text)").body == records[2].json)
        #expect(try server.get("/v1/peers/\(new.text)").body == records[3].json)
    }

    /// Just before midnight by the resolver's clock, the friend (a minute ahead) has already moved to
    /// tomorrow's blinded PermID and withdrawn today's: the resolver asks for tomorrow's first.
    @Test func aFriendAheadAtMidnightIsFoundUnderTomorrowsPermID() throws {
        let server = try TestServer()
        let boundary = (server.now / 86_400 + 1) * 86_400
        server.clock.advance(by: boundary + 30 - server.now)
        let owner = try PrivateKey.generate(.ec(.p256))
        let friend = try PrivateKey.generate(.ec(.p256))
        let clock = server.clock
        var announcer = Announcer(key: owner, client: try client(server), seqState: .inMemory, audience: .friends([friend.permID]))
        announcer.clock = { clock.now }
        let today = boundary / 86_400 - 1
        _ = try announcer.withdraw(epoch: today)
        let record = try announcer.announce(endpoints)
        #expect(record.permID == (try owner.permID.blinded(epoch: today + 1)))
        var client = try client(server)
        client.clock = { clock.now - 60 }
        guard case .found(let found, let epoch, let opened) = try client.resolveFriend(owner.permID, key: friend) else {
            Issue.record("not found under tomorrow's PermID"); return
        }
        #expect(found == record && epoch == today + 1 && opened == endpoints)
        client.clock = { clock.now - 400 }
        guard case .found(let withdrawal, today, []) = try client.resolveFriend(owner.permID, key: friend) else {
            Issue.record("more than the skew before midnight, today's PermID is asked for"); return
        }
        #expect(withdrawal.isWithdrawal)
    }

    /// A friend finds the record under today's blinded PermID and, the day after (within the hour of
    /// grace), under yesterday's; a stranger's key finds it not shared; nothing is found past the grace.
    @Test func friendsResolveTodayThenYesterdayAndStrangersAreNotShared() throws {
        let server = try TestServer()
        let owner = try PrivateKey.generate(.libnacl)
        let friend = try PrivateKey.generate(.ed25519)
        let stranger = try PrivateKey.generate(.ed25519)
        let boundary = (server.now / 86_400 + 1) * 86_400
        server.clock.advance(by: boundary - 600 - server.now)
        let clock = server.clock
        var announcer = Announcer(key: owner, client: try client(server), seqState: .inMemory, audience: .friends([friend.permID]))
        announcer.clock = { clock.now }
        let record = try announcer.announce(endpoints)
        var client = try client(server)
        client.clock = { clock.now }

        guard case .found(let found, let epoch, let opened) = try client.resolveFriend(owner.permID, key: friend) else {
            Issue.record("not found today"); return
        }
        #expect(found == record && epoch == boundary / 86_400 - 1 && opened == endpoints)
        server.clock.advance(by: 1_200)
        guard case .found(_, let previous, let again) = try client.resolveFriend(owner.permID, key: friend) else {
            Issue.record("yesterday's record not found"); return
        }
        #expect(previous == epoch && again == endpoints)
        guard case .notShared(let shown, _) = try client.resolveFriend(owner.permID, key: stranger) else {
            Issue.record("a stranger's key opened a box"); return
        }
        #expect(shown == record)
        let location = try client.locate(friend: owner.permID, key: stranger)
        #expect(location.publicly == .notFound && location.endpoints == nil)
        server.clock.advance(by: 3_600)
        #expect(try client.resolveFriend(owner.permID, key: friend) == .notFound)
    }
}
