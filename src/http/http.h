// Request and Response: the plain types the HTTP layer hands to handlers and takes back.
//
// They know nothing of sockets or Beast, so the API layer and its tests build them by hand:
//
//   Request req;
//   req.method = Method::kGet;
//   if (Status st = req.set_target("/api/products?q=tea%20bag&page=2"); !st.ok()) ...
//   req.query("q");          // "tea bag"      (percent-decoded, '+' is a space)
//   req.header("If-None-Match");               // case-insensitive, nullopt when absent
//   req.param("id");         // filled by the Router from "/api/products/{id}"
//
//   return Response::json(201, body.dump());
//   return Response::bytes(200, cached_value, "application/json");  // shares, copies nothing
//   return Response::empty(204);
//
// The Server sets Content-Length, Connection, Server and X-Request-Id itself; a handler's own
// values for those are ignored. It adds "Content-Type: application/json" to a response that
// has a body and no Content-Type.
//
// Thread safety: plain values; one thread at a time per object. A Response's body is immutable
// and may be shared by any number of responses on any threads.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/status.h"

namespace tajir::http {

enum class Method { kGet, kHead, kPost, kPut, kDelete, kPatch, kOptions };

// "GET", "POST", ...
std::string_view to_string(Method method);
// Exact, case-sensitive (RFC 9110: methods are case-sensitive); nullopt for anything else.
std::optional<Method> parse_method(std::string_view text);

// An ordered list of name/value pairs; names may repeat.
using Fields = std::vector<std::pair<std::string, std::string>>;

// ASCII case-insensitive equality, as header names compare.
bool iequals(std::string_view a, std::string_view b);

// Decodes %XX escapes, and '+' as a space when plus_as_space (query strings, not paths).
// InvalidArgument on a truncated or non-hex escape and on %00.
Result<std::string> percent_decode(std::string_view text, bool plus_as_space);

// Percent-encodes all but RFC 3986's unreserved characters (A-Z a-z 0-9 - . _ ~), so the result
// is safe as a query name or value whatever it holds ('&', '=', spaces, UTF-8).
std::string percent_encode(std::string_view text);

// For a log line: printable ASCII as is; every other byte (controls, space, DEL, bytes >= 0x80)
// and the backslash as \xHH. A client's bytes then cannot break the line or forge an escape.
std::string escape_for_log(std::string_view text);

// The token of "Authorization: Bearer <token>" (RFC 6750; the scheme compared
// case-insensitively, as RFC 7235 says, then one or more spaces); nullopt when the header is
// absent, of another scheme, or carries no token.
std::optional<std::string_view> bearer_token(std::optional<std::string_view> authorization);

// "a=1&b=x%20y&a=2&flag" -> {a,1},{b,"x y"},{a,2},{flag,""}; empty pieces are skipped.
Result<Fields> parse_query(std::string_view query);

struct Request {
  Method method = Method::kGet;
  std::string target;  // as sent, e.g. "/api/products?page=2" (for logs)
  std::string path;    // decoded, without the query: "/api/products"
  Fields query_params;
  Fields headers;  // names as the client spelled them
  std::string body;
  Fields path_params;          // filled by Router::route()
  std::string request_id;      // the client's X-Request-Id if sane, else 16 generated hex chars
  std::string remote_address;  // peer IP, e.g. "127.0.0.1"; "" when built by hand

  // Splits target into path and query and decodes both. InvalidArgument when the target is
  // not origin-form ("/...") or an escape is malformed.
  Status set_target(std::string_view raw_target);

  // The first value of a query parameter, or nullopt.
  std::optional<std::string_view> query(std::string_view name) const;
  // The first value of a header (name compared case-insensitively), or nullopt.
  std::optional<std::string_view> header(std::string_view name) const;
  // A path parameter of the matched route; "" when the pattern has no such name.
  std::string_view param(std::string_view name) const;
};

struct Response {
  int status = 200;
  Fields headers;
  // Never null when built by the helpers below; null is treated as an empty body.
  std::shared_ptr<const std::string> body;

  static Response json(int status, std::string body);
  static Response bytes(int status, std::shared_ptr<const std::string> body,
                        std::string content_type);
  static Response empty(int status);

  // Replaces every header of that name (case-insensitive), or adds it.
  void set_header(std::string_view name, std::string value);
  std::optional<std::string_view> header(std::string_view name) const;
  size_t body_size() const { return body ? body->size() : 0; }
  std::string_view body_view() const { return body ? std::string_view(*body) : std::string_view(); }
};

}  // namespace tajir::http
