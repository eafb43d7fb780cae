import Testing
@testable import PermIDKit

@Suite struct StrictJSONParserTests {
    private func parse(_ text: String) throws(JSONSyntaxError) -> JSONValue {
        try StrictJSONParser.parse(Array(text.utf8))
    }

    @Test func parsesEveryValueKindKeepingNumberTextAndMemberOrder() throws {
        let value = try parse(#" {"b": [1, -2.5e3, true, false, null], "a": "x\u00e9\ud83d\ude00\n"} "#)
        guard case .object(let members) = value else { Issue.record("not an object"); return }
        #expect(members.map(\.name) == ["b", "a"])
        #expect(members[0].value == .array([.number("1"), .number("-2.5e3"), .bool(true), .bool(false), .null]))
        #expect(members[1].value == .string("xé😀\n"))
    }

    @Test(arguments: [
        #"{"a":1,"a":2}"#, #"{"a":1} x"#, "", " ", "{", #"{"a"}"#, "[1,]", "01", "1.", ".5", "1e", "+1",
        "\"\u{01}\"", #""\ud800""#, #""\udc00""#, #""\ud800\u0041""#, #""\x""#, "tru", "nul", "[1 2]", "{\"a\" 1}",
        "\u{FEFF}{}", "NaN", "Infinity", "'a'",
    ])
    func rejectsInvalidDocuments(_ text: String) {
        #expect(throws: JSONSyntaxError.self) { try parse(text) }
    }

    @Test func rejectsInvalidUTF8() {
        for bytes: [UInt8] in [[0x22, 0xFF, 0x22], [0x22, 0xC0, 0x80, 0x22], [0x22, 0xED, 0xA0, 0x80, 0x22], [0x22, 0xE2, 0x82, 0x22], [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22]] {
            #expect(throws: JSONSyntaxError.self) { try StrictJSONParser.parse(bytes) }
        }
    }

    @Test func limitsNesting() throws {
        let ok = String(repeating: "[", count: StrictJSONParser.maxDepth) + String(repeating: "]", count: StrictJSONParser.maxDepth)
        _ = try parse(ok)
        let deep = String(repeating: "[", count: 100_000)
        #expect(throws: JSONSyntaxError.self) { try parse(deep) }
    }

    @Test func duplicateErrorNamesTheMember() {
        #expect(throws: JSONSyntaxError(reason: "duplicate member \"seq\"", offset: 9)) { try parse(#"{"seq":1,"seq":2}"#) }
    }

    /// Duplicates are found by comparing names up to 16 members and through a set past them: on both
    /// sides of that switch, and across it, whether the names are spelled alike or only equivalent.
    @Test func duplicatesAreFoundInObjectsOfAnySize() throws {
        for count in [1, 15, 16, 17, 40] {
            let names = (0..<count).map { "m\($0)" }
            let object = { (members: [String]) in "{" + members.map { "\"\($0)\":0" }.joined(separator: ",") + "}" }
            guard case .object(let members) = try parse(object(names)) else { Issue.record("not an object"); return }
            #expect(members.map(\.name) == names)
            for (first, again) in [(0, count), (count - 1, count), (count / 2, count + 5)] {
                var repeated = names + (0..<10).map { "n\($0)" }
                repeated.insert(names[first], at: min(again, repeated.count))
                #expect(throws: JSONSyntaxError.self, "\(count) members, m\(first) again at \(again)") { try parse(object(repeated)) }
            }
        }
        // "é" precomposed and decomposed are one name to Swift's String, in the set as in the comparison.
        let precomposed = "\u{E9}", decomposed = "e\u{301}"
        for padding in [0, 20] {
            let filler = (0..<padding).map { "\"p\($0)\":0," }.joined()
            #expect(throws: JSONSyntaxError.self) { try parse("{" + filler + "\"\(precomposed)\":1,\"\(decomposed)\":2}") }
        }
    }

    @Test func writerEscapesAndRoundTrips() throws {
        var writer = JSONWriter()
        writer.beginObject()
        writer.string("s", "quote\" backslash\\ control\u{01} tab\t é")
        writer.number("n", UInt64(9_007_199_254_740_991))
        writer.beginArray("a")
        writer.number(nil, -1)
        writer.null()
        writer.endArray()
        writer.endObject()
        let parsed = try StrictJSONParser.parse(writer.bytes)
        #expect(parsed == .object([
            .init(name: "s", value: .string("quote\" backslash\\ control\u{01} tab\t é")),
            .init(name: "n", value: .number("9007199254740991")),
            .init(name: "a", value: .array([.number("-1"), .null])),
        ]))
    }
}

@Suite struct JSONWriterValueTests {
    @Test func writesParsedValuesBackExactly() throws {
        let text = #"{"a":[1,-2.5e3,true,false,null],"b":"x\"y","c":{}}"#
        var writer = JSONWriter()
        writer.value(nil, try StrictJSONParser.parse(Array(text.utf8)))
        #expect(writer.text == text)
    }
}
