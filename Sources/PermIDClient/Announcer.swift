import PermIDKit

/// Who can read what an ``Announcer`` announces.
public enum Audience: Hashable, Sendable {
    /// Everyone: open records under the key's own PermID (PROTOCOL-v1).
    case everyone
    /// These friends only: sealed records under the key's blinded PermID of the current epoch, with a box for
    /// each friend's long-term PermID (FRIENDS-v1 parts A and B). Withdrawals are open records there (and
    /// need no friends: `.friends([])` only withdraws).
    case friends([PermID])
}

/// Builds, signs and PUTs records for one key, keeping its seq state (``SeqState``).
///
/// ```swift
/// var announcer = Announcer(key: key, client: client, seqState: .beside(keyFile: path))
/// let record = try announcer.announce([Endpoint("203.0.113.5:6881")!])
/// ```
public struct Announcer: Sendable {
    /// The key that signs.
    public let key: PrivateKey
    /// The directory announced to.
    public let client: DirectoryClient
    /// Seconds each record stays valid.
    public var ttl: UInt64
    /// The signature scheme; `nil` for the key type's default. Blinded keys always use their own (ed25519 or ecdsa-sha256).
    public var scheme: SignatureScheme?
    /// Who can read the endpoints.
    public var audience: Audience
    /// This machine's Unix time in seconds; replaceable so tests can move time (an epoch's turn).
    public var clock: @Sendable () -> UInt64 = { Clock.seconds() }
    /// Where the last seq used is kept.
    public private(set) var seqState: SeqState
    /// Seconds added to the local clock to date records by the directory's clock (learned from whoami or a
    /// clock-skew answer, at most ``maximumClockOffset`` either way).
    public private(set) var clockOffset: Int64 = 0

    /// The largest clock difference to the directory that is adopted: one hour.
    public static let maximumClockOffset: Int64 = 3_600

    /// Makes an announcer.
    ///
    /// - Parameters:
    ///   - key: the key that signs (its PermID is the one announced).
    ///   - client: the directory.
    ///   - seqState: where seq is kept: ``SeqState/beside(keyFile:)`` for a key file, ``SeqState/inMemory`` for a key never written.
    ///   - ttl: seconds each record stays valid.
    ///   - scheme: the signature scheme, `nil` for the key type's default.
    ///   - audience: who can read the endpoints: everyone, or only chosen friends.
    public init(
        key: PrivateKey, client: DirectoryClient, seqState: SeqState, ttl: UInt64 = 3_600, scheme: SignatureScheme? = nil,
        audience: Audience = .everyone
    ) {
        self.key = key
        self.client = client
        self.seqState = seqState
        self.ttl = ttl
        self.scheme = scheme
        self.audience = audience
    }

    /// Announces `endpoints` (none for a withdrawal) and returns the stored record. On a 409 it moves past the
    /// stored seq once; on a clock-skew answer it adopts the directory's clock once.
    ///
    /// For ``Audience/friends(_:)`` the record is under the blinded PermID of the epoch of its `issued_at`,
    /// expires at the latest an hour after that epoch ends, and is sealed (a withdrawal is open).
    ///
    /// A clock-based seq is saved before it is sent, so it is never reused. A seq past a 409's `stored_seq`
    /// (a jump) is saved only once a directory has accepted it (2xx): a 409 proves nothing, since anyone on
    /// the path can send one. No seq past ``SeqState/ceiling()`` is ever sent or saved.
    ///
    /// - Throws: ``ClientError/refused(_:)`` when the directory refuses; ``ClientError/untrustworthyAnswer(_:)``
    ///   for a stored seq more than a day ahead or a clock more than an hour off; ``ClientError/unreachable(server:reason:)``;
    ///   ``ClientError/local(_:)`` when the record cannot be signed or the seq state cannot be used.
    public mutating func announce(_ endpoints: [Endpoint]) throws(ClientError) -> SignedRecord {
        try announce(endpoints, epoch: nil)
    }

    /// Announces as ``announce(_:)``; for friends, under the blinded PermID of `epoch` (`nil`: the current one).
    private mutating func announce(_ endpoints: [Endpoint], epoch: UInt64?) throws(ClientError) -> SignedRecord {
        var jumpedSeq: UInt64?
        var retriedSeq = false, retriedClock = false
        while true {
            let seq: UInt64
            if let jumpedSeq { seq = jumpedSeq } else { seq = try seqState.next() }
            let issuedAt = directoryTime
            let record = try sign(endpoints, seq: seq, issuedAt: issuedAt, epoch: epoch)
            if jumpedSeq == nil { try seqState.save(seq) }
            let response = try client.send("PUT", "/v1/peers/\(record.permID.text)", json: record.json)
            switch response.status {
            case 200, 201:
                if jumpedSeq != nil { try seqState.save(seq) }
                return record
            case 409 where !retriedSeq:
                retriedSeq = true
                jumpedSeq = try jump(past: response.refusal.storedSeq)
            case 400 where response.refusal.slug == "clock-skew" && !retriedClock:
                retriedClock = true
                try adoptClock(of: try client.whoami().serverTime)
            default:
                throw .refused(response.refusal)
            }
        }
    }

