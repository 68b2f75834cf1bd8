#include "api/input.h"

#include <charconv>

namespace tajir::api {

using Json = nlohmann::json;

Result<Input> Input::parse(std::string_view body) {
  Json j = Json::parse(body, /*cb=*/nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status(StatusCode::kInvalidArgument, "malformed JSON");
  if (!j.is_object()) return Status(StatusCode::kInvalidArgument, "the body must be a JSON object");
  return Input(std::move(j));
}

const Json* Input::member(const char* field) const {
  auto it = json_.find(field);
  return it == json_.end() ? nullptr : &*it;
}

void Input::fail(Status st) {
  if (status_.ok()) status_ = std::move(st);
}

std::optional<std::string> Input::text(const char* field, size_t max_len) {
  const Json* v = member(field);
  if (v == nullptr) return std::nullopt;
  if (!v->is_string()) {
    fail(InvalidArgument(std::string(field) + " must be a string", field));
    return std::nullopt;
  }
  const auto& s = v->get_ref<const std::string&>();
  if (s.size() > max_len) {
    fail(InvalidArgument(std::string(field) + " is longer than " + std::to_string(max_len) + " characters", field));
    return std::nullopt;
  }
  return s;
}

std::optional<std::optional<std::string>> Input::nullable_text(const char* field, size_t max_len) {
  const Json* v = member(field);
  if (v == nullptr) return std::nullopt;
  if (v->is_null()) return std::optional<std::string>();
  auto s = text(field, max_len);
  if (!s) return std::nullopt;
  return std::optional<std::string>(std::move(*s));
}

Result<int64_t> integer_value(const Json& v, const std::string& field, int64_t min, int64_t max) {
  if (v.is_number_integer()) {
    if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
      return InvalidArgument(field + " is out of range", field);
    }
    int64_t n = v.get<int64_t>();
    if (n < min || n > max) {
      return InvalidArgument(field + " must be between " + std::to_string(min) + " and " +
                                 std::to_string(max), field);
    }
    return n;
  }
  if (v.is_number_float()) return InvalidArgument(field + " must be an integer (minor units)", field);
  return InvalidArgument(field + " must be an integer", field);
}

std::optional<int64_t> Input::integer(const char* field, int64_t min, int64_t max) {
  const Json* v = member(field);
  if (v == nullptr) return std::nullopt;
  auto n = integer_value(*v, field, min, max);
  if (!n.ok()) {
    fail(n.status());
    return std::nullopt;
  }
  return *n;
}

std::optional<bool> Input::boolean(const char* field) {
  const Json* v = member(field);
  if (v == nullptr) return std::nullopt;
  if (!v->is_boolean()) {
    fail(InvalidArgument(std::string(field) + " must be true or false", field));
    return std::nullopt;
  }
  return v->get<bool>();
}

Result<int64_t> parse_id(std::string_view text, const char* field) {
  int64_t id = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (text.empty() || ec != std::errc() || p != text.data() + text.size() || id <= 0) {
    return InvalidArgument(std::string(field) + " must be a positive integer id", field);
  }
  return id;
}

}  // namespace tajir::api
