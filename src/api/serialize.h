// The JSON shape of every resource, each written once (API.md is the contract).
#pragma once

#include <nlohmann/json.hpp>

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
