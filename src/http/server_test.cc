// Black-box tests of Server: a real server on port 0 and a small blocking client on raw
// sockets (with poll() deadlines, so a misbehaving server fails a test instead of hanging it).
#include "http/server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <csignal>
#include <cstring>
#include <mutex>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <thread>

#include "http/errors.h"
#include "util/blocking.h"

namespace tajir::http {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

struct Reply {
  int status = 0;
  Fields headers;
  std::string body;

  std::optional<std::string_view> header(std::string_view name) const {
    for (const auto& [k, v] : headers) {
      if (iequals(k, name)) return std::string_view(v);
    }
    return std::nullopt;
  }
  nlohmann::json json() const { return nlohmann::json::parse(body); }
  std::string error_code() const { return json()["error"]["code"]; }
};

class Client {
 public:
  explicit Client(uint16_t port) {
    fd_ = connect_to(port);
    if (fd_ < 0) throw std::runtime_error(std::string("connect: ") + std::strerror(-fd_));
  }
  ~Client() { ::close(fd_); }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // A connected descriptor, or -errno.
  static int connect_to(uint16_t port) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      int err = errno;
      ::close(fd);
      return -err;
    }
    return fd;
  }

  // False when the server has closed or reset the connection.
  bool send(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  static std::string request(std::string_view method, std::string_view target,
                             std::string_view body = "", std::string_view headers = "") {
    std::string out = std::string(method) + " " + std::string(target) + " HTTP/1.1\r\nHost: t\r\n";
    out += headers;
    if (!body.empty() || method == "POST" || method == "PUT") {
      out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    }
    out += "\r\n";
    out += body;
    return out;
  }

  Reply call(std::string_view method, std::string_view target, std::string_view body = "",
             std::string_view headers = "") {
    if (!send(request(method, target, body, headers))) throw std::runtime_error("send failed");
    return read(method == "HEAD");
  }

  Reply read(bool head = false, std::chrono::milliseconds timeout = 5s) {
    auto deadline = Clock::now() + timeout;
    size_t end;
    while ((end = buf_.find("\r\n\r\n")) == std::string::npos) {
      if (!fill(deadline)) throw std::runtime_error("no response head; got: " + buf_);
    }
    Reply reply;
    std::string_view head_text(buf_.data(), end);
    size_t line_end = head_text.find("\r\n");
    std::string_view status_line = head_text.substr(0, line_end);
    reply.status = std::stoi(std::string(status_line.substr(9, 3)));
    while (line_end != std::string_view::npos) {
      head_text.remove_prefix(line_end + 2);
      line_end = head_text.find("\r\n");
      std::string_view line = head_text.substr(0, line_end);
      size_t colon = line.find(':');
      std::string_view value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      reply.headers.emplace_back(line.substr(0, colon), value);
    }
    size_t length = 0;
    bool bodyless = head || reply.status < 200 || reply.status == 204 || reply.status == 304;
    if (auto cl = reply.header("Content-Length"); cl && !bodyless)
      length = std::stoul(std::string(*cl));
    while (buf_.size() < end + 4 + length) {
      if (!fill(deadline)) throw std::runtime_error("truncated body");
    }
    reply.body = buf_.substr(end + 4, length);
    buf_.erase(0, end + 4 + length);
    return reply;
  }

  // Whether the server closes (or resets) the connection within `timeout`.
  bool closed_within(std::chrono::milliseconds timeout) {
    if (!buf_.empty()) return false;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return false;
    char c;
    ssize_t n = ::recv(fd_, &c, 1, MSG_PEEK);
    return n == 0 || (n < 0 && errno == ECONNRESET);
  }

 private:
  bool fill(Clock::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    pollfd p{fd_, POLLIN, 0};
    if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
    char chunk[65536];
    ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) return false;
    buf_.append(chunk, static_cast<size_t>(n));
    return true;
  }

  int fd_ = -1;
  std::string buf_;
};

