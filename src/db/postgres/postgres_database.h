// The PostgreSQL backend of Database, over libpq.
//
// A bounded pool of connections (Options::pool_size, by default 2 x hardware threads) serves
// both kinds of transaction: read() runs in REPEATABLE READ READ ONLY, so all its statements see
// one snapshot; write() in READ COMMITTED, where a conditional UPDATE re-checks its condition
// against the newest row version, and is run again (at most 5 times in all) after a
// serialization failure or a deadlock (SQLSTATE 40001, 40P01: kAborted). A caller waits up to
// Options::busy_timeout for a free connection, then gets kUnavailable.
//
// Statements are written with `?`; each connection numbers them ($1..$n, skipping quoted
// strings, quoted identifiers, dollar quotes and comments) and prepares each SQL text once
// (PQprepare), then runs it with text-format parameters. Parameter types are inferred by the
// server from their context; where the context says nothing (`? IS NULL`, a bare `SELECT ?`)
// write a cast, `CAST(? AS BIGINT)`, which SQLite understands too. Result columns come back by
// type: int2/int4/int8 (and bool, as 0/1) as int64, float4/float8/numeric as double, NULL as
// monostate, everything else as text.
//
// Errors by SQLSTATE: 23505 kAlreadyExists (naming the constraint), other 23xxx
// kFailedPrecondition, 40001/40P01 kAborted, 08xxx, 57Pxx or a lost connection kUnavailable
// (the connection is dropped; the pool opens a new one when next needed), others kInternal.
// open() connects once to check the URL; connect_timeout defaults to busy_timeout (at least 2 s,
// libpq's minimum) unless the URL sets it.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "db/database.h"

namespace tajir::db {

// Use db::open("postgresql://...") rather than this.
Result<std::unique_ptr<Database>> open_postgres(std::string_view url, const Options& options);

// Rewrites each `?` placeholder of sql to $1, $2, ... and sets *count to how many there were.
// A `?` inside a string ('...', E'...', $tag$...$tag$), a quoted identifier or a comment stays.
std::string number_placeholders(std::string_view sql, int* count);

}  // namespace tajir::db
