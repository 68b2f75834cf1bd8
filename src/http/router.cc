#include "http/router.h"

#include <algorithm>
#include <stdexcept>

#include "http/errors.h"

namespace tajir::http {
namespace {

// "/a/b/c" -> {"a", "b", "c"}; "/" -> {""}; "/a/" -> {"a", ""}.
std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> parts;
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  while (true) {
    size_t slash = path.find('/');
    parts.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return parts;
}

}  // namespace

void Router::add(Method method, std::string_view pattern, Handler handler) {
  if (pattern.empty() || pattern.front() != '/') {
    throw std::invalid_argument("route pattern must start with '/': " + std::string(pattern));
  }
  Route route{method, std::string(pattern), {}, std::move(handler)};
  for (std::string_view part : split_path(pattern)) {
    bool is_param = part.size() >= 2 && part.front() == '{' && part.back() == '}';
    if (is_param) part = part.substr(1, part.size() - 2);
    if (part.find_first_of("{}") != std::string_view::npos || (is_param && part.empty())) {
      throw std::invalid_argument("malformed route pattern: " + std::string(pattern));
    }
    route.segments.push_back({std::string(part), is_param});
  }
  for (const Route& other : routes_) {
    if (other.method == method && other.pattern == route.pattern) {
      throw std::invalid_argument("duplicate route: " + std::string(to_string(method)) + " " +
                                  route.pattern);
    }
  }
  routes_.push_back(std::move(route));
}

bool Router::match(const Route& route, const std::vector<std::string_view>& parts, Fields* params) {
  if (route.segments.size() != parts.size()) return false;
  for (size_t i = 0; i < parts.size(); ++i) {
    const Segment& seg = route.segments[i];
    if (seg.is_param ? parts[i].empty() : seg.text != parts[i]) return false;
  }
  if (params) {
    params->clear();
    for (size_t i = 0; i < parts.size(); ++i) {
      if (route.segments[i].is_param) params->emplace_back(route.segments[i].text, parts[i]);
    }
  }
  return true;
}

bool Router::more_specific(const Route& a, const Route& b) {
  for (size_t i = 0; i < a.segments.size() && i < b.segments.size(); ++i) {
    if (a.segments[i].is_param != b.segments[i].is_param) return !a.segments[i].is_param;
  }
  return false;
}

std::vector<Method> Router::allowed_parts(const std::vector<std::string_view>& parts) const {
  std::vector<Method> methods;
  for (const Route& route : routes_) {
    if (!match(route, parts, nullptr)) continue;
    methods.push_back(route.method);
    if (route.method == Method::kGet) methods.push_back(Method::kHead);
    methods.push_back(Method::kOptions);
  }
  std::sort(methods.begin(), methods.end());
  methods.erase(std::unique(methods.begin(), methods.end()), methods.end());
  return methods;
}

std::vector<Method> Router::allowed(std::string_view path) const {
  return allowed_parts(split_path(path));
}

Response Router::route(Request& req) const {
  std::vector<std::string_view> parts = split_path(req.path);
  auto best_for = [&](Method method) -> const Route* {
    const Route* best = nullptr;
    for (const Route& route : routes_) {
      if (route.method != method || !match(route, parts, nullptr)) continue;
      if (!best || more_specific(route, *best)) best = &route;
    }
    return best;
  };
  const Route* found = best_for(req.method);
  if (!found && req.method == Method::kHead) found = best_for(Method::kGet);
  if (found) {
    (void)match(*found, parts, &req.path_params);
    return found->handler(req);
  }
  std::vector<Method> methods = allowed_parts(parts);
  if (methods.empty()) return error(404, "not_found", "no such resource");
  if (req.method == Method::kOptions) {
    Response res = Response::empty(204);
    res.set_header("Allow", allow_header(methods));
    return res;
  }
  Response res =
      error(405, "method_not_allowed", std::string(to_string(req.method)) + " is not allowed here");
  res.set_header("Allow", allow_header(methods));
  return res;
}

std::vector<std::pair<Method, std::string>> Router::routes() const {
  std::vector<std::pair<Method, std::string>> out;
  out.reserve(routes_.size());
  for (const Route& route : routes_) out.emplace_back(route.method, route.pattern);
  return out;
}

std::string allow_header(const std::vector<Method>& methods) {
  std::string out;
  for (Method method : methods) {
    if (!out.empty()) out += ", ";
    out += to_string(method);
  }
  return out;
}

}  // namespace tajir::http
