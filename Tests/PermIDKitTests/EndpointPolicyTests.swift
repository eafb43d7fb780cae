import PermIDKit
import Testing

/// The `any` policy refuses what is not globally reachable unless private endpoints are allowed, and
/// no policy lets an endpoint be unspecified, multicast, broadcast or reserved.
@Suite struct EndpointPolicyTests {
    static let source = IPAddress("192.31.196.1")!

    /// Not globally reachable, directly or through the IPv4 address they carry.
    static let nonGlobal = [
        "10.0.0.5", "0.1.2.3", "100.64.0.1", "198.18.0.1", "203.0.113.5", "192.0.2.1", "127.0.0.2", "169.254.0.1",
        "::10.0.0.5", "64:ff9b::a00:5", "64:ff9b:1::808:808", "2002:a00:5::1", "2001:0:808:808::f5ff:fffa",
        "fec0::1", "fd00::1", "fe80::1", "::1", "2001:db8::1", "3fff::1",
    ]

    /// Never an endpoint, under any policy.
    static let forbidden = ["0.0.0.0", "240.0.0.1", "255.255.255.255", "224.0.0.1", "::", "ff02::1", "64:ff9b::e000:1", "2002:f000:1::", "4000::1"]

    @Test(arguments: nonGlobal)
    func anyRefusesWhatIsNotGloballyReachableUnlessAllowed(_ text: String) throws {
        let endpoints = [Endpoint(address: try #require(IPAddress(text)), port: 22)]
        do {
            try EndpointPolicy.any(allowPrivate: false).check(endpoints, source: Self.source)
            Issue.record("\(text) was accepted")
        } catch {
            #expect(error.slug == "endpoint-not-allowed")
        }
        try EndpointPolicy.any(allowPrivate: true).check(endpoints, source: Self.source)
    }

    @Test func anyAcceptsGloballyReachableEndpoints() throws {
        let endpoints = ["8.8.8.8", "192.0.0.9", "64:ff9b::808:808", "2002:808:808::1", "2606:4700::1111", "2001:4:112::1"]
            .map { Endpoint(address: IPAddress($0)!, port: 22) }
        try EndpointPolicy.any(allowPrivate: false).check(endpoints, source: Self.source)
    }

    @Test(arguments: forbidden)
    func noPolicyAcceptsAForbiddenEndpoint(_ text: String) throws {
        let key = try PrivateKey.generate(.ed25519)
        let now: UInt64 = 1_764_028_800
        let record = try SignedRecord.sign(
            with: key, seq: 1, issuedAt: now, expiresAt: now + 60, endpoints: [Endpoint(address: try #require(IPAddress(text)), port: 22)])
        do {
            _ = try RecordValidator().validateRecord(json: record.json, now: now, freshness: .announcement)
            Issue.record("\(text) was accepted")
        } catch {
            #expect(error.slug == "invalid-endpoint")
            #expect(error.detail.contains("is never an endpoint"), "\(error.detail)")
        }
        #expect(throws: DirectoryError.self) {
            try EndpointPolicy.any(allowPrivate: true).check(record.endpoints, source: Self.source)
        }
    }

    @Test func theRefusalNamesTheBlockThatDecided() {
        do {
            try EndpointPolicy.any(allowPrivate: false).check([Endpoint("[64:ff9b::a00:5]:22")!], source: Self.source)
            Issue.record("the NAT64 address of 10.0.0.5 was accepted")
        } catch {
            #expect(error.detail.contains("carries 10.0.0.5: Private-Use (10.0.0.0/8, RFC 1918)"), "\(error.detail)")
        }
    }
}
