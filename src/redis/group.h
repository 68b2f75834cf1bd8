// redis::Group: the tajir nodes that share one Redis, and the invalidations they carry to each
// other, so that a read on any node never shows less than a write acknowledged on another.
// docs/CACHE.md ("Several nodes") has the whole argument; in short:
//
//   {tajir}:log      a Redis Stream: one entry per write's invalidation (its sequence number,
//                    the node that wrote it, its tags), trimmed to about max_log entries
//   {tajir}:seq      the last sequence number given out
//   {tajir}:nodes    a sorted set: each node, scored by the end of its lease (Redis's clock, ms)
//   {tajir}:applied  a hash: each node's last applied sequence number
//   {tajir}:epoch    this Redis's identity and birth (ms): made anew if Redis lost its data
//
// - A node serves from its local tier only while its lease holds by its own clock, which ends
//   it early: renewed at t_send, it holds until t_send + 0.9 * lease, while Redis keeps it until
//   at least t_send + lease. One thread renews the lease and reads the log, so a node whose
//   reader is stuck stops renewing, and its lease runs out.
// - publish() (a write, after it committed and dropped its tags locally and in the Redis tier)
//   appends the tags to the log; await() then waits until every other node whose lease holds
//   has applied them. A node whose lease ran out is not waited for: it no longer serves locally.
// - A node that gets its lease back after losing it, or finds a new epoch, first clears its
//   local tier (invalidations may have passed it by) and reads the log from its end. A gap in
//   the sequence numbers (the log trimmed past a slow reader) clears the local tier too.
// - Without a witness (below), a write that cannot reach Redis tries again until a whole lease
//   (and a tenth) after its commit, by its own clock, before it answers: by then every other node
//   that could not renew either has stopped serving locally, and one that got its lease back since
//   did so after the commit, and cleared its local tier. Counted from the commit, not from when
//   this node lost Redis: Redis may be back for the others already. The clients' reconnect backoff
//   is capped at a tenth of the lease, so "could not reach" means Redis was not there, not that it
//   was not tried. A write in the first lease of a new epoch waits for the rest of it: nodes of the
//   old one may still think their leases hold.
// In a Redis Cluster every key has the hash tag {tajir} (one slot, one master), and what the
// others rely on (a renewal, an entry, an acknowledgement) is replicated before it counts
// (WAIT, redis/client.h): a failover's new master still has it.
// - A node cut off from Redis while the others reach it cannot tell them; only a second lease
//   held elsewhere (GroupOptions::witness: a table in the database) lets its write tell that
//   case from an outage for everyone. With a witness, a node beats there at each renewal and
//   serves locally only while both hold (one renewal: counted from the send of the first);
//   a node whose lease ran out resigns there. A write that cannot reach Redis answers once
//   every other node has resigned or not beaten for a whole lease (they all stopped serving
//   locally, and clear before they serve again), and otherwise is refused two leases and a
//   half after its commit: committed, but not acknowledged (publish_and_wait() says false).
//   docs/CACHE.md ("A node cut off from Redis") has the argument.
//
// Thread safety: thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "redis/client.h"

namespace tajir::redis {

// `o` with its reconnect backoff capped at a tenth of `lease`, so that while Redis is away it is
// tried at least that often: what a Group's own clients use, and what a client whose failures
// a Group's writes rely on (the Redis tier's) must use.
ClientOptions prompt(ClientOptions o, std::chrono::milliseconds lease);

// A node's row in the witness: how many times it beat, and whether it resigned since.
struct Beat {
  std::string node;
  int64_t count = 0;
  bool resigned = false;
};

// The second lease's store (the database's node_beats table in tajir serve). Each call may
// block; false or an error: not done.
struct Witness {
  std::function<bool(const std::string& node)> beat;    // count + 1, not resigned
  std::function<bool(const std::string& node)> resign;  // resigned
  std::function<std::optional<std::vector<Beat>>()> beats;
};

struct GroupOptions {
  ClientOptions client;  // the log reader's own connection (pool_size is ignored)
  std::string node;      // this node's name: unique among the nodes; empty: made up
  std::chrono::milliseconds lease{2000};
  std::chrono::milliseconds block{100};  // the longest XREAD waits before the lease is renewed
  size_t max_log = 100'000;              // entries the log keeps (about: MAXLEN ~)
  // What an entry of another node asks of the local tier, and a clear of all of it; clear_all
  // says whether it finished (false: the node does not serve locally until a later one does).
  std::function<void(const std::vector<std::string>& tags, bool clear)> invalidate;
  std::function<bool()> clear_all;
  std::optional<Witness> witness;  // none: a write that cannot reach Redis answers after a lease
};

struct GroupStats {
  std::string node;
  bool serving = false;       // the lease holds and the local tier may be read
  uint64_t applied = 0;       // the last sequence number applied
  uint64_t entries = 0;       // other nodes' entries applied
  uint64_t published = 0;     // this node's writes put in the log
  uint64_t unpublished = 0;   // writes that could not reach the log, answered all the same
  uint64_t refused = 0;       // writes that could not reach the log while others beat: refused
  uint64_t beats_missed = 0;  // renewals whose beat in the witness failed
  uint64_t lease_lost = 0;    // lapses of the lease (each cleared the tier before serving again)
  uint64_t gaps = 0;          // entries missed by the reader (tier cleared)
  uint64_t waits = 0;         // writes that waited for other nodes
  uint64_t wait_us = 0;       // their time waiting, summed
  uint64_t wait_max_us = 0;   // the longest
  uint64_t live_nodes = 0;    // nodes whose lease held at the last renewal, this one included
};

class Group {
 public:
  // Starts the thread; the first lease is taken before serving() says yes.
  explicit Group(GroupOptions options);
  ~Group();
  Group(const Group&) = delete;
  Group& operator=(const Group&) = delete;

