internal import CSSL
import PermIDKit

/// An OpenSSL `SSL_CTX` configured for the PermID handshake: TLS 1.3 only, ALPN `permid/1`, the peer's
/// certificate required and checked by ``PeerVerifier`` instead of OpenSSL's chain building, no session
/// resumption (every connection proves both PermIDs afresh).
///
/// Owns the `SSL_CTX`, freed in `deinit`.
final class TLSContext: @unchecked Sendable {
    // @unchecked Sendable: configured in init and then only read by SSL_new, which OpenSSL allows
    // from several threads.
    let context: OpaquePointer

    /// ALPN's wire form of the one protocol: length-prefixed `permid/1`.
    static let alpn: [UInt8] = [8] + Array("permid/1".utf8)

    deinit { SSL_CTX_free(context) }

    init(server: Bool) throws(HandshakeError) {
        guard let context = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method()) else {
            throw .tls("SSL_CTX_new: \(TLSErrors.drain())")
        }
        self.context = context
        guard permid_ssl_ctx_set_only_version(context, TLS1_3_VERSION) == 1,
              SSL_CTX_set_num_tickets(context, 0) == 1
        else { throw .tls(TLSErrors.drain()) }
        permid_ssl_ctx_set_relay_modes(context)
        SSL_CTX_set_verify(context, server ? SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT : SSL_VERIFY_PEER, nil)
        SSL_CTX_set_cert_verify_callback(context, verifyPeer, nil)
        if server { SSL_CTX_set_alpn_select_cb(context, selectALPN, nil) }
    }
}

/// One connection's handshake state, reached from the verify callback through the `SSL`'s app data.
final class HandshakeState {
    let policy: PeerPolicy
    var peer: PermID?
    var rejection: HandshakeError?

    init(policy: PeerPolicy) { self.policy = policy }
}

/// OpenSSL's certificate verification, replaced: runs ``PeerVerifier`` on what the peer sent. Returning 0
/// (error CERT_REJECTED) makes OpenSSL abort the handshake with a `bad_certificate` alert before any application byte.
private let verifyPeer: @convention(c) (OpaquePointer?, UnsafeMutableRawPointer?) -> Int32 = { store, _ in
    guard let store,
          let sslPointer = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()),
          let statePointer = SSL_get_ex_data(OpaquePointer(sslPointer), 0)
    else { return 0 }
    let state = Unmanaged<HandshakeState>.fromOpaque(statePointer).takeUnretainedValue()
    guard let leaf = X509_STORE_CTX_get0_cert(store) else {
        state.rejection = .peerRejected("the peer sent no certificate")
        return 0
    }
    let chainLength = Int(permid_x509_stack_count(X509_STORE_CTX_get0_untrusted(store)))
    do throws(HandshakeError) {
        state.peer = try PeerVerifier.verify(certificate: leaf, chainLength: max(1, chainLength), policy: state.policy)
        return 1
    } catch {
        state.rejection = error
        X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_REJECTED)
        return 0
    }
}

/// The server's ALPN choice: `permid/1`, or a fatal `no_application_protocol` alert when not offered.
private let selectALPN: @convention(c) (
    OpaquePointer?, UnsafeMutablePointer<UnsafePointer<UInt8>?>?, UnsafeMutablePointer<UInt8>?,
    UnsafePointer<UInt8>?, UInt32, UnsafeMutableRawPointer?
) -> Int32 = { _, out, outLength, offered, offeredLength, _ in
    guard let out, let outLength, let offered else { return SSL_TLSEXT_ERR_ALERT_FATAL }
    var index = 0
    let count = Int(offeredLength)
    let wanted = TLSContext.alpn
    while index < count {
        let length = Int(offered[index])
        if length == wanted.count - 1, index + 1 + length <= count,
           (0..<length).allSatisfy({ offered[index + 1 + $0] == wanted[1 + $0] }) {
            out.pointee = offered + index + 1
            outLength.pointee = UInt8(length)
            return SSL_TLSEXT_ERR_OK
        }
        index += 1 + length
    }
    return SSL_TLSEXT_ERR_ALERT_FATAL
}
