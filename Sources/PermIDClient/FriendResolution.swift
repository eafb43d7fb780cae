import PermIDKit

/// What the directory holds for a friend under the friend's blinded PermIDs (FRIENDS-v1 parts A and B),
/// after the client checked it.
public enum FriendResolution: Hashable, Sendable {
    /// A verified record under the friend's blinded PermID of ``epoch``: the endpoints of the box opened
    /// for us in a sealed record, or an open record's own endpoints (none for a withdrawal).
    case found(SignedRecord, epoch: UInt64, endpoints: [Endpoint])
    /// A verified sealed record under the friend's blinded PermID of `epoch` with no box our key opens.
    case notShared(SignedRecord, epoch: UInt64)
    /// Nothing live under the friend's blinded PermID of this epoch or the previous one.
    case notFound
    /// The directory served something that is not a valid record for the blinded PermID asked for, or a
    /// box that opens to something other than endpoints; the reason is printable.
    case forged(reason: String)
}

extension DirectoryClient {
    /// Finds `friend` privately: its blinded PermID of the current epoch (by ``clock``),
    /// then of the previous one, verifies the record served, and opens the box meant for `key` (our
    /// long-term key) in a sealed record. Within the protocol's clock skew (300 s) of the epoch's end it
    /// asks for the next epoch's first: a friend whose clock is ahead of ours may already have moved there
    /// (and withdrawn the current one).
    ///
    /// The public record under the friend's long-term PermID is not consulted: call ``resolve(_:)`` for it.
    ///
    /// - Throws: ``ClientError/invalidArgument(_:)`` for a friend whose key type cannot be blinded, or a
    ///   `key` that cannot open boxes, when a sealed record needs it; as ``resolve(_:)`` otherwise.
    public func resolveFriend(_ friend: PermID, key: PrivateKey?) throws(ClientError) -> FriendResolution {
        let now = clock()
        let current = Blinding.epoch(at: now)
        var epochs = current > 0 ? [current, current - 1] : [current]
        let (ahead, overflow) = now.addingReportingOverflow(ProtocolConstants.clockSkew)
        if !overflow, Blinding.epoch(at: ahead) > current { epochs.insert(current + 1, at: 0) }
        for epoch in epochs {
            let blinded: PermID
            do {
                blinded = try friend.blinded(epoch: epoch)
            } catch {
                throw .invalidArgument("\(friend.text.prefix(16))…: \(error)")
            }
            switch try resolve(blinded) {
            case .notFound:
                continue
            case .forged(let reason):
                return .forged(reason: reason)
            case .found(let record):
                guard record.sealedBoxes != nil else { return .found(record, epoch: epoch, endpoints: record.endpoints) }
                guard let key else { throw .invalidArgument("the record is sealed: a key is needed to open it") }
                do {
                    guard let endpoints = try SealedRecords.open(record, with: try SealingPrivateKey(key: key)) else {
                        return .notShared(record, epoch: epoch)
                    }
                    return .found(record, epoch: epoch, endpoints: endpoints)
                } catch {
                    if case .malformedPlaintext = error { return .forged(reason: "\(error)") }
                    throw .invalidArgument("\(error)")
                }
            }
        }
        return .notFound
    }
}

/// Where a friend is: found privately (``FriendResolution``), with the friend's public record as the fallback.
public struct FriendLocation: Hashable, Sendable {
    /// What the friend's blinded PermIDs gave; ``FriendResolution/notFound`` for a key type that cannot be blinded.
    public let privately: FriendResolution
    /// The friend's public record under its long-term PermID, asked for only when nothing private was usable
    /// (not found, or not shared with us); `nil` otherwise.
    public let publicly: Resolution?

    /// The verified endpoints to use, from the private record or else the public one; `nil` when neither
    /// gave a record (or a record was forged). Empty for a withdrawal.
    public var endpoints: [Endpoint]? {
        if case .found(_, _, let endpoints) = privately { return endpoints }
        if case .found(let record)? = publicly { return record.endpoints }
        return nil
    }
}

extension DirectoryClient {
    /// Finds `friend`: privately first (``resolveFriend(_:key:)``), then, if that found nothing or a
    /// sealed record not shared with `key`, through its public record (``resolve(_:)``).
    ///
    /// - Throws: as ``resolveFriend(_:key:)`` and ``resolve(_:)``.
    public func locate(friend: PermID, key: PrivateKey?) throws(ClientError) -> FriendLocation {
        let privately = friend.keyType.isBlindable ? try resolveFriend(friend, key: key) : .notFound
        switch privately {
        case .found, .forged: return FriendLocation(privately: privately, publicly: nil)
        case .notShared, .notFound: return FriendLocation(privately: privately, publicly: try resolve(friend))
        }
    }
}
