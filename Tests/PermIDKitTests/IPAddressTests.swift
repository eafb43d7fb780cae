import Testing
import PermIDKit

@Suite struct IPAddressTests {
    @Test(arguments: [
        ("203.0.113.5", "203.0.113.5"),
        ("0.0.0.0", "0.0.0.0"),
        ("255.255.255.255", "255.255.255.255"),
        ("10.99.100.9", "10.99.100.9"),
        ("2001:DB8::5", "2001:db8::5"),
        ("2001:0db8:0000:0000:0000:0000:0000:0005", "2001:db8::5"),
        ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"),
        ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),
        ("0:0:0:0:0:0:0:1", "::1"),
        ("::", "::"),
        ("fe80::", "fe80::"),
        ("1::", "1::"),
        ("::ffff:1.2.3.4", "::ffff:102:304"),
        ("64:ff9b::192.0.2.33", "64:ff9b::c000:221"),
        ("1:0:0:2:0:0:0:3", "1:0:0:2::3"),
    ])
    func parsesAndPrintsCanonicalText(input: String, canonical: String) throws {
        let address = try #require(IPAddress(input))
        #expect(address.description == canonical)
        #expect(IPAddress(canonical) == address)
    }

    /// Every IPv4 byte prints as its decimal digits, with no leading zeros, in every position.
    @Test func everyIPv4BytePrintsAsItsDigits() throws {
        for byte in 0...255 {
            let address = try #require(IPAddress(bytes: [UInt8(byte), 1, UInt8(byte), UInt8(255 - byte)]))
            #expect(address.description == "\(byte).1.\(byte).\(255 - byte)")
        }
    }

    @Test(arguments: [
        "", "1.2.3", "1.2.3.4.5", "01.2.3.4", "256.1.1.1", "1.2.3.-4", " 1.2.3.4", "1.2.3.4 ", "a.b.c.d",
        ":::", "1:::2", "1::2::3", "12345::", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", "fe80::1%eth0", "::1/128",
        "[::1]", "1:2:3:4:5:6:7::8", "g::", "::1.2.3", ":1::", "1::2:",
    ])
    func rejectsInvalidText(_ input: String) {
        #expect(IPAddress(input) == nil)
    }

    @Test func unmapsIPv4MappedAddresses() throws {
        func address(_ text: String) throws -> IPAddress { try #require(IPAddress(text)) }
        #expect(try address("::ffff:10.0.0.1").isIPv4Mapped && address("::ffff:10.0.0.1").unmapped == address("10.0.0.1"))
        #expect(try !address("::10.0.0.1").isIPv4Mapped && address("::10.0.0.1").unmapped == address("::10.0.0.1"))
    }

    @Test func endpointTextRoundTrips() throws {
        #expect(Endpoint("203.0.113.5:6881")?.description == "203.0.113.5:6881")
        #expect(Endpoint("[2001:db8::5]:6881")?.description == "[2001:db8::5]:6881")
        for bad in ["203.0.113.5", "203.0.113.5:0", "203.0.113.5:65536", "2001:db8::5:6881", "[2001:db8::5]6881", "x:1"] {
            #expect(Endpoint(bad) == nil, "\(bad)")
        }
        let endpoints = [Endpoint("1.2.3.4:1")!, Endpoint("[::1]:65535")!]
        #expect(Endpoint.decode(Endpoint.encode(endpoints)) == endpoints)
        #expect(Endpoint.decode([4, 1, 2, 3]) == nil)
    }
}
