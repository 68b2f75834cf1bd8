// The error body of the API and the one mapping from StatusCode to HTTP status.
//
// Every error the server sends has the shape
//
//   {"error": {"code": "snake_case_code", "message": "human text", "field": "price"}}
//
// with "field" present only when there is one. Handlers return from_status(st) for a failed
// Status; nowhere else maps codes to statuses:
//
//   kInvalidArgument   400 invalid_argument (with the Status's field)
//   kUnauthenticated   401 unauthorized
//   kPermissionDenied  403 forbidden
//   kNotFound          404 not_found
//   kAlreadyExists, kFailedPrecondition, kAborted
//                      409 conflict
//   kUnprocessable     422 unprocessable (an Idempotency-Key reused for another request)
//   kResourceExhausted 429 rate_limited (413 payload_too_large is the Server's own)
//   kUnavailable       503 unavailable   generic message; the Status's message is logged;
//                      with the reason storage_full, database_read_only or database_unavailable
//                      (set by src/db), or busy (too many password hashes at once), that code
//                      and a message saying what failed; always with Retry-After: 1
//   kInternal (and kOk, a caller's bug)
//                      500 internal      generic message; the Status's message is logged
//
// A Status's reason, when it has one, replaces the table's code in the body
// ("insufficient_stock" for a kFailedPrecondition): the HTTP status is still the table's. A 5xx
// keeps the table's code, except for the 503 reasons above.
//
// 4xx messages pass through ("insufficient stock"): they are written for the client. 5xx
// messages may hold a database host or a query and never leave the server.
//
// Thread safety: free functions, safe from any thread.
#pragma once

#include <string_view>

#include "http/http.h"
#include "util/status.h"

namespace tajir::http {

// A JSON error response; `field` is omitted when empty.
Response error(int status, std::string_view code, std::string_view message,
               std::string_view field = {});

// The HTTP status from_status() uses for a code.
int http_status(StatusCode code);

// The error response for a failed Status (see the table above).
Response from_status(const Status& status);

// As from_status(), with a more specific code string than the table's, e.g.
// error(st, "insufficient_stock") -> 409 {"error": {"code": "insufficient_stock", ...}}.
// The status and the hiding of 5xx messages are the table's.
Response error(const Status& status, std::string_view code);

}  // namespace tajir::http
