internal import CCrypto

/// One prime curve's OpenSSL `EC_GROUP` and order, for blinding: h mod n, h·d mod n, [h]Q.
///
/// Owns its `EC_GROUP` and order `BIGNUM`, freed in `deinit`.
final class ECGroup: @unchecked Sendable {
    // @unchecked Sendable: the group and order are made in init and then only read; OpenSSL takes the
    // group as `const` in every call here (no precomputation is ever stored in it), so threads may share it.
    private let group: OpaquePointer
    private let order: OpaquePointer
    /// The curve.
    let curve: Curve
    /// Bytes of a scalar: the order's length.
    let scalarBytes: Int

    deinit {
        EC_GROUP_free(group)
        BN_free(order)
    }

    init?(curve: Curve) {
        guard let nid = Optional(OBJ_sn2nid(curve.openSSLName)), nid != NID_undef,
              let group = EC_GROUP_new_by_curve_name(nid)
        else { OpenSSL.drainErrors(); return nil }
        guard let order = BN_new(), EC_GROUP_get_order(group, order, nil) == 1 else {
            OpenSSL.drainErrors()
            EC_GROUP_free(group)
            return nil
        }
        self.group = group
        self.order = order
        self.curve = curve
        scalarBytes = (Int(BN_num_bits(order)) + 7) / 8
    }

    // MARK: - Scalars

    /// A big-endian integer mod n, as a big-endian scalar of ``scalarBytes`` bytes.
    func reduce(bigEndian bytes: [UInt8]) throws(BlindingError) -> [UInt8] {
        try withContext { context throws(BlindingError) in
            guard let value = BN_CTX_get(context), let reduced = BN_CTX_get(context),
                  BN_bin2bn(bytes, Int32(bytes.count), value) != nil,
                  BN_nnmod(reduced, value, order, context) == 1
            else { throw .cryptoFailure(OpenSSL.drainErrors()) }
            return try scalar(reduced)
        }
    }

    /// x·y mod n for big-endian scalars.
    func multiply(_ x: [UInt8], _ y: [UInt8]) throws(BlindingError) -> [UInt8] {
        try withContext { context throws(BlindingError) in
            guard let a = BN_CTX_get(context), let b = BN_CTX_get(context), let product = BN_CTX_get(context),
                  BN_bin2bn(x, Int32(x.count), a) != nil, BN_bin2bn(y, Int32(y.count), b) != nil,
                  BN_mod_mul(product, a, b, order, context) == 1
            else { throw .cryptoFailure(OpenSSL.drainErrors()) }
            return try scalar(product)
        }
    }

    // MARK: - Points

    /// [n]P for an uncompressed point P (0x04 ‖ X ‖ Y) of the group and a public n; the result uncompressed.
    ///
    /// Variable time: P and n must be public (a PermID and its blinding factor are). OpenSSL takes its
    /// constant-time Montgomery ladder for a lone scalar, but for [0]G + [n]P its interleaved wNAF (as in
    /// ECDSA verification): about 40% faster on P-384 and secp256k1, which have no dedicated
    /// implementation in OpenSSL 3.0.
    func multiply(point: [UInt8], by scalar: [UInt8]) throws(BlindingError) -> [UInt8] {
        try withContext { context throws(BlindingError) in
            guard let input = EC_POINT_new(group) else { throw .cryptoFailure(OpenSSL.drainErrors()) }
            defer { EC_POINT_free(input) }
            guard EC_POINT_oct2point(group, input, point, point.count, context) == 1 else {
                throw .unusableKey("the EC point is not on \(curve.rawValue): \(OpenSSL.drainErrors())")
            }
            guard let n = BN_CTX_get(context), BN_bin2bn(scalar, Int32(scalar.count), n) != nil,
                  let zero = BN_CTX_get(context), BN_set_word(zero, 0) == 1,
                  let result = EC_POINT_new(group)
            else { throw .cryptoFailure(OpenSSL.drainErrors()) }
            defer { EC_POINT_free(result) }
            guard EC_POINT_mul(group, result, zero, input, n, context) == 1 else {
                throw .cryptoFailure(OpenSSL.drainErrors())
            }
            guard EC_POINT_is_at_infinity(group, result) == 0 else { throw .zeroFactor }
            let length = 1 + 2 * curve.fieldBytes
            var output = [UInt8](repeating: 0, count: length)
            guard EC_POINT_point2oct(group, result, POINT_CONVERSION_UNCOMPRESSED, &output, length, context) == length else {
                throw .cryptoFailure(OpenSSL.drainErrors())
            }
            return output
        }
    }

    // MARK: - Helpers

    private func scalar(_ value: OpaquePointer) throws(BlindingError) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: scalarBytes)
        guard BN_bn2binpad(value, &output, Int32(scalarBytes)) == scalarBytes else {
            throw .cryptoFailure(OpenSSL.drainErrors())
        }
        return output
    }

    private func withContext<T>(_ body: (OpaquePointer) throws(BlindingError) -> T) throws(BlindingError) -> T {
        guard let context = BN_CTX_new() else { throw .cryptoFailure(OpenSSL.drainErrors()) }
        defer { BN_CTX_free(context) }
        BN_CTX_start(context)
        defer { BN_CTX_end(context) }
        return try body(context)
    }
}

/// The groups of the curves that can be blinded (the prime curves), made once.
final class ECGroups: @unchecked Sendable {
    // @unchecked Sendable: the dictionary is filled in init and never changed; each ECGroup is itself safe to share.
    private let groups: [Curve: ECGroup]

    static let shared = ECGroups()

    /// The curves that can be blinded: the binary curves cannot (FRIENDS-v1 part A).
    static let blindable: [Curve] = [.p256, .p384, .secp256k1]

    private init() {
        groups = Dictionary(uniqueKeysWithValues: Self.blindable.compactMap { curve in ECGroup(curve: curve).map { (curve, $0) } })
    }

    /// The group of a curve that can be blinded; `nil` for the binary curves.
    func group(_ curve: Curve) -> ECGroup? { groups[curve] }
}
