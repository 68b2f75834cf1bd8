#include "http/internal/answer.h"

#include <spdlog/spdlog.h>

#include <optional>

#include "http/errors.h"
#include "util/blocking.h"

namespace tajir::http::internal {
namespace {

// Beast 1.74 speaks boost::string_view.
std::string_view sv(boost::beast::string_view s) { return {s.data(), s.size()}; }

bool is_json_media_type(std::string_view content_type) {
  std::string_view type = content_type.substr(0, content_type.find(';'));
  while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.remove_suffix(1);
  while (!type.empty() && (type.front() == ' ' || type.front() == '\t')) type.remove_prefix(1);
  return iequals(type, "application/json");
}

}  // namespace

std::variant<Request, Response> prepare(const Router& router, BeastRequest& msg,
                                        std::string request_id, std::string remote_address) {
  Request req;
  req.request_id = std::move(request_id);
  req.remote_address = std::move(remote_address);
  std::optional<Method> method = parse_method(sv(msg.method_string()));
  if (Status target_ok = req.set_target(sv(msg.target())); !target_ok.ok()) {
    return error(400, "bad_request", target_ok.message());
  }
  if (!method) {
    Response res = error(405, "method_not_allowed",
                         std::string(sv(msg.method_string())) + " is not supported");
    std::vector<Method> allowed = router.allowed(req.path);
    if (!allowed.empty()) res.set_header("Allow", allow_header(allowed));
    return res;
  }
  req.method = *method;
  req.headers.reserve(std::distance(msg.begin(), msg.end()));
  for (const auto& field : msg)
    req.headers.emplace_back(sv(field.name_string()), sv(field.value()));
  req.body = std::move(msg.body());
  bool has_body_method =
      req.method == Method::kPost || req.method == Method::kPut || req.method == Method::kPatch;
  if (has_body_method && !req.body.empty() &&
      !is_json_media_type(req.header("Content-Type").value_or(""))) {
    return error(415, "unsupported_media_type", "the request body must be application/json");
  }
  return req;
}

Response respond(const Router& router, Request& req, spdlog::logger& logger) {
  Response res;
  try {
    res = router.route(req);
  } catch (const util::WouldBlock&) {
    throw;
  } catch (const std::exception& e) {
    logger.error("request id={} handler threw: {}", req.request_id, e.what());
    return error(500, "internal", "internal server error");
  } catch (...) {
    logger.error("request id={} handler threw a non-exception", req.request_id);
    return error(500, "internal", "internal server error");
  }
  if (res.status < 200 || res.status > 599) {
    logger.error("request id={} handler answered status {}", req.request_id, res.status);
    return error(500, "internal", "internal server error");
  }
  return res;
}

Response answer(const Router& router, BeastRequest& msg, std::string request_id,
                std::string remote_address, spdlog::logger& logger) {
  auto prepared = prepare(router, msg, std::move(request_id), std::move(remote_address));
  if (Response* res = std::get_if<Response>(&prepared)) return std::move(*res);
  return respond(router, std::get<Request>(prepared), logger);
}

}  // namespace tajir::http::internal
