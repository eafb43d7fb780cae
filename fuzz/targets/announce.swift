// libFuzzer target: a whole announcement through RecordValidator.validateAnnouncement, as
// PUT /v1/peers/{permid} runs it (shape → PermID → scheme → signature length → endpoints →
// freshness → signature).
//
// Input layout: the bytes before the first 0x0A are the {permid} path segment, the rest is the
// JSON body (no 0x0A: an empty path and the whole input as body). The clock is fixed at
// 1764028800, the issued_at of the records in Tests/Vectors, so the seed corpus validates.
//
// Compiled together with Sources/PermIDKit/*.swift into one executable (see fuzz/run.sh).
// Properties, each checked with a trap so libFuzzer reports a violation as a crash:
//   1. validation never crashes and is deterministic (same record, or the same error);
//   2. if it succeeds: the record's PermID text is exactly the path, a `permid` member in the body
//      is byte for byte the path, and the record's JSON form re-validates — as an announcement to
//      the same PermID and as a stand-alone record — to an equal record with identical JSON.

private let now: UInt64 = 1_764_028_800

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzAnnounce(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    let path: [UInt8], body: [UInt8]
    if let newline = input.firstIndex(of: 0x0A) {
        path = Array(input[..<newline])
        body = Array(input[(newline + 1)...])
    } else {
        path = []
        body = input
    }
    let pathText = String(decoding: path, as: UTF8.self)

    let result = announce(body: body, path: pathText)
    require(result == announce(body: body, path: pathText), "validateAnnouncement is not deterministic")
    guard case .success(let record) = result else { return 0 }

    require(Array(record.permID.text.utf8) == path, "the record's PermID is not the path's text")
    guard let fields = try? RecordFields.decode(json: body) else {
        fatalError("validateAnnouncement accepted a body that RecordFields.decode rejects")
    }
    if let bodyPermID = fields.permID {
        let bodyBytes = Array(bodyPermID.utf8)
        if bodyBytes != path {
            let offset = zip(bodyBytes, path).prefix { $0 == $1 }.count
            fatalError("""
                accepted a body whose permid member is not byte for byte the path: from byte \(offset) \
                the body has \(bodyBytes.dropFirst(offset).prefix(8).hexString), the path \(path.dropFirst(offset).prefix(8).hexString) \
                (body permid \(bodyBytes.count) bytes, path \(path.count) bytes)
                """)
        }
    }

    let json = record.json
    switch announce(body: json, path: record.permID.text) {
    case .success(let again):
        require(again == record, "the record's JSON re-validates to a different record")
        require(again.json == json, "the re-validated record's JSON differs")
    case .failure(let error):
        fatalError("the record's JSON does not re-validate as an announcement: \(error)\n\(String(decoding: json, as: UTF8.self))")
    }
    do {
        let standalone = try RecordValidator().validateRecord(json: json, now: now, freshness: .announcement)
        require(standalone == record, "the record's JSON validates as a stand-alone record to a different record")
    } catch {
        fatalError("the record's JSON does not validate as a stand-alone record: \(error)")
    }
    return 0
}

private func announce(body: [UInt8], path: String) -> Result<SignedRecord, DirectoryError> {
    do {
        return .success(try RecordValidator().validateAnnouncement(body: body, pathPermID: path, now: now))
    } catch {
        return .failure(error)
    }
}

/// Traps with the message even in -O builds (precondition drops it), so the fuzzer log says which property failed.
private func require(_ condition: Bool, _ message: @autoclosure () -> String, file: StaticString = #file, line: UInt = #line) {
    if !condition { fatalError(message(), file: file, line: line) }
}
