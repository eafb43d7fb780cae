// libpq, PostgreSQL's C client library. No logic lives here: libpq's API has no variadic functions or
// function-like macros that permid uses, so it needs no wrappers.
#include <libpq-fe.h>
