internal import CCrypto

/// Helpers shared by the OpenSSL wrappers. Internal: no C type leaves the module.
enum OpenSSL {
    /// Empties this thread's OpenSSL error queue and returns the first reason, for error details.
    @discardableResult
    static func drainErrors() -> String {
        let first = ERR_get_error()
        while ERR_get_error() != 0 {}
        guard first != 0 else { return "unknown OpenSSL error" }
        guard let reason = ERR_reason_error_string(first) else { return "OpenSSL error \(first)" }
        return String(cString: reason)
    }

    /// Reads a UTF-8 string parameter of a key, such as its group name.
    static func stringParameter(_ key: OpaquePointer, _ name: String) -> String? {
        var buffer = [CChar](repeating: 0, count: 80)
        var length = 0
        guard EVP_PKEY_get_utf8_string_param(key, name, &buffer, buffer.count, &length) == 1 else {
            drainErrors()
            return nil
        }
        return String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// DER-encodes a public key as SubjectPublicKeyInfo.
    static func subjectPublicKeyInfo(_ key: OpaquePointer) -> [UInt8]? {
        let length = i2d_PUBKEY(key, nil)
        guard length > 0 else { drainErrors(); return nil }
        var output = [UInt8](repeating: 0, count: Int(length))
        let written = output.withUnsafeMutableBufferPointer { buffer -> Int32 in
            var cursor = buffer.baseAddress
            return i2d_PUBKEY(key, &cursor)
        }
        guard written == length else { drainErrors(); return nil }
        return output
    }

    /// The raw public key bytes of an Ed25519 or X25519 key.
    static func rawPublicKey(_ key: OpaquePointer) -> [UInt8]? {
        var length = 32
        var output = [UInt8](repeating: 0, count: 32)
        guard EVP_PKEY_get_raw_public_key(key, &output, &length) == 1, length == 32 else {
            drainErrors()
            return nil
        }
        return output
    }
}

/// Message digests used by the protocol and by Tribler's member ids.
public enum Digest {
    /// SHA-1 of the bytes (Tribler member ids; `ecdsa-sha1` signs this digest).
    public static func sha1(_ bytes: [UInt8]) -> [UInt8] { digest(bytes, EVP_sha1()) }

    /// SHA-256 of the bytes.
    public static func sha256(_ bytes: [UInt8]) -> [UInt8] { digest(bytes, EVP_sha256()) }

    private static func digest(_ bytes: [UInt8], _ md: OpaquePointer?) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        let ok = bytes.withUnsafeBytes { input in
            EVP_Digest(input.baseAddress, input.count, &output, &length, md, nil)
        }
        precondition(ok == 1, "EVP_Digest cannot fail for SHA-1/SHA-256 on memory input")
        return Array(output[0..<Int(length)])
    }
}
