/// A peer's identity: the binary form of its public key (PROTOCOL-v1 §1).
///
/// A `PermID` value is only made by ``PublicKey/init(bytes:)`` after the key has been
/// validated, or from bytes the caller already knows to be valid (such as the store's).
public struct PermID: Hashable, Sendable, CustomStringConvertible {
    /// The binary form: DER SubjectPublicKeyInfo, or `LibNaCLPK:` ‖ 64 bytes.
    public let bytes: [UInt8]
    /// The kind of key.
    public let keyType: KeyType

    /// The ASCII prefix of IPv8's dual curve25519 public key.
    public static let libnaclPrefix = Array("LibNaCLPK:".utf8)

    /// Wraps already-validated bytes; use ``PublicKey/init(bytes:)`` for untrusted input.
    public init(validatedBytes bytes: [UInt8], keyType: KeyType) {
        self.bytes = bytes
        self.keyType = keyType
    }

    /// The text form: base64url without padding.
    public var text: String { Base64URL.encode(bytes) }

    /// Tribler's member id: the SHA-1 of the binary form, lowercase hex.
    public var memberID: String { Digest.sha1(bytes).hexString }

    public var description: String { text }
}

extension Sequence<UInt8> {
    /// Lowercase hexadecimal text of these bytes.
    public var hexString: String {
        let digits = Array("0123456789abcdef".utf8)
        var output = [UInt8]()
        for byte in self {
            output.append(digits[Int(byte >> 4)])
            output.append(digits[Int(byte & 0xF)])
        }
        return String(decoding: output, as: UTF8.self)
    }
}

extension PermID {
    /// Recognises bytes that already have a canonical PermID layout (as the store holds them) without
    /// any cryptographic check; `nil` for anything else. Use ``PublicKey/init(bytes:)`` for untrusted input.
    public init?(canonicalLayout bytes: [UInt8]) {
        if bytes.count == PermID.libnaclPrefix.count + 64, bytes.starts(with: PermID.libnaclPrefix) {
            self.init(validatedBytes: bytes, keyType: .libnacl)
        } else if bytes.count == SubjectPublicKeyInfo.ed25519Prefix.count + 32, bytes.starts(with: SubjectPublicKeyInfo.ed25519Prefix) {
            self.init(validatedBytes: bytes, keyType: .ed25519)
        } else if let curve = SubjectPublicKeyInfo.curve(ofCanonical: bytes) {
            self.init(validatedBytes: bytes, keyType: .ec(curve))
        } else {
            return nil
        }
    }
}
