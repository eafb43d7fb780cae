import PermIDKit
import Testing

/// The special-purpose tables against the IANA registries, written out here independently: every
/// registry row must be in the table, and the first and last address of every row must get the
/// scope its "Globally Reachable" column gives, through the row that is most specific for them.
@Suite struct SpecialPurposeBlockTests {
    /// One registry row as IANA publishes it. `reachable` is the registry's "Globally Reachable"
    /// column ("True", "False", "N/A"), or "never" for the rows a directory always refuses
    /// (unspecified, multicast, limited broadcast, reserved).
    struct Row: Sendable, CustomTestStringConvertible {
        let block: String
        let reachable: String
        /// How the row's addresses carry an IPv4 address: "last32", "6to4", "teredo" or "".
        let embeds: String
        init(_ block: String, _ reachable: String, embeds: String = "") {
            self.block = block
            self.reachable = reachable
            self.embeds = embeds
        }
        var testDescription: String { block }
    }

    /// IANA IPv4 Special-Purpose Address Registry, then the multicast space.
    static let ipv4Rows: [Row] = [
        Row("0.0.0.0/8", "False"), Row("0.0.0.0/32", "never"), Row("10.0.0.0/8", "False"),
        Row("100.64.0.0/10", "False"), Row("127.0.0.0/8", "False"), Row("169.254.0.0/16", "False"),
        Row("172.16.0.0/12", "False"), Row("192.0.0.0/24", "False"), Row("192.0.0.0/29", "False"),
        Row("192.0.0.8/32", "False"), Row("192.0.0.9/32", "True"), Row("192.0.0.10/32", "True"),
        Row("192.0.0.170/32", "False"), Row("192.0.0.171/32", "False"), Row("192.0.2.0/24", "False"),
        Row("192.31.196.0/24", "True"), Row("192.52.193.0/24", "True"), Row("192.88.99.0/24", "N/A"),
        Row("192.168.0.0/16", "False"), Row("198.18.0.0/15", "False"), Row("198.51.100.0/24", "False"),
        Row("203.0.113.0/24", "False"), Row("240.0.0.0/4", "never"), Row("255.255.255.255/32", "never"),
        Row("224.0.0.0/4", "never"),
    ]

    /// IANA IPv6 Special-Purpose Address Registry, then the IPv6 Address Space rows it leaves out.
    static let ipv6Rows: [Row] = [
        Row("::1/128", "False"), Row("::/128", "never"), Row("::ffff:0:0/96", "False", embeds: "last32"),
        Row("64:ff9b::/96", "True", embeds: "last32"), Row("64:ff9b:1::/48", "False", embeds: "last32"),
        Row("100::/64", "False"), Row("100:0:0:1::/64", "False"), Row("2001::/23", "False"),
        Row("2001::/32", "N/A", embeds: "teredo"), Row("2001:1::1/128", "True"), Row("2001:1::2/128", "True"),
        Row("2001:1::3/128", "True"), Row("2001:2::/48", "False"), Row("2001:3::/32", "True"),
        Row("2001:4:112::/48", "True"), Row("2001:10::/28", "N/A"), Row("2001:20::/28", "True"),
        Row("2001:30::/28", "True"), Row("2001:db8::/32", "False"), Row("2002::/16", "N/A", embeds: "6to4"),
        Row("2620:4f:8000::/48", "True"), Row("3fff::/20", "False"), Row("5f00::/16", "False"),
        Row("fc00::/7", "False"), Row("fe80::/10", "False"),
        Row("::/96", "False", embeds: "last32"), Row("fec0::/10", "False"), Row("ff00::/8", "never"),
        Row("::/8", "never"), Row("100::/8", "never"), Row("200::/7", "never"), Row("400::/6", "never"),
        Row("800::/5", "never"), Row("1000::/4", "never"), Row("4000::/3", "never"), Row("6000::/3", "never"),
        Row("8000::/3", "never"), Row("a000::/3", "never"), Row("c000::/3", "never"), Row("e000::/4", "never"),
        Row("f000::/5", "never"), Row("f800::/6", "never"), Row("fe00::/9", "never"),
    ]

    @Test func theTablesHoldEveryRegistryRowAndNothingElse() {
        #expect(SpecialPurposeBlock.ipv4.map { "\($0.prefix)/\($0.length)" }.sorted() == Self.ipv4Rows.map(\.block).sorted())
        #expect(SpecialPurposeBlock.ipv6.map { "\($0.prefix)/\($0.length)" }.sorted() == Self.ipv6Rows.map(\.block).sorted())
    }

    @Test(arguments: ipv4Rows + ipv6Rows)
    func firstAndLastAddressOfEveryRowGetTheRegistryScope(row: Row) throws {
        let (first, last) = try Self.bounds(row.block)
        for address in [first, last] {
            let expected = try #require(Self.mostSpecificRow(for: address))
            #expect(address.specialPurposeBlock.map { "\($0.prefix)/\($0.length)" } == expected.block, "\(address)")
            #expect(address.scope == Self.expectedScope(address, row: expected), "\(address) in \(expected.block)")
        }
    }

