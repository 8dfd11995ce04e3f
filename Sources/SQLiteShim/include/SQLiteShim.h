#ifndef ROOMS_SQLITE_SHIM_H
#define ROOMS_SQLITE_SHIM_H

// The few SQLite calls Swift cannot make itself: `sqlite3_db_config` is variadic, and Swift does
// not import variadic C functions. Each wrapper takes fixed arguments and calls it once.

struct sqlite3;

/// Turns off the checkpoint SQLite runs when the last connection to a WAL database closes
/// (`SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE`). Returns SQLite's result code.
int rooms_sqlite3_skip_checkpoint_on_close(struct sqlite3 *db);

#endif
