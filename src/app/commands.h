// The subcommands of the tajir binary.
#pragma once

#include "app/config.h"

namespace tajir::app {

// Opens and migrates the database, serves the API until SIGINT/SIGTERM. Returns an exit code.
int serve(const Config& config);
// Fills the database with demo data and prints the logins. Returns an exit code.
int seed(const Config& config);
// A short demonstration of the cache engine.
int demo();
// Prints every route of the API, "METHOD /pattern" per line.
int routes();

}  // namespace tajir::app
