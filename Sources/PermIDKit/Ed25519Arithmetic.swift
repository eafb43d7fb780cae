internal import CSodium

/// Ed25519 point and scalar arithmetic from libsodium, for blinding, and its signature verification.
/// Scalars are 32 bytes little-endian, reduced mod ℓ; points are 32-byte RFC 8032 encodings.
enum Ed25519Arithmetic {
    private static let sodiumReady: Bool = sodium_init() >= 0

    /// libsodium asks for `sodium_init()` before any other call; it is idempotent and thread-safe.
    static func ensureSodiumInitialized() {
        precondition(sodiumReady, "libsodium failed to initialise")
    }

    /// A 64-byte little-endian integer mod ℓ.
    static func reduce(_ wide: [UInt8]) -> [UInt8] {
        precondition(wide.count == 64)
        ensureSodiumInitialized()
        var output = [UInt8](repeating: 0, count: 32)
        crypto_core_ed25519_scalar_reduce(&output, wide)
        return output
    }

    /// x·y mod ℓ, for reduced scalars.
    static func multiply(_ x: [UInt8], _ y: [UInt8]) -> [UInt8] {
        precondition(x.count == 32 && y.count == 32)
        var output = [UInt8](repeating: 0, count: 32)
        crypto_core_ed25519_scalar_mul(&output, x, y)
        return output
    }

    /// x + y mod ℓ, for reduced scalars.
    static func add(_ x: [UInt8], _ y: [UInt8]) -> [UInt8] {
        precondition(x.count == 32 && y.count == 32)
        var output = [UInt8](repeating: 0, count: 32)
        crypto_core_ed25519_scalar_add(&output, x, y)
        return output
    }

    /// [n]P without clamping; `nil` when P is not a canonical point of the prime-order subgroup or the
    /// result is the identity (libsodium refuses both).
    static func multiply(point: [UInt8], by scalar: [UInt8]) -> [UInt8]? {
        precondition(point.count == 32 && scalar.count == 32)
        ensureSodiumInitialized()
        var output = [UInt8](repeating: 0, count: 32)
        return crypto_scalarmult_ed25519_noclamp(&output, scalar, point) == 0 ? output : nil
    }

    /// [n]B without clamping; `nil` for n ≡ 0.
    static func multiplyBase(by scalar: [UInt8]) -> [UInt8]? {
        precondition(scalar.count == 32)
        ensureSodiumInitialized()
        var output = [UInt8](repeating: 0, count: 32)
        return crypto_scalarmult_ed25519_base_noclamp(&output, scalar) == 0 ? output : nil
    }

    /// libsodium's Ed25519 verification of a 64-byte signature under a 32-byte key: S < ℓ, and the
    /// encoding of [S]B − [k]A equals R, as OpenSSL checks, but refusing also an R or a key of small
    /// order (see ``PublicKey/verify(signature:message:scheme:)``).
    static func verify(signature: UnsafeRawBufferPointer, message: UnsafeRawBufferPointer, publicKey: UnsafeRawBufferPointer) -> Bool {
        precondition(signature.count == 64 && publicKey.count == 32)
        ensureSodiumInitialized()
        return crypto_sign_ed25519_verify_detached(
            signature.bindMemory(to: UInt8.self).baseAddress!, message.bindMemory(to: UInt8.self).baseAddress,
            UInt64(message.count), publicKey.bindMemory(to: UInt8.self).baseAddress!) == 0
    }
}
