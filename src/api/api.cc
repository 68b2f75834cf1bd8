#include "api/api.h"

#include <array>

namespace tajir::api {
namespace {

// Every resource's table of routes.
std::array<std::span<const Route>, 8> all_routes() {
  return {auth_routes(),     shop_routes(), product_routes(),   customer_routes(),
          employee_routes(), bill_routes(), dashboard_routes(), cache_routes()};
}

}  // namespace

Api::Api(pos::Pos& pos, ApiOptions options)
    : options_(std::move(options)),
      reads_(options_.cache, pos::CacheMap(options_.invalidation)),
      access_(pos, reads_, options_.admin_token, options_.db_statements_header),
      writes_(reads_, access_.internal_token(), options_.refill, options_.invalidation_delay),
      limits_(options_.auth_limits),
      context_{pos, reads_, writes_, access_, options_, nullptr, limits_} {
  if (options_.cache != nullptr && options_.warm_on_login) {
    login_warmer_ = std::make_unique<BackgroundWarmer<int64_t>>(
        [this](int64_t shop) { warm({shop}, pos::warmable_types()); }, std::chrono::minutes(1));
    context_.login_warmer = login_warmer_.get();
  }
}

Api::~Api() {
  // The background threads use the router and the cache: stop them first.
  login_warmer_.reset();
  writes_.stop();
}

WarmSummary Api::warm(const std::vector<int64_t>& shops, const std::vector<std::string>& types) {
  return api::warm(context_, shops, types);
}

void Api::register_routes(http::Router& router) {
  for (auto table : all_routes()) {
    for (const Route& r : table) {
      router.add(r.method, r.path,
                 access_.guard(r.allow, [this, handler = r.handler](http::Request& req,
                                                                    const pos::Principal& p) {
                   return handler(context_, req, p);
                 }));
    }
  }
  writes_.set_router(&router);
}

std::vector<std::pair<http::Method, std::string>> Api::routes() {
  http::Router router;
  for (auto table : all_routes()) {
    for (const Route& r : table)
      router.add(r.method, r.path, [](http::Request&) { return http::Response::empty(500); });
  }
  return router.routes();
}

}  // namespace tajir::api
