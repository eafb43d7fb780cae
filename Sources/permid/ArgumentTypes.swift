import ArgumentParser
import PermIDKit

// Typed command-line values: a bad value is an error that names it (ArgumentParser's
// "The value 'x' is invalid for '--option'" plus the option's help), never dropped later.

extension KeyType: ExpressibleByArgument {
    public init?(argument: String) { self.init(name: argument) }
    public var defaultValueDescription: String { name }
    public static var allValueStrings: [String] { all.map(\.name) }
}

extension SignatureScheme: ExpressibleByArgument {
    public static var allValueStrings: [String] { allCases.map(\.rawValue) }
}

extension Endpoint: ExpressibleByArgument {
    public init?(argument: String) { self.init(argument) }
}
