// tajir_tiers_bench: what one read costs in each tier, and what a write waits for the other
// nodes, measured in one process against a real redis-server and PostgreSQL (both started on
// loopback here), in alternating rounds; bench/tiers.sh runs it beside redis-benchmark.
//
//   tajir_tiers_bench [rounds] [value bytes]
//
// Per round, each hop's latency per operation (p50, p99, mean), single-threaded, one request in
// flight, so that the figures are the hops' own and not a queue's:
//   local hit    cache::Cache::get of a value of that size (timed per batch of 1,000)
//   leased hit   the same, with a node's lease checked before and after (Group::enter, still)
//   redis hit    redis::Tier::get of the same value (one EVALSHA: versions checked in Redis)
//   redis GET    a plain GET of the same bytes through redis::Client (hiredis): the peer
//   sqlite row   a product read by primary key from a SQLite file (WAL), one read transaction
//   postgres row the same on PostgreSQL, over loopback TCP
// Then the write's wait for other nodes (redis::Group::publish_and_wait) with 1, 2 and 3 nodes
// in this process: the delay from a write's commit until every other node applied its
// invalidation (with 1 node, the publish alone). TAJIR_WAIT_SAMPLES=FILE appends the raw
// samples with 1 and 2 nodes to FILE ("NODES MICROSECONDS" a line) for bench/nodes_sim.py.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "cache/cache.h"
#include "db/database.h"
#include "db/postgres_test_server.h"
#include "redis/group.h"
#include "redis/test_server.h"
#include "redis/tier.h"

namespace {

using namespace tajir;
using Clock = std::chrono::steady_clock;

struct Summary {
  double p50_us = 0, p99_us = 0, mean_us = 0, max_us = 0;
};

Summary summarize(std::vector<double> us) {
  std::sort(us.begin(), us.end());
  double sum = 0;
  for (double u : us) sum += u;
  auto at = [&](double q) {
    return us[std::min(us.size() - 1, static_cast<size_t>(q * us.size()))];
  };
  return {at(0.50), at(0.99), sum / static_cast<double>(us.size()), us.back()};
}

// Times `n` calls of f one by one (µs each); appends the samples to *samples if given.
template <typename F>
Summary time_each(int n, F f, std::vector<double>* samples = nullptr) {
  std::vector<double> us;
  us.reserve(n);
  for (int i = 0; i < n; ++i) {
    auto t0 = Clock::now();
    f(i);
    us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
  }
  if (samples != nullptr) samples->insert(samples->end(), us.begin(), us.end());
  return summarize(std::move(us));
}

// Times `batches` batches of 1,000 calls (µs per call, one figure per batch): for hops too
// short for a clock read each.
template <typename F>
Summary time_batches(int batches, F f) {
  std::vector<double> us;
  for (int b = 0; b < batches; ++b) {
    auto t0 = Clock::now();
    for (int i = 0; i < 1000; ++i) f(b * 1000 + i);
    us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count() / 1000);
  }
  return summarize(std::move(us));
}

void row(const char* name, int round, const Summary& s) {
  std::printf("%-14s %5d %10.2f %10.2f %10.2f %10.2f\n", name, round, s.p50_us, s.p99_us, s.mean_us,
              s.max_us);
  std::fflush(stdout);
}

[[noreturn]] void die(const std::string& what, const Status& s) {
  std::fprintf(stderr, "tajir_tiers_bench: %s: %s\n", what.c_str(),
               std::string(s.message()).c_str());
  std::exit(1);
}

constexpr int kProducts = 1000;

// A products table like the real one's hot part, filled with kProducts rows.
std::unique_ptr<db::Database> products_db(const std::string& url) {
  auto d = db::open(url);
  if (!d.ok()) die("open " + url, d.status());
  Status s = (*d)->write([](db::Transaction& tx) -> Status {
    if (auto r = tx.execute(
            "CREATE TABLE bench_products (id INTEGER PRIMARY KEY, shop_id INTEGER NOT NULL, "
            "sku TEXT NOT NULL, name TEXT NOT NULL, price BIGINT NOT NULL, stock BIGINT NOT NULL)");
        !r.ok())
      return r.status();
    for (int64_t i = 1; i <= kProducts; ++i)
      if (auto r = tx.execute("INSERT INTO bench_products VALUES (?, 1, ?, ?, ?, ?)",
                              {i, "SKU-" + std::to_string(i), "Product " + std::to_string(i),
                               int64_t{1000} + i, int64_t{50}});
          !r.ok())
        return r.status();
    return OkStatus();
  });
  if (!s.ok()) die("fill " + url, s);
  return std::move(*d);
}

Summary read_rows(db::Database& d, int n) {
  return time_each(n, [&](int i) {
    Status s = d.read([&](db::Transaction& tx) -> Status {
      auto r = tx.query("SELECT id, sku, name, price, stock FROM bench_products WHERE id = ?",
                        {int64_t{1} + i % kProducts});
      return r.ok() ? OkStatus() : r.status();
    });
    if (!s.ok()) die("read", s);
  });
}