bool is_hex16(std::string_view s) {
  return s.size() == 16 && s.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

class ServerTest : public ::testing::Test {
 protected:
  ServerTest() {
    router_.add(Method::kGet, "/echo/{id}", [](Request& req) {
      nlohmann::json j = {{"path", req.path},
                          {"id", req.param("id")},
                          {"q", req.query("q").value_or("")},
                          {"request_id", req.request_id},
                          {"remote", req.remote_address}};
      return Response::json(200, j.dump());
    });
    router_.add(Method::kPost, "/echo", [](Request& req) {
      nlohmann::json j = {{"size", req.body.size()},
                          {"type", req.header("content-type").value_or("")}};
      return Response::json(200, j.dump());
    });
    router_.add(Method::kGet, "/throw", [](Request&) -> Response {
      throw std::runtime_error("secret detail: password=hunter2");
    });
    router_.add(Method::kGet, "/cached",
                [this](Request&) { return Response::bytes(200, cached_, "application/json"); });
    router_.add(Method::kDelete, "/things/{id}", [](Request&) { return Response::empty(204); });
    router_.add(Method::kGet, "/slow", [this](Request&) {
      slow_entered_ = true;
      std::this_thread::sleep_for(slow_for_);
      return Response::json(200, R"({"slow":true})");
    });
    // A read that must wait (a cache miss, say): on an event loop it says so before doing
    // anything, and the server runs it on the worker pool, where it blocks until released.
    router_.add(Method::kGet, "/blocking", [this](Request&) {
      util::blocking_point();
      blocking_entered_.fetch_add(1);
      std::unique_lock lock(gate_mu_);
      gate_cv_.wait(lock, [&] { return gate_open_; });
      return Response::json(200, R"({"waited":true})");
    });
    router_.add(Method::kGet, "/where", [](Request&) {
      return Response::json(200, util::may_block() ? R"({"on":"pool"})" : R"({"on":"loop"})");
    });
    router_.add(Method::kPost, "/where", [](Request&) {
      return Response::json(200, util::may_block() ? R"({"on":"pool"})" : R"({"on":"loop"})");
    });
    sink_ = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(64);
    logger_ = std::make_shared<spdlog::logger>("http-test", sink_);
    logger_->set_level(spdlog::level::info);
  }

  void start(ServerOptions options = {}, bool handle_signals = false) {
    if (options.io_threads == 0) options.io_threads = 4;
    options.logger = logger_;
    server_ = std::make_unique<Server>(options, router_);
    Status st = server_->start();
    ASSERT_TRUE(st.ok()) << st.message();
    if (handle_signals) server_->handle_signals(2s);
    runner_ = std::thread([this] {
      server_->run();
      run_returned_ = true;
    });
  }

  bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
    auto deadline = Clock::now() + timeout;
    while (!done()) {
      if (Clock::now() > deadline) return false;
      std::this_thread::sleep_for(5ms);
    }
    return true;
  }

  // The last log line holding `needle`, waited for: a request's line is written when its
  // write completes, which may be just after the client read the response. "" after 2 s.
  std::string log_line(std::string_view needle) {
    std::string line;
    wait_until(
        [&] {
          for (const std::string& l : sink_->last_formatted()) {
            if (l.find(needle) != std::string::npos) line = l;
          }
          return !line.empty();
        },
        2s);
    return line;
  }

  void open_gate() {
    {
      std::lock_guard lock(gate_mu_);
      gate_open_ = true;
    }
    gate_cv_.notify_all();
  }

  void TearDown() override {
    open_gate();
    if (!server_) return;
    server_->shutdown(2s);
    runner_.join();
  }

  uint16_t port() const { return server_->port(); }

  Router router_;
  std::shared_ptr<const std::string> cached_ =
      std::make_shared<const std::string>(R"({"cached":"value"})");
  std::atomic<bool> slow_entered_{false};
  std::atomic<int> blocking_entered_{0};
  std::mutex gate_mu_;
  std::condition_variable gate_cv_;
  bool gate_open_ = false;  // GUARDED_BY(gate_mu_)
  std::chrono::milliseconds slow_for_ = 500ms;
  std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> sink_;
  std::shared_ptr<spdlog::logger> logger_;
  std::unique_ptr<Server> server_;
  std::thread runner_;
  std::atomic<bool> run_returned_{false};
};

