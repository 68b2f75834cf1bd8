#include "http/http.h"

#include <algorithm>
#include <array>

namespace tajir::http {
namespace {

constexpr std::array<std::string_view, 7> kMethodNames = {"GET",    "HEAD",  "POST",   "PUT",
                                                          "DELETE", "PATCH", "OPTIONS"};

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

template <typename FieldList>
std::optional<std::string_view> find_field(const FieldList& fields, std::string_view name,
                                           bool case_insensitive) {
  for (const auto& [key, value] : fields) {
    if (case_insensitive ? iequals(key, name) : key == name) return std::string_view(value);
  }
  return std::nullopt;
}

// `text` with every byte that `keep` refuses written as `prefix` and two of `hex`'s digits.
template <typename Keep>
std::string escape_bytes(std::string_view text, std::string_view prefix, const char* hex,
                         Keep keep) {
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    if (keep(c)) {
      out += static_cast<char>(c);
    } else {
      out += prefix;
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

}  // namespace

std::string_view to_string(Method method) { return kMethodNames[static_cast<size_t>(method)]; }

std::optional<Method> parse_method(std::string_view text) {
  for (size_t i = 0; i < kMethodNames.size(); ++i) {
    if (kMethodNames[i] == text) return static_cast<Method>(i);
  }
  return std::nullopt;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

std::string percent_encode(std::string_view text) {
  return escape_bytes(text, "%", "0123456789ABCDEF", [](unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
  });
}

std::string escape_for_log(std::string_view text) {
  return escape_bytes(text, "\\x", "0123456789abcdef",
                      [](unsigned char c) { return c > 0x20 && c < 0x7f && c != '\\'; });
}

std::optional<std::string_view> bearer_token(std::optional<std::string_view> authorization) {
  constexpr std::string_view kScheme = "Bearer";
  if (!authorization || authorization->size() <= kScheme.size() ||
      !iequals(authorization->substr(0, kScheme.size()), kScheme) ||
      (*authorization)[kScheme.size()] != ' ') {
    return std::nullopt;
  }
  std::string_view token = authorization->substr(kScheme.size());
  token.remove_prefix(std::min(token.find_first_not_of(' '), token.size()));
  if (token.empty()) return std::nullopt;
  return token;
}

Result<std::string> percent_decode(std::string_view text, bool plus_as_space) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '+' && plus_as_space) {
      out.push_back(' ');
    } else if (c == '%') {
      int hi = i + 2 < text.size() ? hex_value(text[i + 1]) : -1;
      int lo = i + 2 < text.size() ? hex_value(text[i + 2]) : -1;
      if (hi < 0 || lo < 0) return InvalidArgument("malformed percent-encoding");
      char decoded = static_cast<char>(hi * 16 + lo);
      if (decoded == '\0') return InvalidArgument("percent-encoded NUL");
      out.push_back(decoded);
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

Result<Fields> parse_query(std::string_view query) {
  Fields out;
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view piece = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (piece.empty()) continue;
    size_t eq = piece.find('=');
    auto name = percent_decode(piece.substr(0, eq), true);
    if (!name.ok()) return InvalidArgument(name.status().message(), "query");
    auto value = percent_decode(
        eq == std::string_view::npos ? std::string_view() : piece.substr(eq + 1), true);
    if (!value.ok()) return InvalidArgument(value.status().message(), *name);
    out.emplace_back(std::move(*name), std::move(*value));
  }
  return out;
}

Status Request::set_target(std::string_view raw_target) {
  target.assign(raw_target);
  if (raw_target.empty() || raw_target.front() != '/') {
    return InvalidArgument("request target must start with '/'");
  }
  size_t q = raw_target.find('?');
  auto decoded_path = percent_decode(raw_target.substr(0, q), false);
  if (!decoded_path.ok()) return decoded_path.status();
  path = std::move(*decoded_path);
  query_params.clear();
  if (q != std::string_view::npos) {
    auto parsed = parse_query(raw_target.substr(q + 1));
    if (!parsed.ok()) return parsed.status();
    query_params = std::move(*parsed);
  }
  return OkStatus();
}

std::optional<std::string_view> Request::query(std::string_view name) const {
  return find_field(query_params, name, false);
}

std::optional<std::string_view> Request::header(std::string_view name) const {
  return find_field(headers, name, true);
}

std::string_view Request::param(std::string_view name) const {
  return find_field(path_params, name, false).value_or(std::string_view());
}

Response Response::json(int status, std::string body) {
  return bytes(status, std::make_shared<const std::string>(std::move(body)), "application/json");
}

Response Response::bytes(int status, std::shared_ptr<const std::string> body,
                         std::string content_type) {
  Response r;
  r.status = status;
  r.body = body ? std::move(body) : std::make_shared<const std::string>();
  r.headers.emplace_back("Content-Type", std::move(content_type));
  return r;
}

Response Response::empty(int status) {
  Response r;
  r.status = status;
  r.body = std::make_shared<const std::string>();
  return r;
}

void Response::set_header(std::string_view name, std::string value) {
  std::erase_if(headers, [&](const auto& field) { return iequals(field.first, name); });
  headers.emplace_back(std::string(name), std::move(value));
}

std::optional<std::string_view> Response::header(std::string_view name) const {
  return find_field(headers, name, true);
}

}  // namespace tajir::http
