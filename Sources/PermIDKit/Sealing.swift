internal import CSodium

/// Why a sealed box cannot be made or read (FRIENDS-v1 part B).
public enum SealingError: Error, Hashable, Sendable {
    /// The key type cannot receive sealed boxes: only Ed25519, `LibNaCLPK:`, P-256 and secp384r1 keys can.
    case unsupportedKeyType(KeyType)
    /// The key's type can receive boxes, but this key cannot (an Ed25519 point libsodium will not convert).
    case unusableKey(String)
    /// A box opened, but what it holds is not the 160-byte plaintext of part B.
    case malformedPlaintext(String)
    /// Endpoints a friend would refuse were given to seal (more than 8, one twice, or one never valid).
    case invalidEndpoints(String)
    /// A sealed record is for 1 to 64 friends; this many were asked for.
    case recipientCount(Int)
    /// HPKE failed to seal.
    case cryptoFailure(String)
}

extension SealingError: CustomStringConvertible {
    /// One line for humans.
    public var description: String {
        switch self {
        case .unsupportedKeyType(let type):
            "\(type.name) keys cannot receive sealed records: only ed25519, libnacl, p256 and p384 keys can"
        case .unusableKey(let why): "the key cannot receive sealed records: \(why)"
        case .malformedPlaintext(let why): "the box opened but does not hold endpoints: \(why)"
        case .invalidEndpoints(let why): "cannot seal these endpoints: \(why)"
        case .recipientCount(let count):
            "a sealed record holds boxes for \(ProtocolConstants.sealedBoxCounts.lowerBound) to \(ProtocolConstants.sealedBoxCounts.upperBound) friends, not \(count)"
        case .cryptoFailure(let why): "sealing failed: \(why)"
        }
    }
}

/// The HPKE KEM a friend's key type calls for (FRIENDS-v1 part B); the KDF is always HKDF-SHA256 and
/// the AEAD ChaCha20-Poly1305.
public enum SealingKEM: Hashable, Sendable {
    /// DHKEM(X25519, HKDF-SHA256): Ed25519 keys (as their Montgomery form) and `LibNaCLPK:` keys (their X25519 half).
    case x25519
    /// DHKEM(P-256, HKDF-SHA256).
    case p256
    /// DHKEM(P-384, HKDF-SHA384).
    case p384

    /// The length of `enc`, the encapsulated key a box starts with (RFC 9180 §7.1 `Nenc`).
    public var encapsulatedKeyLength: Int {
        switch self {
        case .x25519: 32
        case .p256: 65
        case .p384: 97
        }
    }

    /// The length of every box sealed with this KEM: `enc` ‖ the 160-byte plaintext ‖ the 16-byte tag.
    public var boxLength: Int { encapsulatedKeyLength + ProtocolConstants.sealedPlaintextLength + 16 }
}

/// A friend's HPKE public key, from the friend's long-term PermID.
public struct SealingPublicKey: Hashable, Sendable {
    /// The KEM.
    public let kem: SealingKEM
    /// The raw X25519 key (32 bytes) or the uncompressed EC point.
    public let bytes: [UInt8]

    /// A key of `kem` from its raw bytes (a throwaway key for padding boxes); swift-crypto checks them when sealing.
    public init(kem: SealingKEM, bytes: [UInt8]) {
        self.kem = kem
        self.bytes = bytes
    }

    /// The HPKE key of `permID`: Ed25519 → its Montgomery form (libsodium `crypto_sign_ed25519_pk_to_curve25519`);
    /// `LibNaCLPK:` → its X25519 half; P-256 and secp384r1 → the point.
    ///
    /// - Throws: ``SealingError/unsupportedKeyType(_:)`` for secp256k1 and the binary curves.
    public init(permID: PermID) throws(SealingError) {
        switch permID.keyType {
        case .ed25519:
            Ed25519Arithmetic.ensureSodiumInitialized()
            var montgomery = [UInt8](repeating: 0, count: 32)
            guard crypto_sign_ed25519_pk_to_curve25519(&montgomery, Array(permID.bytes.suffix(32))) == 0 else {
                throw .unusableKey("libsodium cannot convert this Ed25519 point to X25519")
            }
            (kem, bytes) = (.x25519, montgomery)
        case .libnacl:
            // "LibNaCLPK:" ‖ X25519 public key ‖ Ed25519 public key.
            (kem, bytes) = (.x25519, Array(permID.bytes[PrivateKey.libnaclPrefix.count..<(PrivateKey.libnaclPrefix.count + 32)]))
        case .ec(.p256):
            (kem, bytes) = (.p256, Array(permID.bytes.dropFirst(SubjectPublicKeyInfo.prefix(.p256).count)))
        case .ec(.p384):
            (kem, bytes) = (.p384, Array(permID.bytes.dropFirst(SubjectPublicKeyInfo.prefix(.p384).count)))
        case .ec:
            throw .unsupportedKeyType(permID.keyType)
        }
    }
}

/// Our HPKE private key, to open the boxes sealed to our long-term PermID.
public struct SealingPrivateKey: Sendable {
    /// The KEM.
    public let kem: SealingKEM
    /// The raw X25519 scalar (32 bytes) or the EC private scalar (big-endian, the curve's width).
    public let bytes: [UInt8]

