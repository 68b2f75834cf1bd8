// Pos: the nodes' beats (pos.h), the second lease of redis::Group's nodes. Only the counts and
// the resignations carry meaning; the clock a row keeps is the writing node's, used only to let
// the rows of nodes silent for a day go.
#include "pos/pos.h"

namespace tajir::pos {
namespace {

constexpr int64_t kForgetAfterMs = 86'400'000;

}  // namespace

Status Pos::beat_node(const std::string& node) {
  const int64_t now = now_ms();
  return db_.write([&](db::Transaction& tx) -> Status {
    auto beat = tx.execute(
        "INSERT INTO node_beats(node, beats, resigned, updated_ms) VALUES (?, 1, 0, ?) "
        "ON CONFLICT (node) DO UPDATE SET beats = node_beats.beats + 1, resigned = 0, "
        "updated_ms = excluded.updated_ms",
        {node, now});
    if (!beat.ok()) return beat.status();
    return tx.execute("DELETE FROM node_beats WHERE updated_ms < ?", {now - kForgetAfterMs})
        .status();
  });
}

Status Pos::resign_node(const std::string& node) {
  return db_.write([&](db::Transaction& tx) -> Status {
    return tx
        .execute("UPDATE node_beats SET resigned = 1, updated_ms = ? WHERE node = ?",
                 {now_ms(), node})
        .status();
  });
}

Result<std::vector<Pos::NodeBeat>> Pos::node_beats() {
  std::vector<NodeBeat> out;
  Status st = db_.read([&](db::Transaction& tx) -> Status {
    auto rows = tx.query("SELECT node, beats, resigned FROM node_beats", {});
    if (!rows.ok()) return rows.status();
    for (const db::Row& row : *rows)
      out.push_back({row.text(0), row.integer(1), row.integer(2) != 0});
    return OkStatus();
  });
  if (!st.ok()) return st;
  return out;
}

}  // namespace tajir::pos
