// Router: (method, path pattern) -> handler, and the 404 and 405 answers when nothing fits.
//
//   Router router;
//   router.add(Method::kGet, "/api/products/{id}", [&](Request& req) {
//     return get_product(req.param("id"));
//   });
//   router.add(Method::kPost, "/api/bills/{id}/void", void_bill);
//   Response res = router.route(req);   // fills req.path_params, runs the handler
//
// Patterns are absolute paths of segments; a segment "{name}" matches any one non-empty
// segment and binds it. Matching is exact otherwise (a trailing slash matters). When several
// routes match, the one whose first differing segment is a literal wins, so "/api/cache/stats"
// beats "/api/cache/{op}" whatever the order of add().
//
// route() answers, when no handler fits:
//   - 404 not_found when no pattern matches the path;
//   - 405 method_not_allowed with an Allow header when patterns match under other methods;
//   - HEAD without a HEAD route runs the GET route (the Server drops the body);
//   - OPTIONS without an OPTIONS route answers 204 with Allow.
//
// Thread safety: add() is for start-up, before any route(); route() and routes() are const
// and may then be called from any number of threads. Handlers run on the caller's thread.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/http.h"

namespace tajir::http {

using Handler = std::function<Response(Request&)>;

class Router {
 public:
  // Throws std::invalid_argument on a malformed pattern or a duplicate (method, pattern):
  // both are start-up programming errors.
  void add(Method method, std::string_view pattern, Handler handler);

  // REQUIRES: req.path is set (Request::set_target).
  Response route(Request& req) const;

  // The methods that have a route matching `path` (HEAD and OPTIONS included when implied),
  // in Method order; empty when no pattern matches.
  std::vector<Method> allowed(std::string_view path) const;

  // Every (method, pattern) added, in order of add().
  std::vector<std::pair<Method, std::string>> routes() const;

 private:
  struct Segment {
    std::string text;  // the literal, or the parameter's name
    bool is_param;
  };
  struct Route {
    Method method;
    std::string pattern;
    std::vector<Segment> segments;
    Handler handler;
  };

  // Whether `route` matches the split path; binds its parameters into `params` when it does.
  static bool match(const Route& route, const std::vector<std::string_view>& parts, Fields* params);
  // Of two routes matching the same path, whether a is more specific than b.
  static bool more_specific(const Route& a, const Route& b);
  std::vector<Method> allowed_parts(const std::vector<std::string_view>& parts) const;

  std::vector<Route> routes_;
};

// "GET, HEAD, POST" for an Allow header.
std::string allow_header(const std::vector<Method>& methods);

}  // namespace tajir::http