  // Local reads: a Pass taken before the local tier is read is still good after it only if
  // the lease held all along. Each is two atomic loads and a clock read: a lease that ran out
  // by the clock gives a closed Pass before the thread has noticed.
  struct Pass {
    uint64_t state = 0;
    bool open() const { return state % 2 == 1; }
  };
  Pass enter() const;
  bool still(Pass p) const;

  using Clock = std::chrono::steady_clock;

  // How a write's tries to reach Redis ended (Tries::until).
  enum class Reach : uint8_t {
    kReached,    // it got through
    kOthersOut,  // it did not, but no other node can serve what the write changed: answer
    kRefused,    // it did not, and others may still serve it: the write must not be acknowledged
  };
  // All of one write's tries to reach Redis after its commit (its Redis tier repair, then its
  // entry in the log): each is tried every 20 ms until it gets through, until no other node can
  // serve what the write changed (a lease and a tenth after the commit; with a witness, once it
  // shows every other node out: see above), or, with a witness that still shows another node
  // beating, until two leases and a half after the commit (refused). What the witness showed
  // during one try counts for the next, and an end once reached stays: a node out after the
  // commit clears before it serves again. One thread's.
  class Tries {
   public:
    // ask_witness false: ends as without a witness (the log reader's repairs, which must not
    // outlast the lease).
    Tries(const Group& group, Clock::time_point committed, bool ask_witness = true);
    // Calls `attempt` until it says true or the write's tries end (above).
    Reach until(const std::function<bool()>& attempt);

   private:
    // Whether the witness now shows every other node out: resigned, or its count stood still
    // across a whole lease, from the answer of the look that saw that count first to the
    // question of this one (what the database saw lies in between).
    bool all_out();
    struct Seen {
      int64_t count;
      Clock::time_point since;
    };
    const Group& group_;
    const Clock::time_point committed_;
    const bool ask_witness_;
    Clock::time_point next_look_;
    std::optional<Reach> ended_;  // kOthersOut or kRefused, once reached
    std::map<std::string, Seen> seen_;
  };

  // Puts a write's invalidation in the log and waits until every other live node applied it
  // (or its lease ran out); when Redis cannot be reached, until `tries` ends. False: the write
  // must not be acknowledged (others may still serve what it changed). Calls
  // util::blocking_point() first.
  [[nodiscard]] bool publish_and_wait(const std::vector<std::string>& tags, bool clear,
                                      Tries& tries);
  // The same for a write that committed now and tried nothing else.
  [[nodiscard]] bool publish_and_wait(const std::vector<std::string>& tags, bool clear) {
    Tries tries(*this, Clock::now());
    return publish_and_wait(tags, clear, tries);
  }

  // Stops the thread (the destructor does too): no callback runs after this returns, and the
  // local tier is no longer served (the lease is given up locally, and in the witness).
  void stop();

  GroupStats stats() const;
  const GroupOptions& options() const { return options_; }

 private:
  struct Position {
    std::string epoch;
    uint64_t seq = 0;
    std::string id;  // the stream entry's id, where XREAD goes on from
  };
  void run(std::stop_token stop);
  // Renews the lease; when it was lost (or Redis is new), clears the local tier and moves the
  // reader to the log's end. Returns whether Redis holds the lease (so the log is read and
  // acknowledged) and whether the local tier is open.
  struct Renewal {
    bool redis = false;
    bool open = false;
  };
  Renewal renew(Position& at);
  // Reads and applies what the log has after `at` (waiting up to options_.block).
  void read(Position& at);
  void open(int64_t until_ns);
  void close();
  // Waits until no other live node lags `seq`, up to `limit`.
  void await(uint64_t seq, Clock::time_point limit);
  // Closes the local tier and resigns in the witness, once per lapse.
  void resign();

  const GroupOptions options_;
  const std::string node_;
  Client reader_;  // the thread's: renewals, XREAD, acknowledgements
  Client writer_;  // publish_and_wait()'s
  // Odd while the local tier may be read, raised by each change; valid_until_ns_ ends it early.
  std::atomic<uint64_t> state_{0};
  std::atomic<int64_t> valid_until_ns_{0};
  std::atomic<uint64_t> applied_{0}, entries_{0}, published_{0}, unpublished_{0}, refused_{0},
      beats_missed_{0}, lease_lost_{0}, gaps_{0}, waits_{0}, wait_us_{0}, wait_max_us_{0}, live_{0};
  bool resigned_ = false;   // the thread's: resigned in the witness since the last beat
  bool lapse_told_ = true;  // the thread's: this lapse (or the start) was logged and counted
  std::jthread thread_;     // last: stopped first
};

}  // namespace tajir::redis