    /// The HPKE key of `key`: Ed25519 → libsodium `crypto_sign_ed25519_sk_to_curve25519` of its seed;
    /// `LibNaCLSK:` → its X25519 secret; P-256 and secp384r1 → the scalar.
    ///
    /// - Throws: ``SealingError/unsupportedKeyType(_:)`` for secp256k1 and the binary curves.
    public init(key: PrivateKey) throws(SealingError) {
        switch key.permID.keyType {
        case .ed25519:
            guard let seed = key.rawPrivateKey() else { throw .unusableKey("cannot read the Ed25519 seed") }
            Ed25519Arithmetic.ensureSodiumInitialized()
            var scalar = [UInt8](repeating: 0, count: 32)
            guard crypto_sign_ed25519_sk_to_curve25519(&scalar, seed + Array(key.permID.bytes.suffix(32))) == 0 else {
                throw .unusableKey("libsodium cannot convert this Ed25519 key to X25519")
            }
            (kem, bytes) = (.x25519, scalar)
        case .libnacl:
            guard let secret = key.libnaclCryptSecret else { throw .unusableKey("cannot read the X25519 secret") }
            (kem, bytes) = (.x25519, secret)
        case .ec(let curve) where curve == .p256 || curve == .p384:
            guard let scalar = key.ecPrivateScalar(width: curve.fieldBytes) else { throw .unusableKey("cannot read the EC private scalar") }
            (kem, bytes) = (curve == .p256 ? .p256 : .p384, scalar)
        case .ec:
            throw .unsupportedKeyType(key.permID.keyType)
        }
    }
}

/// The byte layouts of a sealed box that HPKE does not define (FRIENDS-v1 part B): its `info` and its plaintext.
public enum SealedBox {
    /// The tag that starts every box's `info`.
    public static let infoTag = Array("PERMID-DIRECTORY/1 SEAL".utf8) + [0]

    /// `info` = tag ‖ u16 length ‖ the record's PermID ‖ u64 seq: a box opens only in the record and version it was sealed for.
    public static func info(permID: PermID, seq: UInt64) -> [UInt8] {
        var output = infoTag
        output.append(UInt8(permID.bytes.count >> 8))
        output.append(UInt8(permID.bytes.count & 0xFF))
        output += permID.bytes
        output += Blinding.bigEndian(seq)
        return output
    }

    /// The 160-byte plaintext: u8 count ‖ the endpoints' wire form ‖ zero bytes (at most 8 endpoints;
    /// ``endpoints(plaintext:)`` tells whether the result is one a friend accepts).
    public static func plaintext(endpoints: [Endpoint]) -> [UInt8] {
        precondition(endpoints.count <= SignedRecord.maxEndpoints)
        var output = [UInt8(endpoints.count)] + Endpoint.encode(endpoints)
        output += [UInt8](repeating: 0, count: ProtocolConstants.sealedPlaintextLength - output.count)
        return output
    }

    /// The endpoints of an opened box: exactly 160 bytes, a count of 0 to 8, that many distinct endpoints in
    /// wire form with ports 1 to 65535 and addresses a record may carry (never unspecified, multicast,
    /// broadcast or IPv4-mapped, as for an open record), then only zero bytes.
    ///
    /// - Throws: ``SealingError/malformedPlaintext(_:)`` naming what is wrong.
    public static func endpoints(plaintext: [UInt8]) throws(SealingError) -> [Endpoint] {
        guard plaintext.count == ProtocolConstants.sealedPlaintextLength else {
            throw .malformedPlaintext("\(plaintext.count) bytes, not \(ProtocolConstants.sealedPlaintextLength)")
        }
        let count = Int(plaintext[0])
        guard count <= SignedRecord.maxEndpoints else { throw .malformedPlaintext("count \(count) is more than \(SignedRecord.maxEndpoints)") }
        var endpoints = [Endpoint]()
        var index = 1
        for _ in 0..<count {
            let length = plaintext[index] == 4 ? 4 : plaintext[index] == 6 ? 16 : 0
            guard length > 0, index + 3 + length <= plaintext.count,
                  let decoded = Endpoint.decode(Array(plaintext[index..<(index + 3 + length)])), let endpoint = decoded.first
            else { throw .malformedPlaintext("endpoint \(endpoints.count) is not in wire form") }
            guard endpoint.port != 0 else { throw .malformedPlaintext("endpoint \(endpoints.count) has port 0") }
            guard !endpoint.address.isIPv4Mapped else { throw .malformedPlaintext("\(endpoint) is IPv4-mapped") }
            let classification = endpoint.address.classification
            guard classification.scope != .forbidden else {
                throw .malformedPlaintext("\(endpoint.address) is never an endpoint: \(classification)")
            }
            guard !endpoints.contains(endpoint) else { throw .malformedPlaintext("\(endpoint) is listed twice") }
            endpoints.append(endpoint)
            index += 3 + length
        }
        guard plaintext[index...].allSatisfy({ $0 == 0 }) else { throw .malformedPlaintext("bytes after the endpoints are not zero") }
        return endpoints
    }
}
