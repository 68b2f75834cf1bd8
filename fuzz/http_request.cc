// The HTTP request path from raw bytes, without sockets: Beast parses the bytes as the Server
// does (its limits), http::internal::answer() builds the http::Request and routes it exactly as
// the Server would, through the whole Api (auth, roles, bodies, queries, the cache, the POS
// layer) over SQLite with the cache on. Nothing may crash, and every answer has a status in
// 200..599; a 4xx or 5xx carries the JSON error body of http/errors.h; a JSON success body is
// valid JSON.
//
// The bytes may name a token by placeholder, which is replaced before parsing: @OWNER@ (the
// shop's owner), @CASHIER@ (its cashier), @ADMIN@ (the operator), so the fuzzer reaches the
// routes behind authentication. State carries over from one input to the next (what one input
// creates, the next may read), as on a real server.
#include <spdlog/logger.h>
#include <spdlog/spdlog.h>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "api/api.h"
#include "db/database.h"
#include "fuzz/fuzz.h"
#include "http/internal/answer.h"
#include "http/router.h"
#include "pos/pos.h"

using namespace tajir;
namespace bhttp = boost::beast::http;

namespace {

constexpr const char* kAdminToken = "operator-token-for-fuzzing-0123456789";

struct World {
  std::unique_ptr<db::Database> db;
  std::unique_ptr<pos::Pos> pos;
  std::unique_ptr<cache::Cache> cache;
  std::unique_ptr<api::Api> api;
  http::Router router;
  std::shared_ptr<spdlog::logger> logger = std::make_shared<spdlog::logger>("fuzz");  // no sinks
  std::string owner, cashier;
};

World& world() {
  static World* w = [] {
    spdlog::set_level(spdlog::level::off);
    auto* w = new World;
    const char* shm = std::filesystem::exists("/dev/shm") ? "/dev/shm" : "/tmp";
    std::string path = std::string(shm) + "/tajir-fuzz-" + std::to_string(::getpid()) + ".db";
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
    auto db = db::open("sqlite:" + path, {.pool_size = 2, .sqlite_synchronous_full = false});
    FUZZ_CHECK(db.ok(), "open %s: %s", path.c_str(), db.status().message().c_str());
    w->db = std::move(*db);
    FUZZ_CHECK(db::migrate(*w->db).ok(), "migrate");
    w->pos = std::make_unique<pos::Pos>(
        *w->db, pos::PosOptions{.pwhash_opslimit = 1, .pwhash_memlimit = 8192});
    auto owner = w->pos->register_shop("Fuzz Shop", "owner", "owner-password");
    FUZZ_CHECK(owner.ok(), "register");
    w->owner = owner->token;
    pos::Principal p{owner->user.id, owner->user.shop_id, pos::Role::kOwner, "owner", 0};
    FUZZ_CHECK(w->pos
                   ->create_employee(
                       p, {.name = "Cara", .username = "cashier", .password = "cashier-password"})
                   .ok(),
               "employee");
    auto cashier = w->pos->login("cashier", "cashier-password");
    FUZZ_CHECK(cashier.ok(), "cashier login");
    w->cashier = cashier->token;
    for (int i = 1; i <= 3; ++i) {
      pos::ProductInput in{.name = "Tea " + std::to_string(i), .sku = "T" + std::to_string(i)};
      in.price = 100 * i;
      in.stock = 1000;
      FUZZ_CHECK(w->pos->create_product(p, in).ok(), "product");
    }
    w->cache = std::make_unique<cache::Cache>(cache::Options{.memory_limit_bytes = 16 << 20});
    w->api = std::make_unique<api::Api>(*w->pos, api::ApiOptions{.admin_token = kAdminToken,
                                                                 .cache = w->cache.get(),
                                                                 .warm_on_login = false,
                                                                 .refill = false});
    w->api->register_routes(w->router);
    return w;
  }();
  return *w;
}

void replace_all(std::string& s, std::string_view from, const std::string& to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
    s.replace(at, from.size(), to);
}

void check_answer(const http::Response& r) {
  FUZZ_CHECK(r.status >= 200 && r.status <= 599, "status %d", r.status);
  // A 500 is a bug (docs/API.md): a handler threw, or a Status of kInternal came back.
  FUZZ_CHECK(r.status != 500, "500: %s", std::string(r.body_view()).c_str());
  std::string_view type = r.header("Content-Type").value_or("application/json");
  bool json_body = type.starts_with("application/json");
  if (r.status >= 400) {
    FUZZ_CHECK(json_body, "a %d is JSON, not %s", r.status, std::string(type).c_str());
    auto j = nlohmann::json::parse(r.body_view(), nullptr, false);
    FUZZ_CHECK(j.is_object() && j.size() == 1 && j.contains("error"), "a %d's body: %s", r.status,
               std::string(r.body_view()).c_str());
    const auto& e = j["error"];
    FUZZ_CHECK(e.is_object() && e.contains("code") && e["code"].is_string() &&
                   e.contains("message") && e["message"].is_string() &&
                   !e["message"].get<std::string>().empty() &&
                   (!e.contains("field") || e["field"].is_string()),
               "a %d's error: %s", r.status, std::string(r.body_view()).c_str());
  } else if (json_body && r.body_size() > 0) {
    FUZZ_CHECK(nlohmann::json::accept(r.body_view()), "a %d's JSON body: %s", r.status,
               std::string(r.body_view()).c_str());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  World& w = world();
  std::string bytes(reinterpret_cast<const char*>(data), size);
  replace_all(bytes, "@OWNER@", w.owner);
  replace_all(bytes, "@CASHIER@", w.cashier);
  replace_all(bytes, "@ADMIN@", kAdminToken);

  // As the Server reads a request (http/server.cc): its limits, then the whole message.
  bhttp::request_parser<bhttp::string_body> parser;
  parser.body_limit(1 << 20);
  parser.header_limit(16 << 10);
  parser.eager(true);
  boost::system::error_code ec;
  size_t used = 0;
  while (used < bytes.size() && !parser.is_done()) {
    size_t n = parser.put(boost::asio::buffer(bytes.data() + used, bytes.size() - used), ec);
    used += n;
    if (ec == bhttp::error::need_more && n > 0) {
      ec = {};
      continue;
    }
    if (ec) return 0;  // the Server waits for more bytes, or answers 400/413/431 itself
  }
  if (!parser.is_done()) return 0;
  bhttp::request<bhttp::string_body> msg = parser.release();
  http::Response r = http::internal::answer(w.router, msg, "fuzz", "127.0.0.1", *w.logger);
  check_answer(r);
  return 0;
}