TEST_F(ServerTest, KeepAliveServesTwoRequestsOnOneConnection) {
  start();
  Client c(port());
  Reply r1 = c.call("GET", "/echo/1?q=tea+bag%21");
  EXPECT_EQ(r1.status, 200);
  EXPECT_EQ(r1.header("Server"), "tajir");
  EXPECT_EQ(r1.header("Content-Type"), "application/json");
  EXPECT_EQ(r1.header("Content-Length"), std::to_string(r1.body.size()));
  EXPECT_EQ(r1.header("Connection"), std::nullopt);
  ASSERT_TRUE(r1.header("X-Request-Id"));
  EXPECT_TRUE(is_hex16(*r1.header("X-Request-Id")));
  auto j = r1.json();
  EXPECT_EQ(j["path"], "/echo/1");
  EXPECT_EQ(j["id"], "1");
  EXPECT_EQ(j["q"], "tea bag!");
  EXPECT_EQ(j["remote"], "127.0.0.1");
  EXPECT_EQ(j["request_id"], *r1.header("X-Request-Id"));

  Reply r2 = c.call("GET", "/echo/2");
  EXPECT_EQ(r2.status, 200);
  EXPECT_EQ(r2.json()["id"], "2");
  EXPECT_NE(r1.header("X-Request-Id"), r2.header("X-Request-Id"));
  EXPECT_EQ(server_->connections(), 1u);
}

TEST_F(ServerTest, PipelinedRequestsAreAnsweredInOrder) {
  start();
  Client c(port());
  ASSERT_TRUE(c.send(Client::request("GET", "/echo/a") + Client::request("GET", "/slow") +
                     Client::request("GET", "/echo/b")));
  EXPECT_EQ(c.read().json()["id"], "a");
  EXPECT_EQ(c.read().json()["slow"], true);
  EXPECT_EQ(c.read().json()["id"], "b");
}

TEST_F(ServerTest, NotFoundAndMethodNotAllowedAreJson) {
  start();
  Client c(port());
  Reply r = c.call("GET", "/nope");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.header("Content-Type"), "application/json");
  EXPECT_EQ(r.error_code(), "not_found");

  r = c.call("DELETE", "/echo/1");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.error_code(), "method_not_allowed");
  EXPECT_EQ(r.header("Allow"), "GET, HEAD, OPTIONS");

  r = c.call("TRACE", "/echo/1");  // not an http::Method at all
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.error_code(), "method_not_allowed");
  EXPECT_EQ(r.header("Allow"), "GET, HEAD, OPTIONS");

  EXPECT_EQ(c.call("GET", "/echo/3").status, 200);  // the connection survived
}

TEST_F(ServerTest, BodyOverTheLimitAnswers413AndCloses) {
  start({.body_limit = 1 << 20});
  Client c(port());
  std::string big = "\"" + std::string((2 << 20) - 2, 'x') + "\"";
  std::thread writer([&] {
    (void)c.send(Client::request("POST", "/echo", big, "Content-Type: application/json\r\n"));
  });
  Reply r = c.read();
  writer.join();
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(r.error_code(), "payload_too_large");
  EXPECT_EQ(r.header("Connection"), "close");
  EXPECT_TRUE(c.closed_within(3s));
}

TEST_F(ServerTest, BodyAtTheLimitIsServed) {
  start({.body_limit = 1 << 20});
  Client c(port());
  std::string body = "\"" + std::string((1 << 20) - 2, 'x') + "\"";
  Reply r = c.call("POST", "/echo", body, "Content-Type: application/json\r\n");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.json()["size"], 1 << 20);
}

