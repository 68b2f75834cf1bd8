#include "api/api.h"

#include <sodium.h>
#include <xxhash.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <functional>
#include <unordered_map>

#include "api/input.h"
#include "api/query.h"
#include "api/reply.h"
#include "api/serialize.h"
#include "http/errors.h"

namespace tajir::api {
namespace {

using http::Method;
using http::Request;
using http::Response;
using nlohmann::json;
using pos::Principal;
using pos::Role;

// Who may call a route.
enum Allow : unsigned {
  kOwner = 1,
  kCashier = 2,
  kOperator = 4,
  kManagers = kOwner | kOperator,
  kEveryone = kOwner | kCashier | kOperator,
};

unsigned bit(Role r) {
  switch (r) {
    case Role::kOwner: return kOwner;
    case Role::kCashier: return kCashier;
    case Role::kOperator: return kOperator;
  }
  return 0;
}


// A one-object read: its JSON and the tags CacheMap gives it.
template <typename T>
Result<Filled> filled(const Result<T>& r, std::vector<std::string> tags) {
  if (!r.ok()) return r.status();
  return Filled{dump(to_json(*r)), std::move(tags), std::nullopt};
}

using api::reply;  // the JSON overload, beside this one for results

template <typename T>
Response reply(int status, const Result<T>& r) {
  if (!r.ok()) return http::from_status(r.status());
  return reply(status, to_json(*r));
}

Response reply_empty(const Status& st) {
  return st.ok() ? Response::empty(204) : http::from_status(st);
}

pos::PageRequest page_of(Query& q) {
  return pos::PageRequest{q.integer("page", 1, 1'000'000, 1), q.integer("per_page", 1, 200, 50)};
}

Result<int64_t> id_of(const Request& req) { return parse_id(req.param("id")); }

// --- request bodies -------------------------------------------------------------------------

Result<pos::ProductInput> product_input(const Request& req) {
  auto in = Input::parse(req.body);
  if (!in.ok()) return in.status();
  pos::ProductInput p;
  p.name = in->text("name", 200, Text::kName);
  p.sku = in->text("sku", 64);
  p.barcode = in->nullable_text("barcode", 64);
  p.category = in->nullable_text("category", 100);
  p.price = in->integer("price", 0, kMaxMoney);
  p.cost = in->integer("cost", 0, kMaxMoney);
  p.stock = in->integer("stock", 0, 1'000'000'000);
  p.low_stock_threshold = in->integer("low_stock_threshold", 0, 1'000'000'000);
  p.active = in->boolean("active");
  if (!in->status().ok()) return in->status();
  return p;
}

Result<pos::CustomerInput> customer_input(const Request& req) {
  auto in = Input::parse(req.body);
  if (!in.ok()) return in.status();
  pos::CustomerInput c;
  c.name = in->text("name", 200, Text::kName);
  c.phone = in->nullable_text("phone", 50);
  c.email = in->nullable_text("email", 200);
  c.address = in->nullable_text("address", 500, Text::kLines);
  c.notes = in->nullable_text("notes", 2000, Text::kLines);
  if (!in->status().ok()) return in->status();
  return c;
}

Result<pos::EmployeeInput> employee_input(const Request& req) {
  auto in = Input::parse(req.body);
  if (!in.ok()) return in.status();
  pos::EmployeeInput e;
  e.name = in->text("name", 200, Text::kName);
  e.phone = in->nullable_text("phone", 50);
  e.position = in->nullable_text("position", 100);
  e.username = in->text("username", 64);
  e.password = in->text("password", 256, Text::kSecret);
  e.active = in->boolean("active");
  if (!in->status().ok()) return in->status();
  return e;
}

Result<pos::BillInput> bill_input(const Request& req) {
  auto in = Input::parse(req.body);
  if (!in.ok()) return in.status();
  pos::BillInput b;
  const json* items = in->member("items");
  if (items == nullptr) return InvalidArgument("items is required", "items");
  if (!items->is_array()) return InvalidArgument("items must be an array", "items");
  for (size_t i = 0; i < items->size(); ++i) {
    const json& item = (*items)[i];
    const std::string at = "items[" + std::to_string(i) + "]";
    if (!item.is_object()) return InvalidArgument(at + " must be an object", at);
    pos::BillInput::Item parsed;
    for (const char* name : {"product_id", "quantity"}) {
      auto it = item.find(name);
      if (it == item.end()) return InvalidArgument(at + "." + name + " is required", at + "." + name);
      auto n = integer_value(*it, at + "." + name, 1, INT64_MAX);
      if (!n.ok()) return n.status();
      (std::string_view(name) == "product_id" ? parsed.product_id : parsed.quantity) = *n;
    }
    if (auto it = item.find("unit_price"); it != item.end() && !it->is_null()) {
      auto n = integer_value(*it, at + ".unit_price", 0, kMaxMoney);
      if (!n.ok()) return n.status();
      parsed.unit_price = *n;
    }
    b.items.push_back(parsed);
  }
  for (auto [name, target] : {std::pair{"customer_id", &b.customer_id}, std::pair{"employee_id", &b.employee_id}}) {
    const json* v = in->member(name);
    if (v != nullptr && !v->is_null()) {
      auto n = integer_value(*v, name, 1, INT64_MAX);
      if (!n.ok()) return n.status();
      *target = *n;
    }
  }
  // Optional fields may also be sent as null, meaning absent.
  auto present = [&](const char* name) {
    const json* v = in->member(name);
    return v != nullptr && !v->is_null();
  };
  if (present("discount")) b.discount = in->integer("discount", 0, kMaxMoney).value_or(0);
  if (present("tax_rate_bp")) b.tax_rate_bp = in->integer("tax_rate_bp", 0, 10000).value_or(0);
  auto method = in->text("payment_method", 20);
  b.notes = in->nullable_text("notes", 2000, Text::kLines).value_or(std::nullopt);
  if (!in->status().ok()) return in->status();
  if (!method) return InvalidArgument("payment_method is required", "payment_method");
  b.payment_method = *method;
  return b;
}

}  // namespace


// The caller's principal: a user's session (cached, so that a hit touches no database), or the
// operator acting on a named shop.
Result<Principal> Api::principal(const Request& req) {
  auto bearer = http::bearer_token(req.header("Authorization"));
  if (!bearer) return Status(StatusCode::kUnauthenticated, "missing bearer token");
  std::string_view token = *bearer;
  auto is = [token](const std::string& secret) {
    return !secret.empty() && token.size() == secret.size() &&
           sodium_memcmp(token.data(), secret.data(), secret.size()) == 0;
  };
  if (is(options_.admin_token) || is(internal_token_)) {
    auto shop = req.query("shop_id");
    if (!shop) shop = req.header("X-Shop-Id");
    if (!shop) return InvalidArgument("the operator names a shop with ?shop_id=", "shop_id");
    auto id = parse_id(*shop, "shop_id");
    if (!id.ok()) return id.status();
    auto exists = pos_->shop_exists(*id);
    if (!exists.ok()) return exists.status();
    if (!*exists) return NotFound("shop not found");
    return Principal{0, *id, Role::kOperator, "operator", 0};
  }
  cache::Cache* c = options_.cache;
  if (c == nullptr || token.size() != 64) return pos_->authenticate(token);
  // The key holds a hash of the token, never the token.
  XXH128_hash_t h = XXH3_128bits(token.data(), token.size());
  char key[48];
  std::snprintf(key, sizeof key, "session|%016llx%016llx", static_cast<unsigned long long>(h.high64),
                static_cast<unsigned long long>(h.low64));
  std::optional<Principal> fresh;
  auto hit = c->get_or_fill(key, [&]() -> Result<cache::Loaded> {
    auto p = pos_->authenticate(token);
    if (!p.ok()) return p.status();  // not cached: a bad token is looked up every time
    fresh = *p;
    auto ttl = std::chrono::milliseconds(std::clamp<int64_t>(p->expires_at - pos::now_ms(), 1, 600'000));
    return cache::Loaded{std::to_string(p->user_id) + "," + std::to_string(p->shop_id) + "," +
                             pos::role_name(p->role) + "," + std::to_string(p->expires_at) + "," + p->username,
                         reads_.map().session(p->shop_id, p->user_id), ttl};
  }, {.type = reads_.type_id("sessions")});
  if (!hit.ok()) return hit.status();
  if (fresh) return *fresh;
  Principal p;
  char role[16] = {0};
  long long uid = 0, sid = 0, exp = 0;
  int used = 0;
  if (std::sscanf(hit->value->c_str(), "%lld,%lld,%15[a-z],%lld,%n", &uid, &sid, role, &exp, &used) < 4) {
    return Internal("corrupt cached session");
  }
  p.user_id = uid;
  p.shop_id = sid;
  p.role = std::string_view(role) == "owner" ? Role::kOwner : Role::kCashier;
  p.expires_at = exp;
  p.username = hit->value->substr(static_cast<size_t>(used));
  if (p.expires_at <= pos::now_ms()) return Status(StatusCode::kUnauthenticated, "invalid or expired token");
  return p;
}

namespace {

// How a list page is made from entries of two kinds (ARCHITECTURE.md): its index (its total and
// ids, which only membership and the filters' fields move, so a sale leaves it) and each item's
// JSON (the entry its detail GET serves, dropped by what changes that item). After a sale a page
// is rebuilt from the cache, loading only the items sold, if a refill has not already.
template <typename T>
struct PageRecipe {
  std::string index_key;
  std::vector<std::string> index_tags;
  std::function<Result<pos::Page<T>>()> list;                                       // the page, from the database
  std::function<Result<std::vector<T>>(const std::vector<int64_t>&)> by_ids;        // items, from the database
  std::function<std::string(int64_t)> item_key;
  std::function<std::vector<std::string>(int64_t)> item_tags;
  std::function<std::vector<std::string>(const std::vector<int64_t>&)> page_tags;  // of the ids shown
};

// The page's bytes, exactly what dump(to_json(page)) makes, and its tags.
template <typename T>
Result<Filled> assemble_page(cache::Cache* c, cache::TypeId type, const pos::PageRequest& page,
                             const PageRecipe<T>& r) {
  auto store = [&](const T& x, const cache::Ticket& ticket) {
    std::string body = dump(to_json(x));
    c->put(r.item_key(x.id), body, {.tags = r.item_tags(x.id), .type = type}, &ticket);
    return body;
  };
  std::unordered_map<int64_t, std::string> loaded_here;  // by the index's load, if it ran here
  auto index = c->get_or_fill(r.index_key, [&]() -> Result<cache::Loaded> {
    cache::Ticket ticket = c->ticket();  // before the read, for the item entries it stores
    auto listed = r.list();
    if (!listed.ok()) return listed.status();
    std::string ids = std::to_string(listed->total);
    for (const auto& x : listed->items) {
      loaded_here[x.id] = store(x, ticket);
      ids += "," + std::to_string(x.id);
    }
    return cache::Loaded{std::move(ids), r.index_tags, std::nullopt};
  }, {.type = type});
  if (!index.ok()) return index.status();
  // "total,id,id,..."
  std::vector<int64_t> ids;
  int64_t total = 0;
  std::string_view v = *index->value;
  for (size_t at = 0; at <= v.size();) {
    size_t comma = std::min(v.find(',', at), v.size());
    int64_t n = 0;
    std::from_chars(v.data() + at, v.data() + comma, n);
    if (at == 0) total = n;
    else ids.push_back(n);
    at = comma + 1;
  }
  std::vector<std::string> items(ids.size());
  std::vector<int64_t> missing;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (auto it = loaded_here.find(ids[i]); it != loaded_here.end()) items[i] = std::move(it->second);
    else if (auto got = c->get(r.item_key(ids[i]), type)) items[i] = **got;
    else missing.push_back(ids[i]);
  }
  if (!missing.empty()) {
    cache::Ticket ticket = c->ticket();
    auto loaded = r.by_ids(missing);
    if (!loaded.ok()) return loaded.status();
    for (const auto& x : *loaded) {
      items[static_cast<size_t>(std::find(ids.begin(), ids.end(), x.id) - ids.begin())] = store(x, ticket);
    }
  }
  std::string body = "{\"items\":[";
  std::vector<int64_t> shown;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (items[i].empty()) continue;  // deleted while this page was read
    if (!shown.empty()) body += ',';
    body += items[i];
    shown.push_back(ids[i]);
  }
  body += "],\"page\":" + std::to_string(page.page) + ",\"per_page\":" + std::to_string(page.per_page) +
          ",\"total\":" + std::to_string(total) + "}";
  return Filled{std::move(body), r.page_tags(shown), std::nullopt};
}

// A page read whole from the database (no cache to build it from), with the tags of its items.
template <typename T, typename Tags>
Result<Filled> whole_page(const Result<pos::Page<T>>& r, Tags tags) {
  if (!r.ok()) return r.status();
  std::vector<int64_t> ids;
  for (const auto& x : r->items) ids.push_back(x.id);
  return Filled{dump(to_json(*r)), tags(ids), std::nullopt};
}

// A page index's key: the shop and type as every read's, and no request's path (so read_of()
// finds nothing to send again: a page's refill rebuilds its index if need be).
std::string index_key(int64_t shop, std::string_view type, const pos::PageRequest& page) {
  return ReadCache::key(shop, type, "index?page=" + std::to_string(page.page) +
                                        "&per_page=" + std::to_string(page.per_page));
}

}  // namespace

Filler Api::product_page(const Principal& p, pos::ProductFilter f, pos::PageRequest page) {
  return [this, p, f = std::move(f), page]() -> Result<Filled> {
    const pos::CacheMap& map = reads_.map();
    if (options_.cache == nullptr) {
      return whole_page(pos_->list_products(p, f, page), [&](const auto& ids) { return map.product_page(p.shop_id, f, ids); });
    }
    std::string key = index_key(p.shop_id, "products", page);
    if (f.q) key += "&q=" + http::percent_encode(*f.q);
    if (f.category) key += "&category=" + http::percent_encode(*f.category);
    if (f.low_stock) key += "&low_stock=true";
    if (f.active) key += *f.active ? "&active=true" : "&active=false";
    return assemble_page<pos::Product>(
        options_.cache, reads_.type_id("products"), page,
        {.index_key = std::move(key),
         .index_tags = map.product_index(p.shop_id, f),
         .list = [&] { return pos_->list_products(p, f, page); },
         .by_ids = [&](const std::vector<int64_t>& ids) { return pos_->products_by_ids(p, ids); },
         .item_key = [&](int64_t id) { return ReadCache::key(p.shop_id, "products", "/api/products/" + std::to_string(id)); },
         .item_tags = [&](int64_t id) { return map.product(p.shop_id, id); },
         .page_tags = [&](const std::vector<int64_t>& ids) { return map.product_page(p.shop_id, f, ids); }});
  };
}

Filler Api::customer_page(const Principal& p, std::optional<std::string> q, pos::PageRequest page) {
  return [this, p, q = std::move(q), page]() -> Result<Filled> {
    const pos::CacheMap& map = reads_.map();
    if (options_.cache == nullptr) {
      return whole_page(pos_->list_customers(p, q, page),
                        [&](const auto& ids) { return map.customer_page(p.shop_id, q.has_value(), ids); });
    }
    std::string key = index_key(p.shop_id, "customers", page);
    if (q) key += "&q=" + http::percent_encode(*q);
    return assemble_page<pos::Customer>(
        options_.cache, reads_.type_id("customers"), page,
        {.index_key = std::move(key),
         .index_tags = map.customer_index(p.shop_id, q.has_value()),
         .list = [&] { return pos_->list_customers(p, q, page); },
         .by_ids = [&](const std::vector<int64_t>& ids) { return pos_->customers_by_ids(p, ids); },
         .item_key = [&](int64_t id) { return ReadCache::key(p.shop_id, "customers", "/api/customers/" + std::to_string(id)); },
         .item_tags = [&](int64_t id) { return map.customer(p.shop_id, id); },
         .page_tags = [&](const std::vector<int64_t>& ids) { return map.customer_page(p.shop_id, q.has_value(), ids); }});
  };
}

Filler Api::dashboard(const Principal& p) {
  return [this, p]() -> Result<Filled> {
    auto d = pos_->dashboard(p);
    if (!d.ok()) return d.status();
    std::vector<int64_t> low;
    for (const auto& x : d->low_stock) low.push_back(x.id);
    // A cached dashboard ends at the shop's midnight: it never shows yesterday's "today".
    auto ttl = std::chrono::milliseconds(std::max<int64_t>(1, d->valid_until - pos::now_ms()));
    return Filled{dump(to_json(*d)), reads_.map().dashboard(p.shop_id, low), ttl};
  };
}

Api::Api(pos::Pos& pos, ApiOptions options)
    : pos_(&pos), options_(std::move(options)), reads_(options_.cache, pos::CacheMap(options_.invalidation)) {
  if (options_.cache == nullptr) return;
  unsigned char secret[32];
  randombytes_buf(secret, sizeof secret);
  internal_token_.resize(2 * sizeof secret + 1);
  sodium_bin2hex(internal_token_.data(), internal_token_.size(), secret, sizeof secret);
  internal_token_.pop_back();  // the NUL bin2hex writes
  if (options_.warm_on_login) {
    login_warmer_ = std::make_unique<BackgroundWarmer<int64_t>>(
        [this](int64_t shop) { warm({shop}, {"products", "dashboard", "customers"}); }, std::chrono::minutes(1));
  }
  if (options_.refill) {
    refiller_ = std::make_unique<BackgroundWarmer<std::string>>([this](const std::string& key) { replay(key); },
                                                                std::chrono::milliseconds(0), kMaxPendingRefills);
  }
}

Api::~Api() {
  // The background threads use the router and the cache: stop them first.
  refiller_.reset();
  login_warmer_.reset();
}

void Api::invalidate(const std::vector<std::string>& tags) {
  if (!refiller_) {
    reads_.invalidate(tags);
    return;
  }
  std::vector<cache::DroppedKey> dropped;
  reads_.invalidate(tags, cache::InvalidationCause::kWrite, &dropped);
  // An entry read since it was stored is loaded again, and keeps being loaded again after the
  // next kRefillCredit writes even if none reads it meanwhile: a page that writes change faster
  // than tills read it would otherwise go cold after one refill. Unread for that long, it stops.
  std::lock_guard lock(credits_mu_);
  if (credits_.size() > kMaxPendingRefills * 16) credits_.clear();  // keys evicted meanwhile
  for (auto& d : dropped) {
    auto it = credits_.find(d.key);
    if (d.read) {
      if (it == credits_.end()) it = credits_.emplace(d.key, 0).first;
      it->second = kRefillCredit;
    } else if (it == credits_.end()) {
      continue;
    } else if (--it->second <= 0) {
      credits_.erase(it);
      continue;
    }
    refiller_->request(d.key);
  }
}

// The GET that filled a key (ReadCache::read_of), sent again through the router as the shop's
// operator, loads it again (with a ticket, like any fill).
void Api::replay(const std::string& key) {
  auto read = ReadCache::read_of(key);
  if (!read || router_ == nullptr) return;  // not a request's read (sessions, page indexes)
  Request req;
  req.method = Method::kGet;
  if (!req.set_target(read->target).ok()) return;
  req.headers = {{"Authorization", "Bearer " + internal_token_}, {"X-Shop-Id", std::move(read->shop)}};
  (void)router_->route(req);
}

RefillStats Api::refill_stats() const {
  if (!refiller_) return {};
  return {refiller_->completed(), refiller_->dropped()};
}

std::vector<std::pair<http::Method, std::string>> Api::routes() {
  Api api(ApiOptions{});
  http::Router router;
  api.register_routes(router);
  return router.routes();
}

void Api::register_routes(http::Router& router) {
  router_ = &router;
  auto principal = [this](const Request& req) { return this->principal(req); };
  auto guarded = [this, principal](unsigned allow, auto handler) -> http::Handler {
    return [this, principal, allow, handler](Request& req) -> Response {
      uint64_t statements = db::thread_statements();
      auto p = principal(req);
      if (!p.ok()) return http::from_status(p.status());
      if ((allow & bit(p->role)) == 0) {
        return http::from_status({StatusCode::kPermissionDenied, "your role may not do this"});
      }
      Response r = handler(req, *p);
      // What the request cost the database, for load generators, when asked for: "0" on a hit.
      if (options_.db_statements_header) {
        r.headers.emplace_back("X-DB-Statements",
                               std::to_string(db::thread_statements() - statements));
      }
      return r;
    };
  };
  // Handlers that take an id from the path.
  auto with_id = [](auto handler) {
    return [handler](Request& req, const Principal& p) -> Response {
      auto id = id_of(req);
      if (!id.ok()) return http::from_status(id.status());
      return handler(req, p, *id);
    };
  };

  // --- operations ---
  router.add(Method::kGet, "/healthz", [this](Request&) {
    Status db = pos_->database().ping();
    json body{{"status", db.ok() ? "ok" : "degraded"}, {"db", db.ok() ? "ok" : "down"},
              {"redis", "disabled"}};
    return reply(db.ok() ? 200 : 503, body);
  });

  // --- auth ---
  router.add(Method::kPost, "/api/auth/register", [this](Request& req) {
    auto in = Input::parse(req.body);
    if (!in.ok()) return http::from_status(in.status());
    auto shop = in->text("shop_name", 200, Text::kName), user = in->text("username", 64),
         pass = in->text("password", 256, Text::kSecret);
    if (!in->status().ok()) return http::from_status(in->status());
    for (auto [v, name] : {std::pair{&shop, "shop_name"}, std::pair{&user, "username"}, std::pair{&pass, "password"}}) {
      if (!*v) return http::from_status(InvalidArgument(std::string(name) + " is required", name));
    }
    return reply(201, pos_->register_shop(*shop, *user, *pass));
  });
  router.add(Method::kPost, "/api/auth/login", [this](Request& req) {
    auto in = Input::parse(req.body);
    if (!in.ok()) return http::from_status(in.status());
    auto user = in->text("username", 64), pass = in->text("password", 256, Text::kSecret);
    if (!in->status().ok()) return http::from_status(in->status());
    if (!user) return http::from_status(InvalidArgument("username is required", "username"));
    if (!pass) return http::from_status(InvalidArgument("password is required", "password"));
    auto r = pos_->login(*user, *pass);
    if (r.ok() && login_warmer_) login_warmer_->request(r->user.shop_id);
    return reply(200, r);
  });
  router.add(Method::kPost, "/api/auth/logout", guarded(kOwner | kCashier, [this](Request& req, const Principal& p) {
    Status st = pos_->logout(*http::bearer_token(req.header("Authorization")));
    if (st.ok()) reads_.invalidate(reads_.map().user_sessions_ended(p.user_id));
    return reply_empty(st);
  }));

  // --- shop ---
  router.add(Method::kGet, "/api/shop", guarded(kEveryone, [this](Request& req, const Principal& p) {
    return reads_.serve(Query(req), p.shop_id, "shop", [&] { return filled(pos_->shop(p), reads_.map().shop(p.shop_id)); });
  }));
  router.add(Method::kPut, "/api/shop", guarded(kManagers, [this](Request& req, const Principal& p) {
    auto in = Input::parse(req.body);
    if (!in.ok()) return http::from_status(in.status());
    pos::ShopInput s{in->text("name", 200, Text::kName), in->text("currency", 3), in->text("timezone", 64)};
    if (!in->status().ok()) return http::from_status(in->status());
    auto r = pos_->update_shop(p, s);
    if (r.ok()) invalidate(reads_.map().shop_written(p.shop_id));
    return reply(200, r);
  }));

  // --- products ---
  router.add(Method::kGet, "/api/products", guarded(kEveryone, [this](Request& req, const Principal& p) {
    Query q(req);
    pos::PageRequest page = page_of(q);
    pos::ProductFilter f{q.text("q"), q.text("category"), q.boolean("low_stock").value_or(false),
                         q.boolean("active")};
    if (!q.status().ok()) return http::from_status(q.status());
    return reads_.serve(q, p.shop_id, "products", product_page(p, f, page));
  }));
  router.add(Method::kPost, "/api/products", guarded(kManagers, [this](Request& req, const Principal& p) {
    auto in = product_input(req);
    if (!in.ok()) return http::from_status(in.status());
    auto r = pos_->create_product(p, *in);
    if (r.ok()) invalidate(reads_.map().product_written(p.shop_id, nullptr, &*r));
    return reply(201, r);
  }));
  router.add(Method::kGet, "/api/products/{id}", guarded(kEveryone, with_id([this](Request& req, const Principal& p, int64_t id) {
    return reads_.serve(Query(req), p.shop_id, "products", [&] { return filled(pos_->product(p, id), reads_.map().product(p.shop_id, id)); });
  })));
  router.add(Method::kPut, "/api/products/{id}", guarded(kManagers, with_id([this](Request& req, const Principal& p, int64_t id) {
    auto in = product_input(req);
    if (!in.ok()) return http::from_status(in.status());
    auto before = pos_->product(p, id);
    auto r = pos_->update_product(p, id, *in);
    if (r.ok()) invalidate(reads_.map().product_written(p.shop_id, before.ok() ? &*before : nullptr, &*r));
    return reply(200, r);
  })));
  router.add(Method::kDelete, "/api/products/{id}", guarded(kManagers, with_id([this](Request&, const Principal& p, int64_t id) {
    auto before = pos_->product(p, id);
    auto r = pos_->delete_product(p, id);
    if (r.ok() && before.ok()) {
      pos::Product after = *before;
      after.active = false;  // deactivated when it is on bills
      invalidate(reads_.map().product_written(p.shop_id, &*before, *r ? nullptr : &after));
    }
    return reply_empty(r.ok() ? OkStatus() : r.status());
  })));

  // --- customers ---
  router.add(Method::kGet, "/api/customers", guarded(kEveryone, [this](Request& req, const Principal& p) {
    Query q(req);
    pos::PageRequest page = page_of(q);
    auto text = q.text("q");
    if (!q.status().ok()) return http::from_status(q.status());
    return reads_.serve(q, p.shop_id, "customers", customer_page(p, std::move(text), page));
  }));
  router.add(Method::kPost, "/api/customers", guarded(kEveryone, [this](Request& req, const Principal& p) {
    auto in = customer_input(req);
    if (!in.ok()) return http::from_status(in.status());
    auto r = pos_->create_customer(p, *in);
    if (r.ok()) invalidate(reads_.map().customer_written(p.shop_id, r->id, true, true));
    return reply(201, r);
  }));
  router.add(Method::kGet, "/api/customers/{id}", guarded(kEveryone, with_id([this](Request& req, const Principal& p, int64_t id) {
    return reads_.serve(Query(req), p.shop_id, "customers", [&] { return filled(pos_->customer(p, id), reads_.map().customer(p.shop_id, id)); });
  })));
  router.add(Method::kPut, "/api/customers/{id}", guarded(kManagers, with_id([this](Request& req, const Principal& p, int64_t id) {
    auto in = customer_input(req);
    if (!in.ok()) return http::from_status(in.status());
    auto r = pos_->update_customer(p, id, *in);
    if (r.ok()) {
      bool searchable = in->name.has_value() || in->phone.has_value() || in->email.has_value();
      invalidate(reads_.map().customer_written(p.shop_id, id, false, searchable));
    }
    return reply(200, r);
  })));
  router.add(Method::kDelete, "/api/customers/{id}", guarded(kManagers, with_id([this](Request&, const Principal& p, int64_t id) {
    Status st = pos_->delete_customer(p, id);
    if (st.ok()) invalidate(reads_.map().customer_written(p.shop_id, id, true, true));
    return reply_empty(st);
  })));

  // --- employees (owner and operator only) ---
  router.add(Method::kGet, "/api/employees", guarded(kManagers, [this](Request& req, const Principal& p) {
    Query q(req);
    pos::PageRequest page = page_of(q);
    if (!q.status().ok()) return http::from_status(q.status());
    return reads_.serve(q, p.shop_id, "employees", [&]() -> Result<Filled> {
      auto r = pos_->list_employees(p, page);
      if (!r.ok()) return r.status();
      std::vector<int64_t> ids;
      for (const auto& e : r->items) ids.push_back(e.id);
      return Filled{dump(to_json(*r)), reads_.map().employee_page(p.shop_id, ids), std::nullopt};
    });
  }));
  router.add(Method::kPost, "/api/employees", guarded(kManagers, [this](Request& req, const Principal& p) {
    auto in = employee_input(req);
    if (!in.ok()) return http::from_status(in.status());
    auto r = pos_->create_employee(p, *in);
    if (r.ok()) invalidate(reads_.map().employee_written(p.shop_id, r->id, true, false));
    return reply(201, r);
  }));
  router.add(Method::kGet, "/api/employees/{id}", guarded(kManagers, with_id([this](Request& req, const Principal& p, int64_t id) {
    return reads_.serve(Query(req), p.shop_id, "employees", [&] { return filled(pos_->employee(p, id), reads_.map().employee(p.shop_id, id)); });
  })));
  router.add(Method::kPut, "/api/employees/{id}", guarded(kManagers, with_id([this](Request& req, const Principal& p, int64_t id) {
    auto in = employee_input(req);
    if (!in.ok()) return http::from_status(in.status());
    auto r = pos_->update_employee(p, id, *in);
    if (r.ok()) invalidate(reads_.map().employee_written(p.shop_id, id, false, in->active.has_value()));
    return reply(200, r);
  })));
  router.add(Method::kDelete, "/api/employees/{id}", guarded(kManagers, with_id([this](Request&, const Principal& p, int64_t id) {
    Status st = pos_->delete_employee(p, id);
    if (st.ok()) invalidate(reads_.map().employee_written(p.shop_id, id, true, true));
    return reply_empty(st);
  })));

  // --- bills ---
  router.add(Method::kGet, "/api/bills", guarded(kEveryone, [this](Request& req, const Principal& p) {
    Query q(req);
    pos::PageRequest page = page_of(q);
    pos::BillFilter f;
    f.from = q.time("from");
    f.to = q.time("to");
    f.customer_id = q.id("customer_id");
    f.status = q.text("status");
    if (f.status && *f.status != "paid" && *f.status != "void") {
      q.fail(InvalidArgument("status must be paid or void", "status"));
    }
    if (!q.status().ok()) return http::from_status(q.status());
    return reads_.serve(q, p.shop_id, "bills", [&] { return filled(pos_->list_bills(p, f, page), reads_.map().bill_page(p.shop_id)); });
  }));
  router.add(Method::kPost, "/api/bills", guarded(kEveryone, [this](Request& req, const Principal& p) {
    auto in = bill_input(req);
    if (!in.ok()) return http::from_status(in.status());
    std::optional<std::string> key;
    if (auto k = req.header("Idempotency-Key")) key = std::string(*k);
    bool replayed = false;
    std::optional<cache::Ticket> ticket;
    if (options_.cache != nullptr) ticket = options_.cache->ticket();
    auto bill = pos_->create_bill(p, *in, key, &replayed);
    if (bill.ok() && !replayed) {
      invalidate(reads_.map().bill_written(p.shop_id, *bill));
      // A new bill is read at once (the receipt, the back office): store what GET would load.
      // The ticket refuses it if a void of it was acknowledged meanwhile.
      if (ticket) {
        options_.cache->put(ReadCache::key(p.shop_id, "bills", "/api/bills/" + std::to_string(bill->id)),
                            dump(to_json(*bill)),
                            {.tags = reads_.map().bill(p.shop_id, bill->id), .type = reads_.type_id("bills")},
                            &*ticket);
      }
    }
    if (!bill.ok() && bill.status().code() == StatusCode::kFailedPrecondition &&
        bill.status().message().starts_with("insufficient stock")) {
      return http::error(bill.status(), "insufficient_stock");
    }
    return reply(replayed ? 200 : 201, bill);
  }));
  router.add(Method::kGet, "/api/bills/{id}", guarded(kEveryone, with_id([this](Request& req, const Principal& p, int64_t id) {
    return reads_.serve(Query(req), p.shop_id, "bills", [&] { return filled(pos_->bill(p, id), reads_.map().bill(p.shop_id, id)); });
  })));
  router.add(Method::kPost, "/api/bills/{id}/void", guarded(kManagers, with_id([this](Request&, const Principal& p, int64_t id) {
    auto r = pos_->void_bill(p, id);
    if (r.ok()) {
      invalidate(reads_.map().bill_written(p.shop_id, *r));
    }
    return reply(200, r);
  })));

  // --- dashboard ---
  router.add(Method::kGet, "/api/dashboard", guarded(kEveryone, [this](Request& req, const Principal& p) {
    return reads_.serve(Query(req), p.shop_id, "dashboard", dashboard(p));
  }));

  register_cache_routes(router);
}

}  // namespace tajir::api
