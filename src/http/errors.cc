#include "http/errors.h"

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

namespace tajir::http {
namespace {

struct Mapping {
  int status;
  std::string_view code;
};

// The table of errors.h, once.
Mapping mapping(StatusCode code) {
  switch (code) {
    case StatusCode::kInvalidArgument:
      return {400, "invalid_argument"};
    case StatusCode::kUnauthenticated:
      return {401, "unauthorized"};
    case StatusCode::kPermissionDenied:
      return {403, "forbidden"};
    case StatusCode::kNotFound:
      return {404, "not_found"};
    case StatusCode::kAlreadyExists:
    case StatusCode::kFailedPrecondition:
    case StatusCode::kAborted:
      return {409, "conflict"};
    case StatusCode::kUnprocessable:
      return {422, "unprocessable"};
    case StatusCode::kResourceExhausted:
      return {429, "rate_limited"};
    case StatusCode::kUnavailable:
      return {503, "unavailable"};
    case StatusCode::kOk:  // a caller's bug
    case StatusCode::kInternal:
      break;
  }
  return {500, "internal"};
}

}  // namespace

Response error(int status, std::string_view code, std::string_view message,
               std::string_view field) {
  nlohmann::json inner = {{"code", code}, {"message", message}};
  if (!field.empty()) inner["field"] = field;
  nlohmann::json body = {{"error", std::move(inner)}};
  // Messages can echo client input; invalid UTF-8 must not make dump() throw.
  return Response::json(status,
                        body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

int http_status(StatusCode code) { return mapping(code).status; }

Response error(const Status& status, std::string_view code) {
  int http = http_status(status.code());
  if (http < 500) return error(http, code, status.message(), status.field());
  // 5xx messages may name hosts, tables or queries: they go to the log, not to the client.
  if (http == 503) {
    spdlog::warn("unavailable: {}", status.message());
    return error(http, code, "a backing service is unavailable, retry later");
  }
  spdlog::error("internal error: {}", status.ok()
                                          ? "an OK status answered as an error (a caller's bug)"
                                          : status.message());
  return error(http, code, "internal server error");
}

Response from_status(const Status& status) {
  Mapping m = mapping(status.code());
  // A reason is a code the program chose ("busy"), safe to send even on a 5xx; a 5xx message
  // is not.
  bool use_reason = !status.reason().empty() && m.status != 500;
  Response r = error(status, use_reason ? status.reason() : m.code);
  if (m.status == 503) r.set_header("Retry-After", "1");  // unavailable is meant to pass
  return r;
}

}  // namespace tajir::http