TEST_F(ServerTest, NonJsonBodiesAnswer415BeforeTheHandler) {
  start();
  Client c(port());
  Reply r = c.call("POST", "/echo", "hello", "Content-Type: text/plain\r\n");
  EXPECT_EQ(r.status, 415);
  EXPECT_EQ(r.error_code(), "unsupported_media_type");

  r = c.call("POST", "/echo", "{}", "");  // a body without any Content-Type
  EXPECT_EQ(r.status, 415);

  r = c.call("POST", "/echo", "{}", "Content-Type: application/json; charset=utf-8\r\n");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.json()["type"], "application/json; charset=utf-8");

  r = c.call("POST", "/echo", "{}", "Content-Type:  Application/JSON \r\n");
  EXPECT_EQ(r.status, 200);

  r = c.call("POST", "/echo", "", "");  // no body, no type: fine
  EXPECT_EQ(r.status, 200);
}

TEST_F(ServerTest, HeadersOverTheLimitAnswer431AndClose) {
  start({.header_limit = 16 << 10});
  Client c(port());
  std::string big = "X-Big: " + std::string(20 << 10, 'h') + "\r\n";
  ASSERT_TRUE(c.send(Client::request("GET", "/echo/1", "", big)));
  Reply r = c.read();
  EXPECT_EQ(r.status, 431);
  EXPECT_EQ(r.error_code(), "headers_too_large");
  EXPECT_EQ(r.header("Connection"), "close");
  EXPECT_TRUE(c.closed_within(3s));
}

TEST_F(ServerTest, MalformedHttpAnswers400AndCloses) {
  start();
  for (std::string_view garbage :
       {"NOT HTTP AT ALL\r\n\r\n", "GET /echo/1 HTTP/1.1\r\nContent-Length: abc\r\n\r\n",
        "GET /echo/1 HTTX/1.1\r\n\r\n"}) {
    Client c(port());
    ASSERT_TRUE(c.send(garbage));
    Reply r = c.read();
    EXPECT_EQ(r.status, 400) << garbage;
    EXPECT_EQ(r.error_code(), "bad_request");
    EXPECT_TRUE(c.closed_within(3s)) << garbage;
  }
  Client c(port());
  Reply r = c.call("GET", "/echo/1?q=%zz");  // well-formed HTTP, bad escape: 400, kept alive
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(c.call("GET", "/echo/1").status, 200);
}

TEST_F(ServerTest, AThrowingHandlerAnswers500WithoutDetails) {
  start();
  Client c(port());
  Reply r = c.call("GET", "/throw");
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.error_code(), "internal");
  EXPECT_EQ(r.body.find("secret"), std::string::npos);
  EXPECT_EQ(r.body.find("hunter2"), std::string::npos);
  EXPECT_EQ(c.call("GET", "/echo/1").status, 200);
}

TEST_F(ServerTest, RequestIdIsEchoedWhenSaneAndGeneratedOtherwise) {
  start();
  Client c(port());
  Reply r = c.call("GET", "/echo/1", "", "X-Request-Id: client-id_1.2\r\n");
  EXPECT_EQ(r.header("X-Request-Id"), "client-id_1.2");
  EXPECT_EQ(r.json()["request_id"], "client-id_1.2");

  for (std::string bad :
       {std::string("has spaces in it"), std::string(65, 'a'), std::string("semi;colon")}) {
    r = c.call("GET", "/echo/1", "", "X-Request-Id: " + bad + "\r\n");
    ASSERT_TRUE(r.header("X-Request-Id"));
    EXPECT_TRUE(is_hex16(*r.header("X-Request-Id"))) << *r.header("X-Request-Id");
  }
  // Errors made by the server itself carry the id too.
  r = c.call("POST", "/echo", "x", "Content-Type: text/plain\r\nX-Request-Id: abc\r\n");
  EXPECT_EQ(r.status, 415);
  EXPECT_EQ(r.header("X-Request-Id"), "abc");
}

