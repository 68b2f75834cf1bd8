#include "api/input.h"

#include <charconv>

namespace tajir::api {

using Json = nlohmann::json;

namespace {

// The next code point of valid UTF-8 at `at`, which it moves past.
char32_t next_code_point(std::string_view s, size_t& at) {
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(i < s.size() ? s[i] : 0); };
  unsigned char b = byte(at);
  size_t len = b < 0x80 ? 1 : b < 0xe0 ? 2 : b < 0xf0 ? 3 : 4;
  char32_t c = len == 1 ? b : b & (0x7f >> len);
  for (size_t i = 1; i < len; ++i) c = (c << 6) | (byte(at + i) & 0x3f);
  at += len;
  return c;
}

bool is_control(char32_t c) { return c < 0x20 || (c >= 0x7f && c <= 0x9f); }

// Unicode's White_Space property.
bool is_white_space(char32_t c) {
  return (c >= 0x09 && c <= 0x0d) || c == 0x20 || c == 0x85 || c == 0xa0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 || c == 0x202f || c == 0x205f ||
         c == 0x3000;
}

Status check_text(std::string_view s, const char* field, Text kind) {
  if (kind == Text::kSecret) return OkStatus();
  bool blank = true;
  for (size_t at = 0; at < s.size();) {
    char32_t c = next_code_point(s, at);
    blank = blank && is_white_space(c);
    if (is_control(c) && !(kind == Text::kLines && (c == '\n' || c == '\r' || c == '\t'))) {
      return InvalidArgument(
          std::string(field) + (kind == Text::kLines ? " may hold no control characters but "
                                                       "newlines and tabs"
                                                     : " may hold no control characters"),
          field);
    }
  }
  if (kind == Text::kName && blank) {
    return InvalidArgument(std::string(field) + " may not be blank", field);
  }
  return OkStatus();
}

}  // namespace

Result<Input> Input::parse(std::string_view body) {
  // The parser ends its input at a NUL, and would accept "{...}\0anything".
  if (body.find('\0') != std::string_view::npos) {
    return Status(StatusCode::kInvalidArgument, "malformed JSON (a NUL byte)");
  }
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

std::optional<std::string> Input::text(const char* field, size_t max_len, Text kind) {
  const Json* v = member(field);
  if (v == nullptr) return std::nullopt;
  if (!v->is_string()) {
    fail(InvalidArgument(std::string(field) + " must be a string", field));
    return std::nullopt;
  }
  const auto& s = v->get_ref<const std::string&>();
  if (s.size() > max_len) {
    fail(InvalidArgument(
        std::string(field) + " is longer than " + std::to_string(max_len) + " characters", field));
    return std::nullopt;
  }
  if (Status st = check_text(s, field, kind); !st.ok()) {
    fail(std::move(st));
    return std::nullopt;
  }
  return s;
}

std::optional<std::optional<std::string>> Input::nullable_text(const char* field, size_t max_len,
                                                               Text kind) {
  const Json* v = member(field);
  if (v == nullptr) return std::nullopt;
  if (v->is_null()) return std::optional<std::string>();
  auto s = text(field, max_len, kind);
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
      return InvalidArgument(
          field + " must be between " + std::to_string(min) + " and " + std::to_string(max), field);
    }
    return n;
  }
  if (v.is_number_float())
    return InvalidArgument(field + " must be an integer (minor units)", field);
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
