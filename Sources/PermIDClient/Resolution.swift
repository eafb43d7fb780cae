import PermIDKit

/// What a directory holds for one PermID, after the client checked it.
public enum Resolution: Hashable, Sendable {
    /// A record whose signature verifies against the PermID asked for, for that PermID, not expired.
    /// A withdrawal (``PermIDKit/SignedRecord/isWithdrawal``) is found too: its owner says "not reachable".
    case found(SignedRecord)
    /// The directory has no record for it.
    case notFound
    /// The directory served something that is not a valid record for the PermID asked for; the reason is printable.
    case forged(reason: String)
}
