#include "loadgen/http_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <charconv>

namespace tajir::loadgen {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

struct HttpClient::Impl {
  std::string host;
  std::string port;
  asio::io_context io;
  beast::tcp_stream stream{io};
  beast::flat_buffer buffer;
  bool connected = false;

  beast::error_code connect() {
    beast::error_code ec;
    stream.socket().close(ec);
    asio::ip::tcp::resolver resolver(io);
    auto endpoints = resolver.resolve(host, port, ec);
    if (ec) return ec;
    stream.connect(endpoints, ec);
    if (ec) return ec;
    stream.socket().set_option(asio::ip::tcp::no_delay(true), ec);
    buffer.clear();
    connected = !ec;
    return ec;
  }

  beast::error_code exchange(const http::request<http::string_body>& req,
                             http::response<http::string_body>& res) {
    beast::error_code ec;
    if (!connected && (ec = connect())) return ec;
    http::write(stream, req, ec);
    if (!ec) http::read(stream, buffer, res, ec);
    if (ec)
      connected = false;
    else if (!res.keep_alive())
      connected = false;  // the server closes after this answer
    return ec;
  }
};

HttpClient::HttpClient(std::string host, uint16_t port) : impl_(std::make_unique<Impl>()) {
  impl_->host = std::move(host);
  impl_->port = std::to_string(port);
}

HttpClient::~HttpClient() = default;

HttpReply HttpClient::request(std::string_view method, std::string_view target,
                              std::string_view body,
                              const std::vector<std::pair<std::string, std::string>>& headers) {
  http::request<http::string_body> req(http::string_to_verb({method.data(), method.size()}),
                                       {target.data(), target.size()}, 11);
  req.set(http::field::host, impl_->host);
  req.keep_alive(true);
  bool repeatable = method != "POST";
  for (const auto& [name, value] : headers) {
    req.set(name, value);
    if (beast::iequals(name, "Idempotency-Key")) repeatable = true;
  }
  if (!body.empty()) {
    req.set(http::field::content_type, "application/json");
    req.body() = std::string(body);
  }
  req.prepare_payload();

  HttpReply reply;
  http::response<http::string_body> res;
  bool reused = impl_->connected;
  beast::error_code ec = impl_->exchange(req, res);
  if (ec && reused && repeatable) {  // the server may have closed an idle connection
    res = {};
    ec = impl_->exchange(req, res);
  }
  if (ec) {
    reply.error = ec.message();
    return reply;
  }
  reply.status = static_cast<int>(res.result_int());
  reply.body = std::move(res.body());
  if (auto it = res.find("X-Cache"); it != res.end()) reply.x_cache = std::string(it->value());
  if (auto it = res.find("X-DB-Statements"); it != res.end()) {
    auto v = it->value();
    uint64_t n = 0;
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (ec == std::errc() && end == v.data() + v.size()) reply.db_statements = n;
  }
  return reply;
}

}  // namespace tajir::loadgen
