/// How far packets to an address can go, and so whether a directory accepts it as an endpoint.
/// Ordered from the most to the least usable.
public enum AddressScope: Int, Comparable, Hashable, Sendable {
    /// Globally reachable: accepted as an endpoint under every policy.
    case global
    /// Not globally reachable (private, shared, loopback, link-local, documentation, benchmarking,
    /// …): under the `any` policy, accepted only with `--allow-private`.
    case nonGlobal
    /// Never an endpoint under any policy: unspecified, multicast, broadcast or reserved.
    case forbidden

    public static func < (lhs: AddressScope, rhs: AddressScope) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// Where an IPv6 block carries an IPv4 address that a translator, a tunnel or the host's own stack
/// would send packets to.
public enum IPv4Embedding: Hashable, Sendable {
    /// The last 32 bits: NAT64 with a /96 prefix (RFC 6052), IPv4-compatible and IPv4-mapped addresses.
    case lastThirtyTwoBits
    /// Bits 16–47: 6to4 (RFC 3056), `2002:AABB:CCDD::`.
    case sixToFour
    /// Teredo (RFC 4380): the server in bits 32–63, and the client's address, inverted, in the last 32 bits.
    case teredo

    /// The IPv4 addresses embedded in `bytes`, a 16-byte IPv6 address.
    func addresses(in bytes: [UInt8]) -> [IPAddress] {
        switch self {
        case .lastThirtyTwoBits: [IPAddress(bytes: Array(bytes[12..<16]))!]
        case .sixToFour: [IPAddress(bytes: Array(bytes[2..<6]))!]
        case .teredo: [IPAddress(bytes: Array(bytes[4..<8]))!, IPAddress(bytes: bytes[12..<16].map { ~$0 })!]
        }
    }
}

/// One row of the special-purpose address tables: a block, what its registry calls it, and the scope
/// a directory gives its addresses.
///
/// The rows are the IANA IPv4 and IPv6 Special-Purpose Address Registries (RFC 6890 and the RFCs
/// that updated them), each with its "Globally Reachable" column, plus the rows of the IANA address
/// space registries that no special-purpose row covers: multicast, IPv6 space reserved by the IETF,
/// deprecated site-local and IPv4-compatible addresses. An address takes the scope of the most
/// specific row holding it (``IPAddress/classification``):
/// - "Globally Reachable: True" is ``AddressScope/global``; "False" is ``AddressScope/nonGlobal``;
/// - "N/A" (6to4, Teredo) is ``AddressScope/global`` for the block itself, and the embedded IPv4
///   addresses decide; the deprecated ORCHID and 6to4-relay blocks, with nothing embedded, are
///   ``AddressScope/nonGlobal``;
/// - unspecified, multicast, limited broadcast and reserved blocks are ``AddressScope/forbidden``.
public struct SpecialPurposeBlock: Hashable, Sendable, CustomStringConvertible {
    /// The first address of the block.
    public let prefix: IPAddress
    /// The prefix length in bits.
    public let length: Int
    /// The registry's name for the block.
    public let name: String
    /// The RFC that defines the block.
    public let reference: String
    /// The scope of the block's own addresses, before any embedded IPv4 address is looked at.
    public let scope: AddressScope
    /// Where the block's addresses carry an IPv4 address, if they do.
    public let embedding: IPv4Embedding?

    private init(_ block: String, _ name: String, _ reference: String, _ scope: AddressScope, embedding: IPv4Embedding? = nil) {
        let parts = block.split(separator: "/")
        prefix = IPAddress(parts[0])!
        length = Int(parts[1])!
        self.name = name
        self.reference = reference
        self.scope = scope
        self.embedding = embedding
    }

    /// `name (block, reference)`, e.g. `Private-Use (10.0.0.0/8, RFC 1918)`.
    public var description: String { "\(name) (\(prefix)/\(length), \(reference))" }

