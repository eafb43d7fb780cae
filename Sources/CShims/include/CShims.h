#ifndef PERMID_CSHIMS_H
#define PERMID_CSHIMS_H
// Prefixed C wrappers for the parts of SQLite and libmicrohttpd that Swift cannot import:
// variadic functions and function-like or casting macros. No protocol logic lives here.
#include <stdint.h>
#include <sys/socket.h>
#include <sqlite3.h>
#include <microhttpd.h>

/// SQLITE_TRANSIENT is a macro casting -1 to a function pointer, which Swift cannot import.
/// Binding with it makes SQLite copy the buffer before the call returns.
sqlite3_destructor_type permid_sqlite_transient(void);

/// The options permidd starts a libmicrohttpd daemon with; MHD_start_daemon itself is variadic.
struct permid_mhd_options {
    unsigned int flags;                 // MHD_USE_* flags
    const struct sockaddr *address;     // where to listen (IPv4 or IPv6, port included)
    unsigned int thread_pool_size;      // worker threads, each with its own epoll set
    unsigned int connection_limit;      // open connections at most
    unsigned int connection_timeout;    // seconds of inactivity before a connection is closed
    size_t connection_memory_limit;     // bytes per connection for headers and buffers
    unsigned int listen_backlog;        // listen(2) backlog
};

/// Called when a request line has arrived, before its headers; its result becomes the request's
/// `*req_cls`, so the request-completed callback sees every request, even one libmicrohttpd answers
/// itself (431, 400) without calling the access handler.
typedef void *(*permid_mhd_request_started)(void *context, const char *uri, struct MHD_Connection *connection);

/// Starts a daemon with the given options, an access handler, a request-started and a
/// request-completed callback, all with one context (MHD_start_daemon is variadic). Returns NULL on
/// failure (for example, the address is in use).
struct MHD_Daemon *permid_mhd_start(const struct permid_mhd_options *options, void *context,
                                    MHD_AccessHandlerCallback handler,
                                    permid_mhd_request_started started,
                                    MHD_RequestCompletedCallback completed,
                                    MHD_AcceptPolicyCallback accept,
                                    MHD_NotifyConnectionCallback connection_notified);

/// The status of the response queued on a connection, 0 if none (MHD_get_connection_info is variadic).
unsigned int permid_mhd_http_status(struct MHD_Connection *connection);

/// The port a daemon is bound to, useful when it was started on port 0 (MHD_get_daemon_info is variadic).
uint16_t permid_mhd_bound_port(struct MHD_Daemon *daemon);

/// Copies a socket address's IP into `address` (4 or 16 bytes); returns 4 or 6 for the family, 0 if
/// neither (for the accept policy callback, which gets a raw sockaddr).
int permid_socket_address(const struct sockaddr *peer, uint8_t address[16]);

/// Copies the connection's peer address into `address` (4 or 16 bytes) and its port into `port`.
/// Returns 4 or 6 for the family, 0 if unknown (MHD_get_connection_info is variadic).
int permid_mhd_client_address(struct MHD_Connection *connection, uint8_t address[16], uint16_t *port);

/// The connection's socket context, as the notify-connection callback left it (MHD_get_connection_info
/// is variadic).
void *permid_mhd_socket_context(struct MHD_Connection *connection);

#endif
