import PermIDKit

/// Private key files: reading any supported format, and the bytes a key is stored as.
public enum KeyFile {
    /// Reads a private key in any supported format (PKCS#8 PEM, SEC1 `EC PRIVATE KEY` PEM, IPv8's binary forms).
    ///
    /// - Throws: ``ClientError/local(_:)`` when the file cannot be read or holds no usable key.
    public static func read(_ path: String) throws(ClientError) -> PrivateKey {
        guard let bytes = SecureFile.read(path) else {
            throw .local("cannot read key file \(path); create one with `permid keygen` or `permid keys new NAME`, or pass --key")
        }
        do {
            return try PrivateKey(fileContents: bytes)
        } catch {
            throw .local("\(path) is not a usable private key: \(error)")
        }
    }

    /// The bytes a key is stored as: PKCS#8 PEM, or IPv8's binary form for a dual curve25519 key (which holds both halves).
    ///
    /// - Throws: ``ClientError/local(_:)`` when the key cannot be encoded.
    public static func contents(of key: PrivateKey) throws(ClientError) -> [UInt8] {
        do {
            return key.permID.keyType == .libnacl ? try key.ipv8Binary() : Array(try key.pkcs8PEM().utf8)
        } catch {
            throw .local("cannot encode the key: \(error)")
        }
    }

    /// Writes `key` to `path` atomically with mode 0600, creating the directory with mode 0700.
    ///
    /// - Parameter replace: whether an existing file may be replaced.
    /// - Throws: ``ClientError/local(_:)`` when the file exists (and `replace` is false) or cannot be written.
    public static func write(_ key: PrivateKey, to path: String, replace: Bool = false) throws(ClientError) {
        try SecureFile.write(try contents(of: key), to: path, replace: replace)
    }
}