    /// Whether `address` is of the same family and inside the block.
    public func contains(_ address: IPAddress) -> Bool {
        guard address.bytes.count == prefix.bytes.count else { return false }
        let whole = length / 8, rest = length % 8
        guard address.bytes[..<whole] == prefix.bytes[..<whole] else { return false }
        guard rest > 0 else { return true }
        let mask = UInt8(0xFF) << (8 - rest)
        return address.bytes[whole] & mask == prefix.bytes[whole]
    }

    // MARK: - The tables

    /// The IPv4 rows: the IANA IPv4 Special-Purpose Address Registry, plus multicast.
    public static let ipv4: [SpecialPurposeBlock] = [
        .init("0.0.0.0/8", "This network", "RFC 791", .nonGlobal),
        .init("0.0.0.0/32", "This host on this network (unspecified)", "RFC 1122", .forbidden),
        .init("10.0.0.0/8", "Private-Use", "RFC 1918", .nonGlobal),
        .init("100.64.0.0/10", "Shared Address Space", "RFC 6598", .nonGlobal),
        .init("127.0.0.0/8", "Loopback", "RFC 1122", .nonGlobal),
        .init("169.254.0.0/16", "Link Local", "RFC 3927", .nonGlobal),
        .init("172.16.0.0/12", "Private-Use", "RFC 1918", .nonGlobal),
        .init("192.0.0.0/24", "IETF Protocol Assignments", "RFC 6890", .nonGlobal),
        .init("192.0.0.0/29", "IPv4 Service Continuity Prefix", "RFC 7335", .nonGlobal),
        .init("192.0.0.8/32", "IPv4 dummy address", "RFC 7600", .nonGlobal),
        .init("192.0.0.9/32", "Port Control Protocol Anycast", "RFC 7723", .global),
        .init("192.0.0.10/32", "Traversal Using Relays around NAT Anycast", "RFC 8155", .global),
        .init("192.0.0.170/32", "NAT64/DNS64 Discovery", "RFC 8880", .nonGlobal),
        .init("192.0.0.171/32", "NAT64/DNS64 Discovery", "RFC 8880", .nonGlobal),
        .init("192.0.2.0/24", "Documentation (TEST-NET-1)", "RFC 5737", .nonGlobal),
        .init("192.31.196.0/24", "AS112-v4", "RFC 7535", .global),
        .init("192.52.193.0/24", "AMT", "RFC 7450", .global),
        .init("192.88.99.0/24", "Deprecated (6to4 Relay Anycast)", "RFC 7526", .nonGlobal),
        .init("192.168.0.0/16", "Private-Use", "RFC 1918", .nonGlobal),
        .init("198.18.0.0/15", "Benchmarking", "RFC 2544", .nonGlobal),
        .init("198.51.100.0/24", "Documentation (TEST-NET-2)", "RFC 5737", .nonGlobal),
        .init("203.0.113.0/24", "Documentation (TEST-NET-3)", "RFC 5737", .nonGlobal),
        .init("240.0.0.0/4", "Reserved", "RFC 1112", .forbidden),
        .init("255.255.255.255/32", "Limited Broadcast", "RFC 919", .forbidden),
        // Not in the special-purpose registry: the IPv4 Multicast Address Space registry.
        .init("224.0.0.0/4", "Multicast", "RFC 5771", .forbidden),
    ]

