// The JSON shape of every resource, each written once (API.md is the contract).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>

#include "pos/pos.h"
#include "pos/types.h"

namespace tajir::api {

nlohmann::json to_json(const pos::Shop& s);
nlohmann::json to_json(const pos::User& u);
nlohmann::json to_json(const pos::Product& p);
nlohmann::json to_json(const pos::Customer& c);
nlohmann::json to_json(const pos::Employee& e);
nlohmann::json to_json(const pos::Bill& b);  // with its items
nlohmann::json to_json(const pos::Dashboard& d);
nlohmann::json to_json(const pos::AuthResult& a);

// The inverses, for cached bytes a write brings up to date (api/maintained.h): nullopt when the
// body is not of that shape. Times come back to the second, as to_json wrote them; check that
// to_json of the result gives the same bytes before relying on it.
std::optional<pos::Dashboard> dashboard_from_json(std::string_view body);
std::optional<pos::Page<pos::Bill>> bill_page_from_json(std::string_view body);
// What a cached dashboard keeps aside of what its JSON does not show (top_more, top_ceiling,
// top_gains: cache::Version::aside), and reading it back into `d`; false when it is not of that
// shape.
std::string dashboard_aside(const pos::Dashboard& d);
bool read_dashboard_aside(std::string_view aside, pos::Dashboard& d);

template <typename T>
nlohmann::json to_json(const pos::Page<T>& page) {
  nlohmann::json items = nlohmann::json::array();
  for (const auto& item : page.items) items.push_back(to_json(item));
  return {{"items", std::move(items)},
          {"page", page.page},
          {"per_page", page.per_page},
          {"total", page.total}};
}

}  // namespace tajir::api