    /// The addresses of the issue, and one just outside each IPv4 block, spelled out.
    @Test(arguments: [
        ("0.1.2.3", AddressScope.nonGlobal), ("0.0.0.0", .forbidden), ("1.0.0.0", .global),
        ("100.64.0.1", .nonGlobal), ("100.127.255.255", .nonGlobal), ("100.63.255.255", .global), ("100.128.0.0", .global),
        ("198.18.0.1", .nonGlobal), ("198.19.255.255", .nonGlobal), ("198.17.255.255", .global), ("198.20.0.0", .global),
        ("240.0.0.1", .forbidden), ("255.255.255.254", .forbidden), ("255.255.255.255", .forbidden),
        ("224.0.0.1", .forbidden), ("239.255.255.255", .forbidden), ("223.255.255.255", .global),
        ("192.0.0.9", .global), ("192.0.0.11", .nonGlobal), ("203.0.113.5", .nonGlobal), ("8.8.8.8", .global),
        ("::10.0.0.5", .nonGlobal), ("::8.8.8.8", .nonGlobal), ("::224.0.0.1", .forbidden), ("::0.0.0.2", .nonGlobal),
        ("::1", .nonGlobal), ("::", .forbidden), ("::1:0:0:0", .forbidden),
        ("64:ff9b::a00:5", .nonGlobal), ("64:ff9b::808:808", .global), ("64:ff9b::e000:1", .forbidden),
        ("64:ff9b::ffff:ffff", .forbidden), ("64:ff9b:1::a00:5", .nonGlobal), ("64:ff9b:1::808:808", .nonGlobal),
        ("2002:a00:5::1", .nonGlobal), ("2002:c0a8:101::", .nonGlobal), ("2002:808:808::1", .global), ("2002:e000:1::", .forbidden),
        ("2001:0:4136:e378:8000:63bf:3fff:fdd2", .nonGlobal), ("2001:0:808:808::f7f7:f7f7", .global),
        ("2001:0:808:808::f5ff:fffa", .nonGlobal), ("2001:0:a00:5::f7f7:f7f7", .nonGlobal),
        ("fec0::1", .nonGlobal), ("feff::1", .nonGlobal), ("fe80::1", .nonGlobal), ("fd00::1", .nonGlobal),
        ("ff02::1", .forbidden), ("2001:db8::1", .nonGlobal), ("3fff::1", .nonGlobal), ("4000::1", .forbidden),
        ("2606:4700::1111", .global), ("2001:4:112::1", .global), ("::ffff:10.0.0.1", .nonGlobal),
    ])
    func classifiesAddresses(text: String, scope: AddressScope) throws {
        #expect(try #require(IPAddress(text)).scope == scope)
    }

    @Test func embeddedAddressesAreUnwrappedAndNamed() throws {
        #expect(IPAddress("64:ff9b::a00:5")?.embeddedIPv4 == [IPAddress("10.0.0.5")!])
        #expect(IPAddress("2002:a00:5::1")?.embeddedIPv4 == [IPAddress("10.0.0.5")!])
        #expect(IPAddress("::10.0.0.5")?.embeddedIPv4 == [IPAddress("10.0.0.5")!])
        #expect(IPAddress("2001:0:4136:e378:8000:63bf:3fff:fdd2")?.embeddedIPv4 == [IPAddress("65.54.227.120")!, IPAddress("192.0.2.45")!])
        #expect(IPAddress("::1")?.embeddedIPv4 == [])
        #expect(IPAddress("10.0.0.5")?.embeddedIPv4 == [])
        let classification = try #require(IPAddress("64:ff9b::a00:5")).classification
        #expect(classification.carried == IPAddress("10.0.0.5"))
        #expect(classification.description == "carries 10.0.0.5: Private-Use (10.0.0.0/8, RFC 1918)")
        #expect(IPAddress("8.8.8.8")?.classification.description == "global unicast")
    }

    // MARK: - An independent reading of the rows

    private static func bounds(_ block: String) throws -> (IPAddress, IPAddress) {
        let parts = block.split(separator: "/")
        let prefix = try #require(IPAddress(parts[0]))
        let length = try #require(Int(parts[1]))
        let bits = prefix.bytes.count * 8
        let hostMask: UInt128 = length == bits ? 0 : (UInt128.max >> (128 - bits + length))
        return (prefix, address(value(prefix) | hostMask, bytes: prefix.bytes.count))
    }

    private static func value(_ address: IPAddress) -> UInt128 {
        address.bytes.reduce(0) { $0 << 8 | UInt128($1) }
    }

    private static func address(_ value: UInt128, bytes count: Int) -> IPAddress {
        IPAddress(bytes: (0..<count).map { UInt8(truncatingIfNeeded: value >> (8 * (count - 1 - $0))) })!
    }

    private static func contains(_ row: Row, _ address: IPAddress) -> Bool {
        let parts = row.block.split(separator: "/")
        let prefix = IPAddress(parts[0])!, length = Int(parts[1])!
        guard prefix.bytes.count == address.bytes.count else { return false }
        let shift = prefix.bytes.count * 8 - length
        return shift == 128 || value(prefix) >> shift == value(address) >> shift
    }

    private static func mostSpecificRow(for address: IPAddress) -> Row? {
        (ipv4Rows + ipv6Rows).filter { contains($0, address) }
            .max { Int($0.block.split(separator: "/")[1])! < Int($1.block.split(separator: "/")[1])! }
    }

    /// The registry's scope for `address` in `row`, made stricter by any IPv4 address it embeds.
    private static func expectedScope(_ address: IPAddress, row: Row) -> AddressScope {
        var scope: AddressScope = switch row.reachable {
        case "True": .global
        case "False": .nonGlobal
        case "never": .forbidden
        default: row.embeds.isEmpty ? .nonGlobal : .global
        }
        let bytes = address.bytes
        let embedded: [[UInt8]] = switch row.embeds {
        case "last32": [Array(bytes[12..<16])]
        case "6to4": [Array(bytes[2..<6])]
        case "teredo": [Array(bytes[4..<8]), bytes[12..<16].map { ~$0 }]
        default: []
        }
        for ipv4 in embedded.map({ IPAddress(bytes: $0)! }) {
            scope = max(scope, mostSpecificRow(for: ipv4).map { expectedScope(ipv4, row: $0) } ?? .global)
        }
        return scope
    }
}