    /// The IPv6 rows: the IANA IPv6 Special-Purpose Address Registry, plus the rows of the IPv6
    /// Address Space registry that it does not cover.
    public static let ipv6: [SpecialPurposeBlock] = [
        .init("::1/128", "Loopback Address", "RFC 4291", .nonGlobal),
        .init("::/128", "Unspecified Address", "RFC 4291", .forbidden),
        .init("::ffff:0:0/96", "IPv4-mapped Address", "RFC 4291", .nonGlobal, embedding: .lastThirtyTwoBits),
        .init("64:ff9b::/96", "IPv4-IPv6 Translat.", "RFC 6052", .global, embedding: .lastThirtyTwoBits),
        .init("64:ff9b:1::/48", "IPv4-IPv6 Translat. (local use)", "RFC 8215", .nonGlobal, embedding: .lastThirtyTwoBits),
        .init("100::/64", "Discard-Only Address Block", "RFC 6666", .nonGlobal),
        .init("100:0:0:1::/64", "Dummy IPv6 Prefix", "RFC 9780", .nonGlobal),
        .init("2001::/23", "IETF Protocol Assignments", "RFC 2928", .nonGlobal),
        .init("2001::/32", "TEREDO", "RFC 4380", .global, embedding: .teredo),
        .init("2001:1::1/128", "Port Control Protocol Anycast", "RFC 7723", .global),
        .init("2001:1::2/128", "Traversal Using Relays around NAT Anycast", "RFC 8155", .global),
        .init("2001:1::3/128", "DNS-SD Service Registration Protocol Anycast", "RFC 9665", .global),
        .init("2001:2::/48", "Benchmarking", "RFC 5180", .nonGlobal),
        .init("2001:3::/32", "AMT", "RFC 7450", .global),
        .init("2001:4:112::/48", "AS112-v6", "RFC 7535", .global),
        .init("2001:10::/28", "Deprecated (previously ORCHID)", "RFC 4843", .nonGlobal),
        .init("2001:20::/28", "ORCHIDv2", "RFC 7343", .global),
        .init("2001:30::/28", "Drone Remote ID Protocol Entity Tags (DETs) Prefix", "RFC 9374", .global),
        .init("2001:db8::/32", "Documentation", "RFC 3849", .nonGlobal),
        .init("2002::/16", "6to4", "RFC 3056", .global, embedding: .sixToFour),
        .init("2620:4f:8000::/48", "Direct Delegation AS112 Service", "RFC 7534", .global),
        .init("3fff::/20", "Documentation", "RFC 9637", .nonGlobal),
        .init("5f00::/16", "Segment Routing (SRv6) SIDs", "RFC 9602", .nonGlobal),
        .init("fc00::/7", "Unique-Local", "RFC 4193", .nonGlobal),
        .init("fe80::/10", "Link-Local Unicast", "RFC 4291", .nonGlobal),
        // Not in the special-purpose registry: the IPv6 Address Space registry. Only 2000::/3 is
        // allocated for global unicast; the rest not named above is reserved by the IETF.
        .init("::/96", "IPv4-compatible Address (deprecated)", "RFC 4291", .nonGlobal, embedding: .lastThirtyTwoBits),
        .init("fec0::/10", "Site-Local Unicast (deprecated)", "RFC 3879", .nonGlobal),
        .init("ff00::/8", "Multicast", "RFC 4291", .forbidden),
        .init("::/8", "Reserved by IETF", "RFC 4291", .forbidden),
        .init("100::/8", "Reserved by IETF", "RFC 4291", .forbidden),
        .init("200::/7", "Reserved by IETF", "RFC 4048", .forbidden),
        .init("400::/6", "Reserved by IETF", "RFC 4291", .forbidden),
        .init("800::/5", "Reserved by IETF", "RFC 4291", .forbidden),
        .init("1000::/4", "Reserved by IETF", "RFC 4291", .forbidden),
        .init("4000::/3", "Reserved by IETF", "RFC 4291", .forbidden),
        .init("6000::/3", "Reserved by IETF", "RFC 4291", .forbidden),
        .init("8000::/3", "Reserved by IETF", "RFC 4291", .forbidden),
        .init("a000::/3", "Reserved by IETF", "RFC 4291", .forbidden),
        .init("c000::/3", "Reserved by IETF", "RFC 4291", .forbidden),
        .init("e000::/4", "Reserved by IETF", "RFC 4291", .forbidden),
        .init("f000::/5", "Reserved by IETF", "RFC 4291", .forbidden),
        .init("f800::/6", "Reserved by IETF", "RFC 4291", .forbidden),
        .init("fe00::/9", "Reserved by IETF", "RFC 4291", .forbidden),
    ]
}
