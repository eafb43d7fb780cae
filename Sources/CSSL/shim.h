// OpenSSL 3 libssl headers that the PermID TLS handshake uses, and prefixed wrappers for the
// function-like macros Swift cannot import. No protocol logic lives here.
#ifndef PERMID_CSSL_SHIM_H
#define PERMID_CSSL_SHIM_H
#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

/// SSL_CTX_set_min_proto_version and SSL_CTX_set_max_proto_version are macros over SSL_CTX_ctrl.
/// Pins a context to exactly one protocol version; returns 1 on success.
static inline int permid_ssl_ctx_set_only_version(SSL_CTX *context, int version) {
    return SSL_CTX_set_min_proto_version(context, version) == 1
        && SSL_CTX_set_max_proto_version(context, version) == 1;
}

/// SSL_CTX_set_mode and SSL_CTX_clear_mode are macros over SSL_CTX_ctrl. For the byte relay over a
/// non-blocking socket: SSL_read returns WANT_READ after a non-application record (a session ticket)
/// instead of waiting for application data, and a retried SSL_write may pass a moved buffer.
static inline void permid_ssl_ctx_set_relay_modes(SSL_CTX *context) {
    SSL_CTX_clear_mode(context, SSL_MODE_AUTO_RETRY);
    SSL_CTX_set_mode(context, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
}

/// sk_X509_num is a macro over the type-checked stack functions; -1 for NULL.
static inline int permid_x509_stack_count(const STACK_OF(X509) *stack) {
    return sk_X509_num(stack);
}

#endif
