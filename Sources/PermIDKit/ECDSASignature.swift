internal import CCrypto

/// Conversions between the protocol's raw ECDSA signatures (r ‖ s, fixed width) and the DER form OpenSSL uses.
enum ECDSASignature {
    /// DER `ECDSA-Sig-Value` for a raw r ‖ s signature of even length.
    static func der(fromRaw raw: [UInt8]) -> [UInt8] {
        let half = raw.count / 2
        let body = integer(raw[0..<half]) + integer(raw[half...])
        return DER.sequence(body)
    }

    /// Raw r ‖ s, each left-padded to `fieldBytes`, from a DER signature; `nil` if it does not fit.
    static func raw(fromDER der: [UInt8], fieldBytes: Int) -> [UInt8]? {
        let parsed: OpaquePointer? = der.withUnsafeBufferPointer { buffer in
            var cursor = buffer.baseAddress
            return d2i_ECDSA_SIG(nil, &cursor, buffer.count)
        }
        guard let signature = parsed else { OpenSSL.drainErrors(); return nil }
        defer { ECDSA_SIG_free(signature) }
        var output = [UInt8](repeating: 0, count: 2 * fieldBytes)
        let ok = output.withUnsafeMutableBufferPointer { buffer -> Bool in
            guard let base = buffer.baseAddress else { return false }
            return BN_bn2binpad(ECDSA_SIG_get0_r(signature), base, Int32(fieldBytes)) == fieldBytes
                && BN_bn2binpad(ECDSA_SIG_get0_s(signature), base + fieldBytes, Int32(fieldBytes)) == fieldBytes
        }
        return ok ? output : nil
    }

    private static func integer(_ magnitude: ArraySlice<UInt8>) -> [UInt8] {
        var digits = Array(magnitude.drop { $0 == 0 })
        if digits.isEmpty { digits = [0] }
        if digits[0] & 0x80 != 0 { digits.insert(0, at: 0) }
        return [0x02] + DER.length(digits.count) + digits
    }

}
