// libmicrohttpd headers. microhttpd.h needs the socket and integer types first. No logic lives here.
#include <stdarg.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <microhttpd.h>
