/// The two DER encodings permid writes by hand: definite lengths (short form, or 0x81 for 128–255
/// bytes, enough for every key and signature here) and SEQUENCEs.
enum DER {
    /// The length octets for `count` content bytes (at most 255).
    static func length(_ count: Int) -> [UInt8] {
        count < 0x80 ? [UInt8(count)] : [0x81, UInt8(count)]
    }

    /// A SEQUENCE holding `body`.
    static func sequence(_ body: [UInt8]) -> [UInt8] { [0x30] + length(body.count) + body }
}
