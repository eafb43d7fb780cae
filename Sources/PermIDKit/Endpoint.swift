/// An address and port at which a peer says it can be reached.
public struct Endpoint: Hashable, Sendable, CustomStringConvertible {
    /// The address; never IPv4-mapped in a valid record.
    public let address: IPAddress
    /// The port, 1 to 65535.
    public let port: UInt16

    /// Makes an endpoint from an address and a port.
    public init(address: IPAddress, port: UInt16) {
        self.address = address
        self.port = port
    }

    /// `IP:PORT`, with IPv6 addresses in brackets.
    public var description: String {
        address.family == 4 ? "\(address):\(port)" : "[\(address)]:\(port)"
    }

    /// Parses `IP:PORT` or `[IPv6]:PORT` with a port from 1 to 65535.
    public init?(_ text: some StringProtocol) {
        guard let (address, port) = Self.parseHostPort(text), port > 0 else { return nil }
        self.init(address: address, port: port)
    }

    /// Parses `IP:PORT` or `[IPv6]:PORT`, allowing port 0 (as a listen address does).
    public static func parseHostPort(_ text: some StringProtocol) -> (IPAddress, UInt16)? {
        let text = String(text)
        let host: Substring, portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"),
                  text[text.index(after: close)...].hasPrefix(":") else { return nil }
            host = text[text.index(after: text.startIndex)..<close]
            portText = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":"), !text[..<colon].contains(":") else { return nil }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        }
        guard let address = IPAddress(host), portText.allSatisfy(\.isASCII), let port = UInt16(portText) else { return nil }
        return (address, port)
    }

    /// The bytes of this endpoint in the signed message: family, address, port.
    public var wireBytes: [UInt8] {
        [address.family] + address.bytes + [UInt8(port >> 8), UInt8(port & 0xFF)]
    }

    /// Encodes endpoints as the signed message lays them out after the count byte.
    public static func encode(_ endpoints: [Endpoint]) -> [UInt8] {
        endpoints.flatMap(\.wireBytes)
    }

    /// Decodes what ``encode(_:)`` wrote; `nil` if the bytes are not such a list.
    public static func decode(_ bytes: [UInt8]) -> [Endpoint]? {
        var endpoints = [Endpoint]()
        var index = 0
        while index < bytes.count {
            let length = bytes[index] == 4 ? 4 : bytes[index] == 6 ? 16 : 0
            guard length > 0, index + 1 + length + 2 <= bytes.count,
                  let address = IPAddress(bytes: Array(bytes[(index + 1)..<(index + 1 + length)]))
            else { return nil }
            let port = UInt16(bytes[index + 1 + length]) << 8 | UInt16(bytes[index + 2 + length])
            endpoints.append(Endpoint(address: address, port: port))
            index += 3 + length
        }
        return endpoints
    }
}
