// The currencies a shop may price in: the active codes of ISO 4217 (List One).
#pragma once

#include <string_view>

namespace tajir::pos {

// Whether `code` is an active ISO 4217 alphabetic code ("USD", "AED"); case-sensitive, as the
// standard writes them.
bool is_currency_code(std::string_view code);

}  // namespace tajir::pos