TEST_F(ServerTest, HeadHasTheLengthButNoBodyAnd204HasNeither) {
  start();
  Client c(port());
  Reply r = c.call("HEAD", "/cached");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("Content-Length"), std::to_string(cached_->size()));
  EXPECT_TRUE(r.body.empty());

  r = c.call("DELETE", "/things/1");
  EXPECT_EQ(r.status, 204);
  EXPECT_EQ(r.header("Content-Length"), std::nullopt);
  EXPECT_EQ(r.header("Content-Type"), std::nullopt);

  // Had either sent body bytes, this would read them as its response.
  r = c.call("GET", "/cached");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, *cached_);
}

TEST_F(ServerTest, ExpectContinueGetsAnInterimResponse) {
  start();
  Client c(port());
  ASSERT_TRUE(
      c.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
             "Content-Length: 2\r\nExpect: 100-continue\r\n\r\n"));
  EXPECT_EQ(c.read().status, 100);
  ASSERT_TRUE(c.send("{}"));
  Reply r = c.read();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.json()["size"], 2);
}

TEST_F(ServerTest, Http10ClosesUnlessKeepAliveIsAsked) {
  start();
  Client c(port());
  ASSERT_TRUE(c.send("GET /echo/1 HTTP/1.0\r\n\r\n"));
  Reply r = c.read();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("Connection"), "close");
  EXPECT_TRUE(c.closed_within(3s));

  Client k(port());
  ASSERT_TRUE(k.send("GET /echo/1 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
  r = k.read();
  EXPECT_EQ(r.header("Connection"), "keep-alive");
  ASSERT_TRUE(k.send("GET /echo/2 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
  EXPECT_EQ(k.read().json()["id"], "2");
}

TEST_F(ServerTest, ConcurrentClientsAllGetTheirOwnAnswers) {
  start();
  constexpr int kThreads = 8;
  constexpr int kRequests = 200;
  std::atomic<int> correct{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::unique_ptr<Client> c;
      for (int i = 0; i < kRequests; ++i) {
        if (i % 50 == 0) c = std::make_unique<Client>(port());  // some fresh connections too
        std::string id = std::to_string(t * 1000 + i);
        try {
          Reply r = c->call("GET", "/echo/" + id + "?q=" + id);
          if (r.status == 200 && r.json()["id"] == id && r.json()["q"] == id) ++correct;
        } catch (const std::exception& e) {
          ADD_FAILURE() << e.what();
          return;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(correct.load(), kThreads * kRequests);
}

TEST_F(ServerTest, ShutdownDrainsInFlightRequestsAndRefusesNewConnections) {
  slow_for_ = 800ms;
  start({.io_threads = 2});
  Client idle(port());
  ASSERT_EQ(idle.call("GET", "/echo/1").status, 200);
  Client busy(port());
  ASSERT_TRUE(busy.send(Client::request("GET", "/slow")));
  ASSERT_TRUE(wait_until([&] { return slow_entered_.load(); }, 3s));

  server_->shutdown(5s);
  EXPECT_TRUE(idle.closed_within(2s));  // idle keep-alive connections go at once
  // Refused while the slow request is still in flight.
  bool refused = wait_until(
      [&] {
        int fd = Client::connect_to(port());
        if (fd >= 0) ::close(fd);
        return fd == -ECONNREFUSED;
      },
      2s);
  EXPECT_TRUE(refused);
  EXPECT_FALSE(run_returned_.load());

  Reply r = busy.read();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.json()["slow"], true);
  EXPECT_EQ(r.header("Connection"), "close");
  EXPECT_TRUE(busy.closed_within(3s));
  EXPECT_TRUE(wait_until([&] { return run_returned_.load(); }, 3s));
  EXPECT_EQ(Client::connect_to(port()), -ECONNREFUSED);
}

TEST_F(ServerTest, ShutdownGraceForceClosesStragglers) {
  slow_for_ = 1500ms;
  start({.io_threads = 2, .request_timeout = 10s});
  Client stalled(port());
  ASSERT_TRUE(stalled.send("GET /echo/1 HTTP/1.1\r\nHost: t\r\n"));  // never finishes its head
  std::this_thread::sleep_for(50ms);
  auto begun = Clock::now();
  server_->shutdown(200ms);
  EXPECT_TRUE(stalled.closed_within(3s));
  EXPECT_TRUE(wait_until([&] { return run_returned_.load(); }, 3s));
  EXPECT_LT(Clock::now() - begun, 2s);
}

TEST_F(ServerTest, IdleKeepAliveConnectionsTimeOut) {
  start({.idle_timeout = 300ms});
  Client c(port());
  ASSERT_EQ(c.call("GET", "/echo/1").status, 200);
  std::this_thread::sleep_for(100ms);
  ASSERT_EQ(c.call("GET", "/echo/2").status, 200);  // within the timeout: still open
  auto idle_since = Clock::now();
  EXPECT_TRUE(c.closed_within(3s));
  EXPECT_GE(Clock::now() - idle_since, 250ms);
}

TEST_F(ServerTest, ASlowRequestTimesOut) {
  start({.request_timeout = 300ms});
  Client c(port());
  ASSERT_TRUE(c.send("GET /echo/1 HTTP/1.1\r\nHo"));
  EXPECT_TRUE(c.closed_within(3s));
}

TEST_F(ServerTest, OneLogLinePerRequest) {
  start();
  Client c(port());
  Reply r = c.call("GET", "/echo/7?q=x", "", "X-Request-Id: log-me\r\n");
  ASSERT_EQ(r.status, 200);
  std::string line = log_line("id=log-me");
  EXPECT_NE(line.find("method=GET target=/echo/7?q=x status=200 bytes="), std::string::npos)
      << line;
  EXPECT_NE(line.find(" us="), std::string::npos) << line;
  EXPECT_NE(line.find(" remote=127.0.0.1:"), std::string::npos) << line;
  // The target as sent, escaped: its bytes cannot break the line.
  r = c.call("GET", "/cached?q=\xff\xc3\x28\\x41", "", "X-Request-Id: odd\r\n");
  ASSERT_EQ(r.status, 200);
  line = log_line("id=odd");
  EXPECT_NE(line.find("target=/cached?q=\\xff\\xc3(\\x5cx41 status=200"), std::string::npos)
      << line;
}

TEST_F(ServerTest, StartReportsBusyPortsAndBadAddresses) {
  start();
  Server second({.port = port(), .io_threads = 1}, router_);
  Status st = second.start();
  EXPECT_EQ(st.code(), StatusCode::kUnavailable);
  EXPECT_NE(st.message().find("address in use"), std::string::npos) << st.message();

  Server bad({.address = "not-an-address"}, router_);
  EXPECT_EQ(bad.start().code(), StatusCode::kInvalidArgument);
}

TEST_F(ServerTest, SigtermShutsDownWhenSignalsAreHandled) {
  start({}, /*handle_signals=*/true);
  Client idle(port());
  ASSERT_EQ(idle.call("GET", "/echo/1").status, 200);
  ASSERT_EQ(::kill(::getpid(), SIGTERM), 0);
  EXPECT_TRUE(wait_until([&] { return run_returned_.load(); }, 3s));
  EXPECT_TRUE(idle.closed_within(1s));
}

TEST_F(ServerTest, ReadsThatNeedNotWaitRunOnTheLoopAndTheRestOnThePool) {
  start();
  Client c(port());
  EXPECT_EQ(c.call("GET", "/where").json()["on"], "loop");
  EXPECT_EQ(c.call("POST", "/where", "{}", "Content-Type: application/json\r\n").json()["on"],
            "pool");
  open_gate();
  Reply r = c.call("GET", "/blocking");  // gave up on the loop, answered by the pool
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(blocking_entered_.load(), 1);  // and its handler ran past its blocking point once
}

TEST_F(ServerTest, AReadThatWaitsDoesNotDelayAHitOnAnotherConnection) {
  start({.io_threads = 1, .workers = 1});  // one loop: the hit shares it with the waiting read
  Client waiting(port());
  ASSERT_TRUE(waiting.send(Client::request("GET", "/blocking")));
  ASSERT_TRUE(wait_until([&] { return blocking_entered_.load() == 1; }, 3s));
  // The waiting read holds the only worker; a hit is answered on the loop all the same.
  Client hit(port());
  Reply r = hit.call("GET", "/cached");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, *cached_);
  open_gate();
  Reply w = waiting.read();
  EXPECT_EQ(w.status, 200);
  EXPECT_EQ(w.json()["waited"], true);
}

TEST_F(ServerTest, PipelinedRequestsKeepTheirOrderAcrossThePool) {
  start({.io_threads = 1, .workers = 2});
  Client c(port());
  ASSERT_TRUE(c.send(Client::request("GET", "/blocking", "", "X-Request-Id: first\r\n") +
                     Client::request("GET", "/cached", "", "X-Request-Id: second\r\n") +
                     Client::request("GET", "/echo/3", "", "X-Request-Id: third\r\n")));
  ASSERT_TRUE(wait_until([&] { return blocking_entered_.load() == 1; }, 3s));
  open_gate();
  Reply a = c.read(), b = c.read(), d = c.read();
  EXPECT_EQ(a.header("X-Request-Id"), "first");
  EXPECT_EQ(a.json()["waited"], true);
  EXPECT_EQ(b.header("X-Request-Id"), "second");
  EXPECT_EQ(b.body, *cached_);
  EXPECT_EQ(d.header("X-Request-Id"), "third");
  EXPECT_EQ(d.json()["id"], "3");
}

TEST_F(ServerTest, AFullWorkerQueueAnswers503WithRetryAfter) {
  start({.io_threads = 1, .workers = 1, .worker_queue = 1});
  Client running(port()), queued(port()), refused(port());
  ASSERT_TRUE(running.send(Client::request("GET", "/blocking")));
  ASSERT_TRUE(wait_until([&] { return blocking_entered_.load() == 1; }, 3s));
  ASSERT_TRUE(queued.send(Client::request("GET", "/blocking")));
  ASSERT_TRUE(wait_until([&] { return server_->pool_stats().queued == 1; }, 3s));
  Reply r = refused.call("GET", "/blocking");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.error_code(), "overloaded");
  EXPECT_EQ(r.header("Retry-After"), "1");
  EXPECT_EQ(server_->pool_stats().rejected, 1u);
  // Hits are still answered, and once the pool frees up so is everything else.
  EXPECT_EQ(refused.call("GET", "/cached").status, 200);
  open_gate();
  EXPECT_EQ(running.read().status, 200);
  EXPECT_EQ(queued.read().status, 200);
  EXPECT_EQ(refused.call("GET", "/blocking").status, 200);
}

TEST_F(ServerTest, AccessLogCanBeTurnedOff) {
  start({.access_log_enabled = false});
  Client c(port());
  ASSERT_EQ(c.call("GET", "/echo/1", "", "X-Request-Id: unlogged\r\n").status, 200);
  ASSERT_EQ(c.call("GET", "/throw").status, 500);  // its error is still logged
  EXPECT_NE(log_line("handler threw"), "");
  EXPECT_EQ(log_line("id=unlogged"), "");
}

TEST(ServerLifecycle, ShutdownBeforeAnyConnectionAndDestroyWithoutRun) {
  Router router;
  {
    Server unused({.io_threads = 1}, router);
    ASSERT_TRUE(unused.start().ok());
  }  // destroyed without run(): no hang, no leak
  Server server({.io_threads = 2}, router);
  ASSERT_TRUE(server.start().ok());
  server.shutdown(1s);  // before run(): run() returns as soon as it starts
  std::thread runner([&] { server.run(); });
  runner.join();
}

}  // namespace
}  // namespace tajir::http
