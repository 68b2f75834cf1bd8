// The SQLite backend of Database: one file in WAL mode, shared by a pool of readers and one
// writer.
//
// WAL lets readers run beside the writer, each read() seeing the snapshot its first statement
// found, while writes queue for the single writer connection (a pool of one: a write waits up
// to Options::busy_timeout for it, then kUnavailable). write() begins with BEGIN IMMEDIATE, so
// it takes the file's write lock at once instead of upgrading a read lock later, which could
// fail with SQLITE_BUSY mid-transaction; other processes on the same file queue on that lock
// through busy_timeout. Readers are opened with query_only, so a write inside read() fails.
//
// Each connection keeps its prepared statements, keyed by SQL text, for its whole life: tajir
// writes each statement once, so the set is small and fixed.
//
// Settings: synchronous=FULL (or NORMAL, Options::sqlite_synchronous_full), foreign_keys=ON,
// busy_timeout from Options. Errors: a UNIQUE or PRIMARY KEY violation is kAlreadyExists,
// another constraint kFailedPrecondition, SQLITE_BUSY/LOCKED and a file that cannot be opened
// kUnavailable, anything else kInternal.
#pragma once

#include <memory>
#include <string>

#include "db/database.h"

namespace tajir::db {

// Opens the database file at path, creating it if missing (its directory must exist).
// Use db::open("sqlite:PATH") rather than this.
Result<std::unique_ptr<Database>> open_sqlite(const std::string& path, const Options& options);

}  // namespace tajir::db
