// What the Server does with one request Beast has parsed, apart from the socket: it builds the
// http::Request (target split and decoded, headers, body, request id, the peer's address) and
// answers it through the Router, or answers by itself
//   400 bad_request             a target that is not "/..." or has a bad %-escape
//   405 method_not_allowed      a method outside http::Method (with Allow when the path exists)
//   415 unsupported_media_type  a POST/PUT/PATCH body whose Content-Type is not application/json
//   500 internal                the handler threw (logged, not sent) or answered a status
//                               outside 200..599
// The Server calls it for every request it reads; fuzz/http_request.cc calls it on requests
// Beast parsed from the fuzzer's bytes, so both run the same code.
//
// Thread safety: as the Router's route().
#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <string>
#include <variant>

#include "http/http.h"
#include "http/router.h"

namespace spdlog {
class logger;
}

namespace tajir::http::internal {

using BeastRequest = boost::beast::http::request<boost::beast::http::string_body>;

// The Request to route, built from the message (its body taken), or the answer the server gives
// by itself (400, 405, 415).
std::variant<Request, Response> prepare(const Router& router, BeastRequest& msg,
                                        std::string request_id, std::string remote_address);

// Routes a prepared request: 500 when the handler throws or answers outside 200..599.
// util::WouldBlock passes through (the handler must wait, and this thread must not: run it
// again where it may, util/blocking.h).
Response respond(const Router& router, Request& req, spdlog::logger& logger);

// prepare(), then respond(). Takes the message's body.
Response answer(const Router& router, BeastRequest& msg, std::string request_id,
                std::string remote_address, spdlog::logger& logger);

}  // namespace tajir::http::internal
