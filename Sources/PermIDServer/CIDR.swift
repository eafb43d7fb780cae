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

/// Finds a request's source address: the direct peer, or, only when the peer is a trusted proxy,
/// the nearest untrusted address named by `Forwarded` (preferred) or `X-Forwarded-For`.
public struct SourceAddressResolver: Sendable {
    /// Proxies whose forwarding headers are believed.
    public var trustedProxies: [CIDR]

    /// Makes a resolver trusting `trustedProxies`.
    public init(trustedProxies: [CIDR]) { self.trustedProxies = trustedProxies }

    /// The source address and, when known, port of `request`.
    public func source(of request: HTTPRequest) -> (address: IPAddress, port: UInt16?) {
        let peer = (request.peerAddress, Optional(request.peerPort))
        guard isTrusted(request.peerAddress) else { return peer }
        // Each hop as sent, nearest last; nil where a hop is not an address (`unknown`, an obfuscated name).
        var hops: [(IPAddress, UInt16?)?] = []
        if let forwarded = request.headers["forwarded"] {
            hops = forwarded.split(separator: ",").map { element in
                element.split(separator: ";").lazy.compactMap { pair -> Substring? in
                    let trimmed = pair.drop { $0 == " " }
                    return trimmed.lowercased().hasPrefix("for=") ? trimmed.dropFirst(4) : nil
                }.first.flatMap(Self.node)
            }
        } else if let forwardedFor = request.headers["x-forwarded-for"] {
            hops = forwardedFor.split(separator: ",").map { Self.node($0) }
        }
        // Walk back from the nearest hop: the first address that is not a trusted proxy is the client.
        // A hop that is not an address ends the walk; the last trusted hop is then the best we know.
        var source = peer
        for hop in hops.reversed() {
            guard let hop else { return source }
            if !isTrusted(hop.0) { return hop }
            source = hop
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
