#include "api/routes.h"

#include "api/input.h"

namespace tajir::api {

Result<int64_t> path_id(const http::Request& req) { return parse_id(req.param("id")); }

Result<pos::PageRequest> page_of(const http::Request& req) {
  auto page = parse_query_int(req.query("page"), "page", 1, 1'000'000, 1);
  if (!page.ok()) return page.status();
  auto per_page = parse_query_int(req.query("per_page"), "per_page", 1, 200, 50);
  if (!per_page.ok()) return per_page.status();
  return pos::PageRequest{*page, *per_page};
}

std::optional<std::string> optional_query(const http::Request& req, std::string_view name) {
  auto v = req.query(name);
  return v ? std::optional<std::string>(std::string(*v)) : std::nullopt;
}

}  // namespace tajir::api
