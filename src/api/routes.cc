#include "api/routes.h"

#include "api/input.h"

namespace tajir::api {

Result<int64_t> path_id(const http::Request& req) { return parse_id(req.param("id")); }

pos::PageRequest page_of(Query& q) {
  return pos::PageRequest{q.integer("page", 1, 1'000'000, 1), q.integer("per_page", 1, 200, 50)};
}

}  // namespace tajir::api
