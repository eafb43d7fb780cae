// SQLite headers. No logic lives here.
#include <sqlite3.h>
