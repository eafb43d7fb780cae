import ArgumentParser
import PermIDKit
import PermIDServer

/// `--listen`: an IPv4 `HOST:PORT` or `[IPv6]:PORT` (port 0 picks a free one).
struct ListenAddress: ExpressibleByArgument, CustomStringConvertible {
    let address: IPAddress
    let port: UInt16

    init?(argument: String) {
        guard let (address, port) = Endpoint.parseHostPort(argument) else { return nil }
        self.address = address
        self.port = port
    }

    var description: String { address.family == 6 ? "[\(address)]:\(port)" : "\(address):\(port)" }
    var defaultValueDescription: String { description }
}

extension CIDR: ExpressibleByArgument {
    public init?(argument: String) { self.init(argument) }
}

extension ProxyHeader: ExpressibleByArgument {}