    /// Announces no endpoints: the directory then serves a signed withdrawal. Throws as ``announce(_:)``.
    public mutating func withdraw() throws(ClientError) -> SignedRecord {
        try announce([])
    }

    /// For friends: withdraws the record under the blinded PermID of a past `epoch` (its records expire an
    /// hour after the epoch ends). Throws as ``announce(_:)``.
    public mutating func withdraw(epoch: UInt64) throws(ClientError) -> SignedRecord {
        try announce([], epoch: epoch)
    }

    /// The signed record for `endpoints`: open under the key's PermID, or under the blinded PermID with boxes for friends.
    private func sign(_ endpoints: [Endpoint], seq: UInt64, issuedAt: UInt64, epoch: UInt64?) throws(ClientError) -> SignedRecord {
        switch audience {
        case .everyone:
            do {
                return try SignedRecord.sign(
                    with: key, scheme: scheme, seq: seq, issuedAt: issuedAt, expiresAt: issuedAt + ttl, endpoints: endpoints)
            } catch {
                throw .local("cannot sign: \(error)")
            }
        case .friends(let friends):
            let epoch = epoch ?? Blinding.epoch(at: issuedAt)
            let blinded: BlindedPrivateKey
            do {
                blinded = try key.blinded(epoch: epoch)
            } catch {
                throw .invalidArgument("\(error)")
            }
            let expiresAt = min(issuedAt + ttl, Blinding.latestExpiry(epoch: epoch))
            guard expiresAt > issuedAt else {
                throw .invalidArgument("epoch \(epoch)'s records expired at \(Blinding.latestExpiry(epoch: epoch)); nothing to announce under it")
            }
            let content: RecordContent
            do {
                content = endpoints.isEmpty
                    ? .endpoints([])
                    : .sealed(try SealedRecords.boxes(endpoints, for: friends, recordPermID: blinded.permID, seq: seq))
            } catch {
                throw .invalidArgument("\(error)")
            }
            do {
                return try SignedRecord.sign(with: blinded, seq: seq, issuedAt: issuedAt, expiresAt: expiresAt, content: content)
            } catch {
                throw .local("cannot sign: \(error)")
            }
        }
    }

    /// The address the directory sees (`GET /v1/whoami`) with `port`, adopting the directory's clock.
    ///
    /// - Throws: as ``DirectoryClient/whoami()``, and ``ClientError/untrustworthyAnswer(_:)`` for a clock more than an hour off.
    public mutating func observedEndpoints(port: UInt16) throws(ClientError) -> [Endpoint] {
        let seen = try client.whoami()
        try adoptClock(of: seen.serverTime)
        return [Endpoint(address: seen.ip, port: port)]
    }

    /// Dates records by the directory's clock when it differs from ours, within an hour; beyond that the
    /// local clock is wrong or the directory lies, and both deserve a person's attention.
    ///
    /// - Throws: ``ClientError/untrustworthyAnswer(_:)`` when the clocks differ by more than ``maximumClockOffset``.
    public mutating func adoptClock(of serverTime: UInt64) throws(ClientError) {
        guard let offset = Clock.secondsAhead(of: serverTime, local: clock()), abs(offset) <= Self.maximumClockOffset else {
            throw .untrustworthyAnswer("the directory's clock (server_time \(serverTime)) differs from this machine's by more than an hour; fix the clock or use another directory")
        }
        clockOffset = offset
    }

    /// Unix seconds by the directory's clock, as far as it is known: ``clock`` plus ``clockOffset``.
    var directoryTime: UInt64 { UInt64(max(0, Int64(clamping: clock()) + clockOffset)) }

    /// The seq to retry with after a 409 naming `stored`: one past it when that is ahead of the next
    /// clock-based seq (`nil`, the next clock-based seq, otherwise or when the answer names none).
    private func jump(past stored: UInt64?) throws(ClientError) -> UInt64? {
        guard let stored else { return nil }
        guard stored < SeqState.ceiling() else {
            throw .untrustworthyAnswer("the directory claims stored seq \(stored), more than a day ahead of this machine's clock; refusing to jump to it")
        }
        return stored + 1 > (try seqState.next()) ? stored + 1 : nil
    }
}
