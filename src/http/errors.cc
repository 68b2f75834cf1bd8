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

// The reasons a 503 may carry (Status::with_reason), with what the client is told: which
// service failed and how, never where. Any other 503 gets the generic message.
struct Unavailable {
  std::string_view reason;
  std::string_view message;
};
constexpr Unavailable kUnavailable[] = {
    {"storage_full",
     "the database's disk is full: writes fail until space is freed; reads still work"},
    {"database_read_only", "the database is read-only: writes fail; reads still work"},
    {"database_unavailable", "the database cannot be reached: retry later"},
    {"busy", "too many password checks at once: retry in a moment"},
    {"not_acknowledged",
     "the change was saved, but not every server could be told of it yet: send it again, on "
     "this server or another (a bill with the same Idempotency-Key; a new product, customer "
     "or employee exists already: look it up instead)"},
};

const Unavailable* find_unavailable(std::string_view reason) {
  for (const Unavailable& u : kUnavailable) {
    if (u.reason == reason) return &u;
  }
  return nullptr;
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
    const Unavailable* known = find_unavailable(code);
    return error(http, code,
                 known ? known->message : "a backing service is unavailable, retry later");
  }
  spdlog::error("internal error: {}", status.ok()
                                          ? "an OK status answered as an error (a caller's bug)"
                                          : status.message());
  return error(http, code, "internal server error");
}

Response from_status(const Status& status) {
  Mapping m = mapping(status.code());
  bool own_code = !status.reason().empty() &&
                  (m.status < 500 || (m.status == 503 && find_unavailable(status.reason())));
  Response r = error(status, own_code ? status.reason() : m.code);
  if (m.status == 503) r.set_header("Retry-After", "1");  // unavailable is meant to pass
  return r;
}

}  // namespace tajir::http
