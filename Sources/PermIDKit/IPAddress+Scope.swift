/// Why an address has its ``AddressScope``: the special-purpose block that decided, and the embedded
/// IPv4 address it was found through, if any.
public struct AddressClassification: Hashable, Sendable, CustomStringConvertible {
    /// How far the address reaches: the most restricted of its own block and its embedded addresses'.
    public let scope: AddressScope
    /// The block that decided the scope; `nil` for ordinary global unicast.
    public let block: SpecialPurposeBlock?
    /// The embedded IPv4 address whose block decided, when it was not the address's own.
    public let carried: IPAddress?

    /// E.g. `Private-Use (10.0.0.0/8, RFC 1918)`, or `carries 10.0.0.5: Private-Use (10.0.0.0/8, RFC 1918)`.
    public var description: String {
        let what = block?.description ?? "global unicast"
        return carried.map { "carries \($0): \(what)" } ?? what
    }
}

extension IPAddress {
    /// The most specific row of ``SpecialPurposeBlock/ipv4`` or ``SpecialPurposeBlock/ipv6`` that holds
    /// this address, or `nil` when none does (ordinary global unicast).
    public var specialPurposeBlock: SpecialPurposeBlock? {
        let table = bytes.count == 4 ? SpecialPurposeBlock.ipv4 : SpecialPurposeBlock.ipv6
        return table.filter { $0.contains(self) }.max { $0.length < $1.length }
    }

    /// The IPv4 addresses this IPv6 address carries for a translator or tunnel to send to (NAT64,
    /// 6to4, Teredo, IPv4-compatible, IPv4-mapped); empty for IPv4 and for other IPv6 addresses.
    public var embeddedIPv4: [IPAddress] {
        guard let block = specialPurposeBlock, let embedding = block.embedding else { return [] }
        return embedding.addresses(in: bytes)
    }

    /// The scope of this address and why: its own block's, or an embedded IPv4 address's when that is
    /// more restricted, so `64:ff9b::a00:5` (NAT64 of 10.0.0.5) is as private as 10.0.0.5.
    public var classification: AddressClassification {
        let own = specialPurposeBlock
        var result = AddressClassification(scope: own?.scope ?? .global, block: own, carried: nil)
        guard let embedding = own?.embedding else { return result }
        for carried in embedding.addresses(in: bytes) {
            let block = carried.specialPurposeBlock
            let scope = block?.scope ?? .global
            if scope > result.scope { result = AddressClassification(scope: scope, block: block, carried: carried) }
        }
        return result
    }

    /// How far packets to this address can go; see ``classification``.
    public var scope: AddressScope { classification.scope }
}
