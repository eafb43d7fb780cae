/// Which endpoints a directory accepts beyond a valid signature (PROTOCOL-v1 §4.4).
public enum EndpointPolicy: Hashable, Sendable {
    /// Every endpoint's address must be the request's source address.
    case source
    /// Signatures alone decide; addresses that are not globally reachable (``AddressScope/nonGlobal``)
    /// only when allowed.
    case any(allowPrivate: Bool)

    /// Checks a record's endpoints against the policy for a request from `source`.
    ///
    /// - Throws: ``DirectoryError/endpointNotSource(endpoint:source:)`` or ``DirectoryError/endpointNotAllowed(_:)``.
    public func check(_ endpoints: [Endpoint], source: IPAddress) throws(DirectoryError) {
        switch self {
        case .source:
            let source = source.unmapped
            for endpoint in endpoints where endpoint.address != source {
                throw .endpointNotSource(endpoint: endpoint.address.description, source: source.description)
            }
        case .any(let allowPrivate):
            let widest: AddressScope = allowPrivate ? .nonGlobal : .global
            for endpoint in endpoints {
                let classification = endpoint.address.classification
                if classification.scope > widest {
                    throw .endpointNotAllowed(
                        "endpoint \(endpoint.address) is not globally reachable (\(classification)), which this directory does not accept")
                }
            }
        }
    }
}
