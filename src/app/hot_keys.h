// The hot-key file of a warm restart: at a clean stop `tajir serve` writes the keys of the cached
// GETs that were being read (Api::hot_keys, not their values), and at start it sends those GETs
// again (Api::warm_keys) before it says it is listening, or in the background.
//
// The file is text: a first line "# tajir hot keys 1", then one key per line, most valuable
// first. It is written to FILE.tmp and renamed, so a crash mid-write leaves the old file whole.
// A missing file is an empty list (the first start); a file of another format is an error.
#pragma once

#include <string>
#include <vector>

#include "util/status.h"

namespace tajir::app {

// Where the hot keys of database `db_url` go by default: beside a SQLite file
// ("sqlite:/var/tajir.db" -> "/var/tajir.db.hotkeys"); empty for other databases (a
// PostgreSQL server needs the setting: the file would live on another machine's disk).
std::string default_hot_keys_path(const std::string& db_url);

Status save_hot_keys(const std::string& path, const std::vector<std::string>& keys);
Result<std::vector<std::string>> load_hot_keys(const std::string& path, size_t max);

}  // namespace tajir::app
