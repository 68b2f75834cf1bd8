// Reading and checking what a client sent: JSON bodies and path ids.
//
// Input collects the first problem instead of failing at once, so a handler reads every field
// in a row and checks once:
//
//   auto in = Input::parse(req.body);            // 400 unless a JSON object
//   if (!in.ok()) return in.status();
//   ProductInput p{.name = in->text("name", 200), .price = in->integer("price", 0, kMaxMoney)};
//   if (Status st = in->status(); !st.ok()) return st;   // 400, with the field named
//
// Absent fields read as nullopt; present fields of the wrong type, out of range, or (for
// nullable_text) JSON null where it is allowed, are told apart. Unknown fields are ignored.
//
// The body is one JSON value and nothing else but white space: a NUL byte anywhere answers 400
// (the JSON parser would take it for the end of the input and ignore what follows). Text is
// UTF-8 (the parser checks it) and holds no control characters (C0, DEL, C1), but as its Text
// kind allows: a name must also hold something other than white space; free text over lines
// (addresses, notes) may hold newlines, carriage returns and tabs; a secret (a password) is
// only counted. Text is stored as sent: nothing is trimmed.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "util/status.h"

namespace tajir::api {

inline constexpr int64_t kMaxMoney = 1'000'000'000'000;  // minor units

// What a text field may hold (see above).
enum class Text {
  kLine,    // one line: no control characters (sku, phone, email, currency, ...)
  kName,    // a line that is not blank (product, customer, employee and shop names)
  kLines,   // free text: newlines, carriage returns and tabs too (address, notes)
  kSecret,  // anything (passwords)
};

class Input {
 public:
  static Result<Input> parse(std::string_view body);

  std::optional<std::string> text(const char* field, size_t max_len = 10'000,
                                  Text kind = Text::kLine);
  // Absent: nullopt; null: a present nullopt; a string: the string.
  std::optional<std::optional<std::string>> nullable_text(const char* field,
                                                          size_t max_len = 10'000,
                                                          Text kind = Text::kLine);
  std::optional<int64_t> integer(const char* field, int64_t min, int64_t max);
  std::optional<bool> boolean(const char* field);
  // The raw member, nullptr when absent.
  const nlohmann::json* member(const char* field) const;
  const nlohmann::json& object() const { return json_; }

  // Records a problem found by the caller (the first one wins).
  void fail(Status st);
  // OK, or the first problem found.
  const Status& status() const { return status_; }

 private:
  explicit Input(nlohmann::json j) : json_(std::move(j)) {}
  nlohmann::json json_;
  Status status_;
};

// Checks a JSON value as an integer in [min, max]; `field` names it in the error.
Result<int64_t> integer_value(const nlohmann::json& v, const std::string& field, int64_t min,
                              int64_t max);

// A path or query id: a positive integer. (Query parameters are read with api/query.h.)
Result<int64_t> parse_id(std::string_view text, const char* field = "id");

}  // namespace tajir::api
