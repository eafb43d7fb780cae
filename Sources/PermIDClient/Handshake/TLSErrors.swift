internal import CSSL

/// OpenSSL's error queue, read into text for ``HandshakeError``.
enum TLSErrors {
    /// Empties this thread's OpenSSL error queue and returns the first error's reason.
    @discardableResult
    static func drain() -> String {
        let first = ERR_get_error()
        while ERR_get_error() != 0 {}
        guard first != 0 else { return "unknown OpenSSL error" }
        guard let reason = ERR_reason_error_string(first) else { return "OpenSSL error \(first)" }
        return String(cString: reason)
    }
}
