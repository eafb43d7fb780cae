// The bench ceiling: a bare libmicrohttpd server that answers every request with one fixed body (a
// real record's JSON, read from BODY_FILE, so the answer is as long as permidd's), with the same
// daemon flags, thread count and connection memory limit as permidd's defaults (epoll, internal
// thread pool, suspend/resume allowed, turbo, 16 KiB) and the same keep-alive-friendly handler shape
// (queue on the second call).
// Usage: ceiling PORT THREADS BODY_FILE | ceiling --version
#include <microhttpd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct MHD_Response *response;

static enum MHD_Result handle(void *cls, struct MHD_Connection *connection, const char *url, const char *method,
                              const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls) {
    (void)cls; (void)url; (void)method; (void)version; (void)upload_data;
    if (*con_cls == NULL) { *con_cls = (void *)1; return MHD_YES; }
    if (*upload_data_size != 0) { *upload_data_size = 0; return MHD_YES; }
    return MHD_queue_response(connection, MHD_HTTP_OK, response);
}

int main(int argc, char **argv) {
    if (argc == 2 && strcmp(argv[1], "--version") == 0) { printf("%s\n", MHD_get_version()); return 0; }
    if (argc != 4) { fprintf(stderr, "usage: ceiling PORT THREADS BODY_FILE | ceiling --version\n"); return 1; }
    static char body[65536];
    FILE *file = fopen(argv[3], "rb");
    if (file == NULL) { perror(argv[3]); return 1; }
    size_t length = fread(body, 1, sizeof body, file);
    fclose(file);
    if (length == 0 || length == sizeof body) { fprintf(stderr, "%s: empty or too long\n", argv[3]); return 1; }
    response = MHD_create_response_from_buffer(length, body, MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(response, "Content-Type", "application/json");
    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_TURBO;
    struct MHD_Daemon *daemon = MHD_start_daemon(flags, (uint16_t)atoi(argv[1]), NULL, NULL, handle, NULL,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)atoi(argv[2]), MHD_OPTION_CONNECTION_LIMIT, 4096u,
        MHD_OPTION_CONNECTION_TIMEOUT, 15u, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)16 * 1024,
        MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u, MHD_OPTION_END);
    if (daemon == NULL) { fprintf(stderr, "cannot start\n"); return 1; }
    sigset_t signals;
    sigemptyset(&signals); sigaddset(&signals, SIGINT); sigaddset(&signals, SIGTERM);
    sigprocmask(SIG_BLOCK, &signals, NULL);
    int received;
    sigwait(&signals, &received);
    MHD_stop_daemon(daemon);
    return 0;
}
