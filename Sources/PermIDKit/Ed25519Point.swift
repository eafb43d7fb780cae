internal import CCrypto

/// Checks that 32 bytes decode to a point of Ed25519 as RFC 8032 §5.1.3 describes, and that the point
/// is not one of the eight of small order.
///
/// OpenSSL accepts any 32 bytes as an Ed25519 public key and only fails later, at verification;
/// a PermID must be a real point, so the directory decodes it here: y < p, and
/// x² = u / v with u = y² − 1, v = d·y² + 1 must be a square mod p (with x = 0 only when the sign bit
/// is clear). v is never 0 (d is not a square), so u / v is a square exactly when u·v is: no inversion.
enum Ed25519Point {
    private static let primeHex = "7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffed"
    // d = −121665 / 121666 mod p
    private static let dHex = "52036cee2b6ffe738cc740797779e89800700a4d4141d8ab75eb4dca135978a3"

    /// The y-coordinates (little-endian, sign bit clear) of the eight points of small order: 0, 1,
    /// p − 1 and the two of order 8. A key there is no one's key: signatures under it can be made
    /// without a private key (e.g. the identity point verifies R = B, S = 1 on any message).
    private static let smallOrderY: [[UInt8]] = [
        [UInt8](repeating: 0, count: 32),
        [1] + [UInt8](repeating: 0, count: 31),
        [0xEC] + [UInt8](repeating: 0xFF, count: 30) + [0x7F],
        [0x26, 0xE8, 0x95, 0x8F, 0xC2, 0xB2, 0x27, 0xB0, 0x45, 0xC3, 0xF4, 0x89, 0xF2, 0xEF, 0x98, 0xF0,
         0xD5, 0xDF, 0xAC, 0x05, 0xD3, 0xC6, 0x33, 0x39, 0xB1, 0x38, 0x02, 0x88, 0x6D, 0x53, 0xFC, 0x05],
        [0xC7, 0x17, 0x6A, 0x70, 0x3D, 0x4D, 0xD8, 0x4F, 0xBA, 0x3C, 0x0B, 0x76, 0x0D, 0x10, 0x67, 0x0F,
         0x2A, 0x20, 0x53, 0xFA, 0x2C, 0x39, 0xCC, 0xC6, 0x4E, 0xC7, 0xFD, 0x77, 0x92, 0xAC, 0x03, 0x7A],
    ]

    /// Whether 32 bytes encode (canonically, either sign) one of the eight points of small order.
    static func isSmallOrderEncoding(_ encoded: some Collection<UInt8>) -> Bool {
        var y = Array(encoded)
        guard y.count == 32 else { return false }
        y[31] &= 0x7F
        return smallOrderY.contains(y)
    }

    /// Whether the encoding is a canonical Ed25519 point of large order.
    static func isValidEncoding(_ encoded: [UInt8]) -> Bool {
        guard encoded.count == 32, !isSmallOrderEncoding(encoded), let context = BN_CTX_new() else { return false }
        defer { BN_CTX_free(context) }
        BN_CTX_start(context)
        defer { BN_CTX_end(context) }
        guard let p = BN_CTX_get(context), let d = BN_CTX_get(context), let y = BN_CTX_get(context),
              let y2 = BN_CTX_get(context), let u = BN_CTX_get(context), let v = BN_CTX_get(context),
              let w = BN_CTX_get(context)
        else { return false }
        var pPointer: OpaquePointer? = p
        var dPointer: OpaquePointer? = d
        guard BN_hex2bn(&pPointer, primeHex) > 0, BN_hex2bn(&dPointer, dHex) > 0 else { return false }

        var littleEndianY = encoded
        let sign = littleEndianY[31] >> 7
        littleEndianY[31] &= 0x7F
        guard BN_lebin2bn(littleEndianY, 32, y) != nil, BN_cmp(y, p) < 0 else { return false }

        guard BN_mod_sqr(y2, y, p, context) == 1,
              BN_mod_sub(u, y2, BN_value_one(), p, context) == 1,
              BN_mod_mul(v, d, y2, p, context) == 1, BN_mod_add(v, v, BN_value_one(), p, context) == 1,
              BN_mod_mul(w, u, v, p, context) == 1
        else { OpenSSL.drainErrors(); return false }
        if BN_is_zero(w) == 1 { return sign == 0 }
        return BN_kronecker(w, p, context) == 1
    }
}
