import PermIDKit

/// The proof a PermID TLS certificate carries (FRIENDS-v1 part C): the PermID's signature over the
/// certificate's SubjectPublicKeyInfo, binding the PermID to the TLS session's certificate key.
///
/// ```
/// PermIDProof ::= SEQUENCE { permid OCTET STRING, sigAlg INTEGER, signature OCTET STRING }
/// ```
public struct PermIDProof: Hashable, Sendable {
    /// The certificate extension's OID.
    public static let extensionOID = "2.25.258522197543548504453329585770952673197"
    /// The signature's domain separation: ASCII "PERMID-DIRECTORY/1 TLS" and one 0x00 byte.
    public static let tag: [UInt8] = Array("PERMID-DIRECTORY/1 TLS".utf8) + [0]

    /// The binary PermID.
    public let permID: [UInt8]
    /// The PROTOCOL-v1 §2 scheme code (1 `ed25519`, 2 `ecdsa-sha256`; others are refused on reading).
    public let sigAlg: Int
    /// The raw signature over ``message(subjectPublicKeyInfo:)``.
    public let signature: [UInt8]

    /// The signed bytes: ``tag`` ‖ the certificate's DER SubjectPublicKeyInfo.
    public static func message(subjectPublicKeyInfo: [UInt8]) -> [UInt8] { tag + subjectPublicKeyInfo }

    /// The scheme a key proves with: `ed25519` for Edwards keys, `ecdsa-sha256` on every curve
    /// (binary ones included: `ecdsa-sha1` is not allowed here).
    public static func scheme(for keyType: KeyType) -> SignatureScheme {
        switch keyType {
        case .ed25519, .libnacl: .ed25519
        case .ec: .ecdsaSHA256
        }
    }

    /// Signs a certificate key's SubjectPublicKeyInfo with a PermID key.
    ///
    /// - Throws: ``HandshakeError/certificate(_:)`` when the key cannot sign.
    public init(signing subjectPublicKeyInfo: [UInt8], with key: PrivateKey) throws(HandshakeError) {
        let scheme = Self.scheme(for: key.permID.keyType)
        do {
            signature = try key.sign(Self.message(subjectPublicKeyInfo: subjectPublicKeyInfo), scheme: scheme)
        } catch {
            throw .certificate("the PermID key cannot sign the proof: \(error)")
        }
        permID = key.permID.bytes
        sigAlg = Int(scheme.code)
    }

    /// A proof from its parts, as read or for tests.
    public init(permID: [UInt8], sigAlg: Int, signature: [UInt8]) {
        self.permID = permID
        self.sigAlg = sigAlg
        self.signature = signature
    }

    /// Checks the proof against the certificate's SubjectPublicKeyInfo and returns the proven PermID.
    ///
    /// - Throws: ``HandshakeError/peerRejected(_:)`` for an invalid PermID, a scheme other than
    ///   `ed25519`/`ecdsa-sha256` or one the key may not use, or a signature that does not verify.
    public func verify(subjectPublicKeyInfo: [UInt8]) throws(HandshakeError) -> PermID {
        let key: PublicKey
        do {
            key = try PublicKey(bytes: permID)
        } catch {
            throw .peerRejected("the proof's PermID is not valid: \(error.detail)")
        }
        guard let code = UInt8(exactly: sigAlg), let scheme = SignatureScheme(code: code) else {
            throw .peerRejected("the proof's sigAlg \(sigAlg) is no known scheme")
        }
        guard scheme != .ecdsaSHA1 else { throw .peerRejected("ecdsa-sha1 is refused in the handshake") }
        guard scheme == Self.scheme(for: key.permID.keyType) else {
            throw .peerRejected("a \(key.permID.keyType.name) PermID cannot prove with \(scheme.rawValue)")
        }
        guard key.verify(signature: signature, message: Self.message(subjectPublicKeyInfo: subjectPublicKeyInfo), scheme: scheme) else {
            throw .peerRejected("the proof's signature does not verify over the certificate's key")
        }
        return key.permID
    }

    // MARK: - DER

    /// The DER encoding: the extension's value.
    public var der: [UInt8] {
        var integer = [UInt8]()
        var value = sigAlg
        repeat {
            integer.insert(UInt8(value & 0xFF), at: 0)
            value >>= 8
        } while value > 0
        if integer[0] & 0x80 != 0 { integer.insert(0, at: 0) }
        let body = Self.element(0x04, permID) + Self.element(0x02, integer) + Self.element(0x04, signature)
        return Self.element(0x30, body)
    }

    /// Parses the DER encoding strictly: definite minimal lengths, the three members in order, a
    /// minimal non-negative INTEGER, nothing after.
    ///
    /// - Throws: ``HandshakeError/malformedProof(_:)``.
    public init(der: [UInt8]) throws(HandshakeError) {
        var outer = DERReader(der[...])
        var body = DERReader(try outer.read(tag: 0x30, "SEQUENCE"))
        guard outer.isAtEnd else { throw .malformedProof("bytes after the SEQUENCE") }
        let permID = try body.read(tag: 0x04, "permid OCTET STRING")
        let integer = try body.read(tag: 0x02, "sigAlg INTEGER")
        let signature = try body.read(tag: 0x04, "signature OCTET STRING")
        guard body.isAtEnd else { throw .malformedProof("more than three members") }
        guard let first = integer.first, first & 0x80 == 0,
              integer.count == 1 || !(first == 0 && integer[integer.startIndex + 1] & 0x80 == 0)
        else { throw .malformedProof("sigAlg is not a minimal non-negative INTEGER") }
        guard integer.count <= 4 else { throw .malformedProof("sigAlg is out of range") }
        self.init(permID: Array(permID), sigAlg: integer.reduce(0) { $0 << 8 | Int($1) }, signature: Array(signature))
    }

    private static func element(_ tag: UInt8, _ content: [UInt8]) -> [UInt8] {
        var length = [UInt8]()
        var count = content.count
        while count > 0 {
            length.insert(UInt8(count & 0xFF), at: 0)
            count >>= 8
        }
        let header = content.count < 0x80 ? [UInt8(content.count)] : [0x80 | UInt8(length.count)] + length
        return [tag] + header + content
    }
}

/// Reads DER elements with single-byte tags and definite, minimally encoded lengths.
private struct DERReader {
    var bytes: ArraySlice<UInt8>

    init(_ bytes: ArraySlice<UInt8>) { self.bytes = bytes }

    var isAtEnd: Bool { bytes.isEmpty }

    /// The content of the next element, which must have `tag`.
    mutating func read(tag: UInt8, _ what: String) throws(HandshakeError) -> ArraySlice<UInt8> {
        guard let found = bytes.popFirst() else { throw .malformedProof("\(what) missing") }
        guard found == tag else { throw .malformedProof("\(what) expected, found tag 0x\(String(found, radix: 16))") }
        guard let first = bytes.popFirst() else { throw .malformedProof("\(what) has no length") }
        var length = 0
        if first < 0x80 {
            length = Int(first)
        } else {
            let octets = Int(first & 0x7F)
            guard octets >= 1, octets <= 3, bytes.count >= octets else {
                throw .malformedProof("\(what) has an unsupported or indefinite length")
            }
            for _ in 0..<octets { length = length << 8 | Int(bytes.popFirst()!) }
            guard length >= 0x80, length >> (8 * (octets - 1)) != 0 else {
                throw .malformedProof("\(what)'s length is not minimally encoded")
            }
        }
        guard bytes.count >= length else { throw .malformedProof("\(what) is truncated") }
        let content = bytes.prefix(length)
        bytes.removeFirst(length)
        return content
    }
}