// publish_and_wait on node 0 with `nodes` groups on one Redis.
Summary write_waits(const redis::RedisTestServer& server, int nodes, int n,
                    std::vector<double>* samples) {
  std::vector<std::unique_ptr<redis::Group>> groups;
  for (int i = 0; i < nodes; ++i)
    groups.push_back(std::make_unique<redis::Group>(
        redis::GroupOptions{.client = server.fast_client(),
                            .node = "bench-" + std::to_string(i),
                            .lease = std::chrono::milliseconds(2000),
                            .invalidate = [](const std::vector<std::string>&, bool) {},
                            .clear_all = [] { return true; }}));
  for (int i = 0; i < 500; ++i) {  // every node holds its lease and sees the others
    bool all = true;
    for (auto& g : groups) {
      auto st = g->stats();
      all = all && st.serving && st.live_nodes == static_cast<uint64_t>(nodes);
    }
    if (all) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const std::vector<std::string> tags{"shop:1", "product:1:7", "plist:1"};
  // The first writes of a new epoch wait out any older leases (docs/CACHE.md): not timed.
  for (int i = 0; i < 20; ++i) (void)groups[0]->publish_and_wait(tags, false);
  Summary s = time_each(
      n, [&](int) { (void)groups[0]->publish_and_wait(tags, false); }, samples);
  for (auto& g : groups) g->stop();
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  const int rounds = argc > 1 ? std::atoi(argv[1]) : 3;
  const size_t bytes = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 11'000;
  const std::string value(bytes, 'x');

  redis::RedisTestServer redis_server;
  auto pg = db::PostgresTestServer::start();
  if (!pg.ok()) die("PostgreSQL", pg.status());
  auto pg_url = (*pg)->create_database("tiers_bench");
  if (!pg_url.ok()) die("PostgreSQL database", pg_url.status());
  auto dir = std::filesystem::temp_directory_path() / ("tajir-tiers-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  auto sqlite = products_db("sqlite:" + (dir / "bench.db").string());
  auto postgres = products_db(*pg_url);

  cache::Cache local(cache::Options{.memory_limit_bytes = 256 << 20});
  const std::vector<std::string> tags{"type:products", "shop:1", "product:1:7", "plist:1"};
  constexpr int kKeys = 100;
  std::vector<std::string> keys;
  for (int i = 0; i < kKeys; ++i) keys.push_back("1|products|/api/products/" + std::to_string(i));
  for (auto& k : keys) local.put(k, value, {.tags = tags});

  redis::Tier tier(
      {.client = redis_server.fast_client(), .sample_interval = std::chrono::milliseconds(0)});
  for (auto& k : keys) {
    redis::Lookup l = tier.get(1, k);
    if (!l.ticket) die("redis tier", Internal("no ticket"));
    tier.put(*l.ticket, k,
             {.body = value,
              .tags = &tags,
              .shop_tags = {"shop:1", "product:1:7", "plist:1"},
              .ttl = std::chrono::minutes(10)});
  }
  redis::Client plain(redis_server.fast_client());
  for (auto& k : keys)
    if (!plain.command({"SET", "plain:" + k, value}).ok()) die("SET", Internal("redis"));

  // A node's local hit as ReadCache makes it with other nodes: the lease checked before and
  // after (redis::Group::enter() and still()). Its Redis is its own, so that its lease is not
  // among those the write waits below wait for.
  redis::RedisTestServer lease_server;
  redis::Group leased(
      redis::GroupOptions{.client = lease_server.fast_client(),
                          .node = "bench-leased",
                          .lease = std::chrono::milliseconds(2000),
                          .invalidate = [](const std::vector<std::string>&, bool) {},
                          .clear_all = [] { return true; }});
  std::printf("value %zu bytes, %d keys; redis-server on 127.0.0.1:%u, PostgreSQL %s\n", bytes,
              kKeys, redis_server.port(), pg_url->c_str());
  std::printf("%-14s %5s %10s %10s %10s %10s\n", "hop", "round", "p50 us", "p99 us", "mean us",
              "max us");
  std::vector<double> wait_samples[2];
  for (int r = 1; r <= rounds; ++r) {
    row("local hit", r, time_batches(200, [&](int i) {
          if (!local.get(keys[i % kKeys])) die("local", Internal("miss"));
        }));
    row("leased hit", r, time_batches(200, [&](int i) {
          const redis::Group::Pass pass = leased.enter();
          if (!pass.open() || !local.get(keys[i % kKeys]) || !leased.still(pass))
            die("leased", Internal("miss, or the lease does not hold"));
        }));
    row("redis hit", r, time_each(5000, [&](int i) {
          if (!tier.get(1, keys[i % kKeys]).found) die("redis tier", Internal("miss"));
        }));
    row("redis GET", r, time_each(5000, [&](int i) {
          auto g = plain.command({"GET", "plain:" + keys[i % kKeys]});
          if (!g.ok() || g->str.size() != bytes) die("GET", Internal("miss"));
        }));
    row("sqlite row", r, read_rows(*sqlite, 5000));
    row("postgres row", r, read_rows(*postgres, 5000));
    for (int nodes = 1; nodes <= 3; ++nodes) {
      const std::string name = "write wait " + std::to_string(nodes);
      row(name.c_str(), r,
          write_waits(redis_server, nodes, 1000, nodes <= 2 ? &wait_samples[nodes - 1] : nullptr));
    }
  }
  // The samples of 1 and 2 nodes, for bench/nodes_sim.py: the publish alone, and the publish
  // with one other node's acknowledgement.
  if (const char* path = std::getenv("TAJIR_WAIT_SAMPLES")) {
    if (FILE* f = std::fopen(path, "a")) {
      for (int k = 0; k < 2; ++k)
        for (double us : wait_samples[k]) std::fprintf(f, "%d %.1f\n", k + 1, us);
      std::fclose(f);
    }
  }
  std::filesystem::remove_all(dir);
  return 0;
}
