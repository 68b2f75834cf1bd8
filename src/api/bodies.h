// Request bodies: each write's JSON body read into the POS layer's input type, every field
// checked (type, length, range) and the first problem answered as a 400 naming the field.
// What the POS layer checks itself (rules that need the database) is not repeated here.
#pragma once

#include <string>

#include "http/http.h"
#include "pos/pos.h"
#include "util/status.h"

namespace tajir::api {

struct Credentials {
  std::string username, password;
};
// {"username", "password"}: both required.
Result<Credentials> credentials_input(const http::Request& req);
// {"shop_name", "username", "password"}: all required.
Result<std::pair<std::string, Credentials>> registration_input(const http::Request& req);

Result<pos::ShopInput> shop_input(const http::Request& req);
Result<pos::ProductInput> product_input(const http::Request& req);
Result<pos::CustomerInput> customer_input(const http::Request& req);
Result<pos::EmployeeInput> employee_input(const http::Request& req);
Result<pos::BillInput> bill_input(const http::Request& req);

}  // namespace tajir::api
