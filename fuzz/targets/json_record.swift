// libFuzzer target: the strict JSON parser and the record shape check on arbitrary bytes.
//
// Compiled together with Sources/PermIDKit/*.swift into one executable (see fuzz/run.sh).
// Properties, each checked with a trap so libFuzzer reports a violation as a crash:
//   1. neither StrictJSONParser.parse nor RecordFields.decode(json:) crashes;
//   2. both are deterministic: the same bytes give the same value or the same error;
//   3. RecordFields.decode(json:) agrees with parse + decode(_ value:);
//   4. a parsed value written back with JSONWriter.value parses to the same value, and writing
//      that again gives the same bytes (JSONWriter's output is a fixed point of the parser);
//   5. decoded record fields written back as JSON decode to the same fields;
//   6. an endpoint `ip` that IPAddress parses has a canonical text (dotted quad / RFC 5952) that
//      parses back to the same bytes and is its own canonical text.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSONRecord(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = Array(UnsafeBufferPointer(start: data, count: size))

    let parsed = parseJSON(input)
    require(parsed == parseJSON(input), "StrictJSONParser.parse is not deterministic")

    if case .success(let value) = parsed {
        let written = writeJSON(value)
        guard case .success(let reparsed) = parseJSON(written) else {
            fatalError("JSONWriter output of a parsed value does not parse: \(String(decoding: written, as: UTF8.self))")
        }
        require(reparsed == value, "JSONWriter output parses to a different value")
        require(writeJSON(reparsed) == written, "writing a re-parsed value changes the bytes")
    }

    let decoded = decodeRecord(input)
    require(decoded == decodeRecord(input), "RecordFields.decode(json:) is not deterministic")

    switch (parsed, decoded) {
    case (.failure, .success):
        fatalError("RecordFields.decode(json:) accepted bytes that StrictJSONParser rejects")
    case (.failure, .failure(let error)):
        guard case .malformedJSON = error else { fatalError("invalid JSON gave \(error), not malformedJSON") }
    case (.success(let value), _):
        let fromValue: Result<RecordFields, DirectoryError>
        do { fromValue = .success(try RecordFields.decode(value)) } catch { fromValue = .failure(error) }
        require(fromValue == decoded, "decode(json:) and decode(parse(json)) disagree")
    }

    if case .success(let fields) = decoded {
        let written = writeFields(fields)
        guard case .success(let again) = decodeRecord(written) else {
            fatalError("re-encoded record fields do not decode: \(String(decoding: written, as: UTF8.self))")
        }
        require(again == fields, "re-encoded record fields decode to different fields")
        guard case .endpoints(let endpoints) = fields.content else { return 0 }
        for endpoint in endpoints {
            guard let address = IPAddress(endpoint.ip) else { continue }
            let text = address.description
            guard let reparsed = IPAddress(text) else { fatalError("the canonical text \(text) of \(endpoint.ip) does not parse") }
            require(reparsed.bytes == address.bytes, "IP \(endpoint.ip) → \(text) parses to other bytes")
            require(reparsed.description == text, "IP canonical text \(text) is not a fixed point")
        }
    }
    return 0
}

private func parseJSON(_ bytes: [UInt8]) -> Result<JSONValue, JSONSyntaxError> {
    do { return .success(try StrictJSONParser.parse(bytes)) } catch { return .failure(error) }
}

private func decodeRecord(_ bytes: [UInt8]) -> Result<RecordFields, DirectoryError> {
    do { return .success(try RecordFields.decode(json: bytes)) } catch { return .failure(error) }
}

private func writeJSON(_ value: JSONValue) -> [UInt8] {
    var writer = JSONWriter()
    writer.value(nil, value)
    return writer.bytes
}

private func writeFields(_ fields: RecordFields) -> [UInt8] {
    var writer = JSONWriter()
    writer.beginObject()
    if let permID = fields.permID { writer.string("permid", permID) }
    writer.string("sig_alg", fields.sigAlg)
    writer.number("seq", fields.seq)
    writer.number("issued_at", fields.issuedAt)
    writer.number("expires_at", fields.expiresAt)
    switch fields.content {
    case .endpoints(let endpoints):
        writer.beginArray("endpoints")
        for endpoint in endpoints {
            writer.beginObject()
            writer.string("ip", endpoint.ip)
            writer.number("port", Int(endpoint.port))
            writer.endObject()
        }
        writer.endArray()
    case .sealed(let boxes):
        writer.beginArray("sealed")
        for box in boxes { writer.string(nil, box) }
        writer.endArray()
    }
    writer.string("signature", fields.signature)
    writer.endObject()
    return writer.bytes
}

/// Traps with the message even in -O builds (precondition drops it), so the fuzzer log says which property failed.
private func require(_ condition: Bool, _ message: @autoclosure () -> String, file: StaticString = #file, line: UInt = #line) {
    if !condition { fatalError(message(), file: file, line: line) }
}
