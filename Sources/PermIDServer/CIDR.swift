import PermIDKit

/// An address range such as `10.0.0.0/8` or `2001:db8::/32`.
public struct CIDR: Hashable, Sendable, CustomStringConvertible {
    /// The network address.
    public let network: IPAddress
    /// The prefix length in bits.
    public let prefixLength: Int

    /// Parses `ADDRESS/BITS`, or a bare address (a single host).
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let address = IPAddress(parts[0]) else { return nil }
        let maximum = address.bytes.count * 8
        let length = parts.count == 2 ? Int(parts[1]) : maximum
        guard let length, (0...maximum).contains(length), parts.count == 1 || parts[1].allSatisfy(\.isNumber) else { return nil }
        network = address
        prefixLength = length
    }

    /// The range of `prefixLength` bits (clamped to the address's size) around `address`.
    public init(network address: IPAddress, prefixLength: Int) {
        network = address
        self.prefixLength = min(max(0, prefixLength), address.bytes.count * 8)
    }

    /// The network address with the host bits cleared: one key for every address in the range.
    public var maskedBytes: [UInt8] {
        var remaining = prefixLength
        return network.bytes.map { byte in
            let bits = min(8, max(0, remaining))
            remaining -= 8
            return byte & UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
        }
    }

    /// Whether `address` is in this range.
    public func contains(_ address: IPAddress) -> Bool {
        guard address.bytes.count == network.bytes.count else { return false }
        var remaining = prefixLength
        for (a, b) in zip(address.bytes, network.bytes) where remaining > 0 {
            let bits = min(8, remaining)
            let mask = UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
            if a & mask != b & mask { return false }
            remaining -= bits
        }
        return true
    }

    public var description: String { "\(network)/\(prefixLength)" }
}

/// The forwarding header a trusted proxy sets.
public enum ProxyHeader: String, Hashable, Sendable, CaseIterable {
    /// `X-Forwarded-For: client, proxy1, …` (nginx's `$proxy_add_x_forwarded_for`, HAProxy, most load balancers).
    case xForwardedFor = "x-forwarded-for"
    /// `Forwarded: for=client, for=proxy1` (RFC 7239).
    case forwarded
}

/// Finds a request's source address: the direct peer, or, only when the peer is a trusted proxy,
/// the nearest untrusted address named by the one forwarding header the operator's proxy sets. The
/// other header is ignored: a proxy that sets one passes the other through from the client untouched.
public struct SourceAddressResolver: Sendable {
    /// Proxies whose forwarding header is believed.
    public var trustedProxies: [CIDR]
    /// The header they set.
    public var header: ProxyHeader

    /// Makes a resolver trusting `trustedProxies`' `header`.
    public init(trustedProxies: [CIDR], header: ProxyHeader = .xForwardedFor) {
        self.trustedProxies = trustedProxies
        self.header = header
    }

    /// The source of a request from `peer` (address and port) with `headers` (lowercase names).
    public func source(peer: IPAddress, port: UInt16, headers: [String: String]) -> SourceAddress {
        let direct = SourceAddress(address: peer, port: port)
        guard isTrusted(peer), let value = headers[header.rawValue] else { return direct }
        // Each hop as sent, nearest last; nil where a hop is not an address (`unknown`, an obfuscated name).
        let hops: [(IPAddress, UInt16?)?] = switch header {
        case .forwarded:
            value.split(separator: ",").map { element in
                element.split(separator: ";").lazy.compactMap { pair -> Substring? in
                    let trimmed = pair.drop { $0 == " " }
                    return trimmed.lowercased().hasPrefix("for=") ? trimmed.dropFirst(4) : nil
                }.first.flatMap(Self.node)
            }
        case .xForwardedFor:
            value.split(separator: ",").map { Self.node($0) }
        }
        // Walk back from the nearest hop: the first address that is not a trusted proxy is the client.
        // A hop that is not an address ends the walk; the last trusted hop is then the best we know.
        var source = direct
        for hop in hops.reversed() {
            guard let hop else { return source }
            source = SourceAddress(address: hop.0, port: hop.1)
            if !isTrusted(hop.0) { return source }
        }
        return source
    }

    private func isTrusted(_ address: IPAddress) -> Bool {
        trustedProxies.contains { $0.contains(address) }
    }

    /// Parses a node: `1.2.3.4`, `1.2.3.4:80`, `"[2001:db8::1]:80"`, `2001:db8::1`.
    private static func node(_ text: Substring) -> (IPAddress, UInt16?)? {
        var value = text.trimmingCharacters(in: " \"")
        if value.hasPrefix("[") {
            guard let close = value.firstIndex(of: "]") else { return nil }
            let port = value[value.index(after: close)...].dropFirst()
            value = String(value[value.index(after: value.startIndex)..<close])
            return IPAddress(value).map { ($0.unmapped, UInt16(port)) }
        }
        if let address = IPAddress(value) { return (address.unmapped, nil) }
        let parts = value.split(separator: ":")
        guard parts.count == 2, let address = IPAddress(parts[0]) else { return nil }
        return (address.unmapped, UInt16(parts[1]))
    }
}

extension StringProtocol {
    fileprivate func trimmingCharacters(in characters: String) -> String {
        String(drop { characters.contains($0) }.reversed().drop { characters.contains($0) }.reversed())
    }
}
