// HttpClient: one keep-alive HTTP/1.1 connection, blocking, for the load generator.
//
//   HttpClient c("127.0.0.1", 8080);
//   HttpReply r = c.request("GET", "/api/products?page=1", "", {{"Authorization", "Bearer ..."}});
//   if (r.status == 200 && r.x_cache == "HIT") ...
//
// A request on a connection the server closed reconnects and is sent once more, but only when
// it is safe to repeat (GET, PUT, or a POST carrying an Idempotency-Key); otherwise the failure
// comes back as status 0 with the error in `error`.
//
// Thread safety: one thread at a time per client; a worker owns one.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tajir::loadgen {

struct HttpReply {
  int status = 0;  // 0: no answer (see error)
  std::string body;
  std::string x_cache;  // "HIT", "MISS" or ""
  // X-DB-Statements; nullopt when absent (tajir serve sends it with --db-statements-header).
  std::optional<uint64_t> db_statements;
  std::string error;
};

class HttpClient {
 public:
  HttpClient(std::string host, uint16_t port);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  HttpReply request(std::string_view method, std::string_view target, std::string_view body,
                    const std::vector<std::pair<std::string, std::string>>& headers);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tajir::loadgen
