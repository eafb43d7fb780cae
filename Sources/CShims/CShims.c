#include "CShims.h"
#include <netinet/in.h>
#include <string.h>

sqlite3_destructor_type permid_sqlite_transient(void) { return SQLITE_TRANSIENT; }

// Leaves URL paths and query arguments percent-encoded. MHD's default unescaping turns "%00" into a NUL
// that silently truncates the path; permid decodes query values itself and refuses '%' in a PermID.
static size_t permid_mhd_no_unescape(void *context, struct MHD_Connection *connection, char *text) {
    (void)context;
    (void)connection;
    return strlen(text);
}

struct MHD_Daemon *permid_mhd_start(const struct permid_mhd_options *options, void *context,
                                    MHD_AccessHandlerCallback handler,
                                    permid_mhd_request_started started,
                                    MHD_RequestCompletedCallback completed,
                                    MHD_AcceptPolicyCallback accept,
                                    MHD_NotifyConnectionCallback connection_notified) {
    return MHD_start_daemon(options->flags, 0, accept, context, handler, context,
                            MHD_OPTION_NOTIFY_CONNECTION, connection_notified, context,
                            MHD_OPTION_SOCK_ADDR, options->address,
                            MHD_OPTION_THREAD_POOL_SIZE, options->thread_pool_size,
                            MHD_OPTION_CONNECTION_LIMIT, options->connection_limit,
                            MHD_OPTION_CONNECTION_TIMEOUT, options->connection_timeout,
                            MHD_OPTION_CONNECTION_MEMORY_LIMIT, options->connection_memory_limit,
                            MHD_OPTION_LISTEN_BACKLOG_SIZE, options->listen_backlog,
                            MHD_OPTION_URI_LOG_CALLBACK, started, context,
                            MHD_OPTION_NOTIFY_COMPLETED, completed, context,
                            MHD_OPTION_UNESCAPE_CALLBACK, permid_mhd_no_unescape, NULL,
                            MHD_OPTION_END);
}

uint16_t permid_mhd_bound_port(struct MHD_Daemon *daemon) {
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(daemon, MHD_DAEMON_INFO_BIND_PORT);
    return info == NULL ? 0 : info->port;
}

int permid_mhd_client_address(struct MHD_Connection *connection, uint8_t address[16], uint16_t *port) {
    const union MHD_ConnectionInfo *info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (info == NULL || info->client_addr == NULL) return 0;
    const struct sockaddr *peer = info->client_addr;
    if (peer->sa_family == AF_INET) {
        const struct sockaddr_in *v4 = (const struct sockaddr_in *)peer;
        memcpy(address, &v4->sin_addr, 4);
        *port = ntohs(v4->sin_port);
        return 4;
    }
    if (peer->sa_family == AF_INET6) {
        const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)peer;
        memcpy(address, &v6->sin6_addr, 16);
        *port = ntohs(v6->sin6_port);
        return 6;
    }
    return 0;
}

unsigned int permid_mhd_http_status(struct MHD_Connection *connection) {
    const union MHD_ConnectionInfo *info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_HTTP_STATUS);
    return info == NULL ? 0 : info->http_status;
}

int permid_socket_address(const struct sockaddr *peer, uint8_t address[16]) {
    if (peer == NULL) return 0;
    if (peer->sa_family == AF_INET) {
        memcpy(address, &((const struct sockaddr_in *)peer)->sin_addr, 4);
        return 4;
    }
    if (peer->sa_family == AF_INET6) {
        memcpy(address, &((const struct sockaddr_in6 *)peer)->sin6_addr, 16);
        return 6;
    }
    return 0;
}

void *permid_mhd_socket_context(struct MHD_Connection *connection) {
    const union MHD_ConnectionInfo *info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return info == NULL ? NULL : info->socket_context;
}
