// Registration, login, logout. Registrations and failed logins are rate limited per client
// address (api/rate_limit.h): a limit that holds answers 429 before any password is checked.
#include "api/bodies.h"
#include "api/reply.h"
#include "api/routes.h"

namespace tajir::api {
namespace {

Response register_shop(Context& c, Request& req, const pos::Principal&) {
  auto in = registration_input(req);
  if (!in.ok()) return http::from_status(in.status());
  // Every attempt counts, whatever its outcome: a 409 tells whether a username is taken.
  if (auto refused = c.limits.begin_registration(c.limits.client(req))) return *refused;
  return reply(201, c.pos.register_shop(in->first, in->second.username, in->second.password));
}

Response login(Context& c, Request& req, const pos::Principal&) {
  auto in = credentials_input(req);
  if (!in.ok()) return http::from_status(in.status());
  std::string client = c.limits.client(req);
  if (auto refused = c.limits.begin_login(client, in->username)) return *refused;
  auto r = c.pos.login(in->username, in->password);
  if (r.ok() || r.status().code() != StatusCode::kUnauthenticated)
    c.limits.login_done(client, in->username);
  if (r.ok() && c.login_warmer != nullptr) c.login_warmer->request(r->user.shop_id);
  if (r.ok() && c.user_warmer != nullptr) c.user_warmer->request(r->user.id);
  return reply(200, r);
}

Response logout(Context& c, Request& req, const pos::Principal& p) {
  Status st = c.pos.logout(*http::bearer_token(req.header("Authorization")));  // guard() found one
  if (st.ok()) st = c.writes.after_write(c.reads.map().user_sessions_ended(p.user_id));
  return reply_empty(st);
}

constexpr Route kRoutes[] = {
    {Method::kPost, "/api/auth/register", kPublic, register_shop},
    {Method::kPost, "/api/auth/login", kPublic, login},
    {Method::kPost, "/api/auth/logout", kOwner | kCashier, logout},
};

}  // namespace

std::span<const Route> auth_routes() { return kRoutes; }

}  // namespace tajir::api
