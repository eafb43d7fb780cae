/// The numbers of PROTOCOL-v1 in one place. The validator, the server's defaults and the CLI's help
/// texts derive from these; nothing else spells them out.
public enum ProtocolConstants {
    /// The allowed distance between `issued_at` and the directory's clock, in seconds (§4 rule 2).
    public static let clockSkew: UInt64 = 300
    /// The longest allowed `expires_at − issued_at`, in seconds (§4 rule 2).
    public static let maxTTL: UInt64 = 86_400
    /// The largest announcement body a directory accepts, in bytes (§4 rule 5: room for FRIENDS-v1 sealed records; 4 KiB was the first version's).
    public static let announcementBodyLimit = 32 * 1024
    /// The largest batch lookup body, in bytes (§4 rule 5).
    public static let lookupBodyLimit = 128 * 1024
    /// The most PermIDs in one batch lookup (§5).
    public static let lookupLimit = 1_000
    /// The `limit` values a listing accepts (§5).
    public static let listingLimits = 1...1_000
    /// The page size of a listing without `limit` (§5).
    public static let defaultListingLimit = 100
    /// The `wait` values a resolve accepts, in seconds (long-poll; see docs/protocol.md).
    public static let watchSeconds = 1...300
    /// The length of a blinding epoch in seconds: `epoch` = ⌊unix_time / period⌋ (FRIENDS-v1 part A).
    public static let blindingPeriod: UInt64 = 86_400
    /// How long past the end of its epoch a record under a blinded PermID may stay valid, in seconds (FRIENDS-v1 part A).
    public static let blindedRecordGrace: UInt64 = 3_600
    /// How many boxes a sealed record carries (FRIENDS-v1 part B).
    public static let sealedBoxCounts = 1...64
    /// The sizes a sealed box may have, in bytes (FRIENDS-v1 part B).
    public static let sealedBoxSizes = 1...512
    /// The length of every box's plaintext: u8 count ‖ endpoints ‖ zero bytes (FRIENDS-v1 part B).
    public static let sealedPlaintextLength = 160
    /// Tools pad a sealed record's box list to a multiple of this (FRIENDS-v1 part B).
    public static let sealedBoxPadding = 8
}
