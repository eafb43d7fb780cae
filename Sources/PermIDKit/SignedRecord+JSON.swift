extension SignedRecord {
    /// The record's JSON form, members in the protocol's order, IPs in canonical text.
    public var json: [UInt8] {
        var writer = JSONWriter()
        write(to: &writer)
        return writer.bytes
    }

    /// Writes the record's JSON object, as a member `name` of an enclosing object if given.
    public func write(to writer: inout JSONWriter, name: String? = nil) {
        writer.beginObject(name)
        writer.base64URL("permid", permID.bytes)
        writer.string("sig_alg", scheme.rawValue)
        writer.number("seq", seq)
        writer.number("issued_at", issuedAt)
        writer.number("expires_at", expiresAt)
        switch content {
        case .endpoints(let endpoints):
            writer.beginArray("endpoints")
            for endpoint in endpoints {
                writer.beginObject()
                writer.string("ip", endpoint.address.description)
                writer.number("port", Int(endpoint.port))
                writer.endObject()
            }
            writer.endArray()
        case .sealed(let boxes):
            writer.beginArray("sealed")
            for box in boxes { writer.base64URL(nil, box) }
            writer.endArray()
        }
        writer.base64URL("signature", signature)
        writer.endObject()
    }
}
