// Status and Result<T>: errors as values, after absl::Status / absl::StatusOr.
//
// The core never throws across its interfaces: a failure is a Status with a canonical code that
// the caller must look at ([[nodiscard]]). Adapters to libraries that throw (JSON, databases,
// Redis) catch at their edge and return one of these. The HTTP layer maps each code to one
// status and one error body, in one place.
//
//   Result<int> parse_port(std::string_view s);
//   auto port = parse_port(text);
//   if (!port.ok()) return port.status();
//   use(*port);
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace tajir {

enum class StatusCode {
  kOk,
  kInvalidArgument,     // the caller's input is wrong
  kNotFound,            // no such thing (for this caller)
  kAlreadyExists,       // unique constraint
  kFailedPrecondition,  // the state does not allow it (insufficient stock, already void)
  kUnprocessable,       // well-formed, but contradicts what the server holds for it (an
                        // idempotency key already used for another request)
  kPermissionDenied,    // authenticated but not allowed
  kUnauthenticated,     // no or bad credentials
  kResourceExhausted,   // limits: body too large, rate limited, cache entry too large
  kUnavailable,         // a backing service is down; retrying may help
  kAborted,             // lost a race (stale cache fill, serialization failure); retry
  kInternal,            // a bug or an unexpected library failure
};

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // The input field an invalid-argument error is about ("price", "items[2].quantity"), or "".
  const std::string& field() const { return field_; }
  Status&& with_field(std::string field) && {
    field_ = std::move(field);
    return std::move(*this);
  }

  // A more specific error code for the client than the StatusCode's ("insufficient_stock",
  // "idempotency_key_reused"), or "". It changes the error body's code, never the HTTP status.
  const std::string& reason() const { return reason_; }
  Status&& with_reason(std::string reason) && {
    reason_ = std::move(reason);
    return std::move(*this);
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
  std::string field_;
  std::string reason_;
};

inline Status OkStatus() { return {}; }
inline Status InvalidArgument(std::string message, std::string field = "") {
  return Status(StatusCode::kInvalidArgument, std::move(message)).with_field(std::move(field));
}
inline Status NotFound(std::string message) { return {StatusCode::kNotFound, std::move(message)}; }
inline Status Internal(std::string message) { return {StatusCode::kInternal, std::move(message)}; }

// A value or the Status saying why there is none. REQUIRES for value access: ok().
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}         // NOLINT: implicit, like absl::StatusOr
  Result(Status status) : v_(std::move(status)) {}  // NOLINT. REQUIRES: !status.ok()

  bool ok() const { return v_.index() == 0; }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<1>(v_);
  }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace tajir
