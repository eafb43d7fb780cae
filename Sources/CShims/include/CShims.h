#ifndef PERMID_CSHIMS_H
#define PERMID_CSHIMS_H
#include <sqlite3.h>
/// SQLITE_TRANSIENT is a macro casting -1 to a function pointer, which Swift cannot import.
/// Binding with it makes SQLite copy the buffer before the call returns.
sqlite3_destructor_type permid_sqlite_transient(void);
#endif
