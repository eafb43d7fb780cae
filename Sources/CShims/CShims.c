#include "CShims.h"
sqlite3_destructor_type permid_sqlite_transient(void) { return SQLITE_TRANSIENT; }
