// Customers and employees.
#include "pos/internal/rows.h"
#include "pos/internal/search.h"
#include "pos/pos.h"

namespace tajir::pos {

using internal::Assignments;

namespace {

Status check_text(const std::optional<std::optional<std::string>>& v, const char* field,
                  size_t max) {
  if (v && *v && (*v)->size() > max) {
    return InvalidArgument(
        std::string(field) + " is longer than " + std::to_string(max) + " characters", field);
  }
  return OkStatus();
}

Status check_name(const std::optional<std::string>& name, bool required) {
  if (required && !name) return InvalidArgument("name is required", "name");
  if (name && (name->empty() || name->size() > 200))
    return InvalidArgument("name must be 1 to 200 characters", "name");
  return OkStatus();
}

Status check_customer(const CustomerInput& in, bool create) {
  for (Status st : {check_name(in.name, create), check_text(in.phone, "phone", 50),
                    check_text(in.email, "email", 200), check_text(in.address, "address", 500),
                    check_text(in.notes, "notes", 2000)}) {
    if (!st.ok()) return st;
  }
  if (in.email && *in.email && (*in.email)->find('@') == std::string::npos) {
    return InvalidArgument("email must contain '@'", "email");
  }
  return OkStatus();
}

Result<Customer> find_customer(db::Transaction& tx, int64_t shop_id, int64_t id) {
  return internal::find_in_shop<Customer>(tx, internal::kCustomerColumns, "customers", shop_id, id,
                                          internal::customer_from, "customer");
}

Result<Employee> find_employee(db::Transaction& tx, int64_t shop_id, int64_t id) {
  return internal::find_in_shop<Employee>(tx, internal::kEmployeeColumns, "employees", shop_id, id,
                                          internal::employee_from, "employee");
}

}  // namespace

Result<Page<Customer>> Pos::list_customers(const Principal& p, const std::optional<std::string>& q,
                                           const PageRequest& page) {
  internal::ListQuery list = internal::customer_list(db_.dialect(), p.shop_id, q);
  Page<Customer> out;
  Status st = db_.read([&](db::Transaction& tx) {
    return internal::read_page(tx, internal::kCustomerColumns, list.from_where, list.params,
                               list.order_by, page, internal::customer_from, out);
  });
  if (!st.ok()) return st;
  return out;
}

Result<std::vector<Customer>> Pos::customers_by_ids(const Principal& p,
                                                    const std::vector<int64_t>& ids) {
  return internal::rows_by_ids<Customer>(db_, internal::kCustomerColumns, "customers", p.shop_id,
                                         ids, internal::customer_from);
}

Result<Customer> Pos::customer(const Principal& p, int64_t id) {
  return internal::read_value<Customer>(
      db_, [&](db::Transaction& tx) { return find_customer(tx, p.shop_id, id); });
}

Result<Customer> Pos::create_customer(const Principal& p, const CustomerInput& in) {
  if (Status st = check_customer(in, true); !st.ok()) return st;
  return internal::write_value<Customer>(db_, [&](db::Transaction& tx) -> Result<Customer> {
    int64_t now = now_ms();
    auto rows = tx.query(
        "INSERT INTO customers(shop_id, name, name_lower, phone, email, address, notes, "
        "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING " +
            std::string(internal::kCustomerColumns),
        {p.shop_id, *in.name, internal::ascii_lower(*in.name),
         internal::nullable(in.phone.value_or(std::nullopt)),
         internal::nullable(in.email.value_or(std::nullopt)),
         internal::nullable(in.address.value_or(std::nullopt)),
         internal::nullable(in.notes.value_or(std::nullopt)), now, now});
    if (!rows.ok()) return rows.status();
    return internal::customer_from((*rows)[0]);
  });
}

Result<Customer> Pos::update_customer(const Principal& p, int64_t id, const CustomerInput& in) {
  if (Status st = check_customer(in, false); !st.ok()) return st;
  return internal::write_value<Customer>(db_, [&](db::Transaction& tx) -> Result<Customer> {
    Assignments set;
    set.set_if("name", in.name);
    if (in.name) set.set("name_lower", internal::ascii_lower(*in.name));
    set.set_if("phone", in.phone);
    set.set_if("email", in.email);
    set.set_if("address", in.address);
    set.set_if("notes", in.notes);
    if (set.empty()) return find_customer(tx, p.shop_id, id);  // nothing to change, nor updated_at
    set.set("updated_at", now_ms());
    set.params().push_back(id);
    set.params().push_back(p.shop_id);
    auto r = tx.execute("UPDATE customers SET " + set.sql() + " WHERE id = ? AND shop_id = ?",
                        set.params());
    if (!r.ok()) return r.status();
    if (*r == 0) return NotFound("customer not found");
    return find_customer(tx, p.shop_id, id);
  });
}

Status Pos::delete_customer(const Principal& p, int64_t id) {
  return db_.write([&](db::Transaction& tx) -> Status {
    // Bills keep their customer_id: a deleted customer's history stays in the revenue.
    auto r = tx.execute("DELETE FROM customers WHERE id = ? AND shop_id = ?", {id, p.shop_id});
    if (!r.ok()) return r.status();
    return *r == 0 ? NotFound("customer not found") : OkStatus();
  });
}

Result<Page<Employee>> Pos::list_employees(const Principal& p, const PageRequest& page) {
  Page<Employee> out;
  Status st = db_.read([&](db::Transaction& tx) {
    return internal::read_page(tx, internal::kEmployeeColumns, " FROM employees WHERE shop_id = ?",
                               {p.shop_id}, "id", page, internal::employee_from, out);
  });
  if (!st.ok()) return st;
  return out;
}

Result<Employee> Pos::employee(const Principal& p, int64_t id) {
  return internal::read_value<Employee>(
      db_, [&](db::Transaction& tx) { return find_employee(tx, p.shop_id, id); });
}

Result<Employee> Pos::create_employee(const Principal& p, const EmployeeInput& in) {
  for (Status st : {check_name(in.name, true), check_text(in.phone, "phone", 50),
                    check_text(in.position, "position", 100)}) {
    if (!st.ok()) return st;
  }
  if (in.username.has_value() != in.password.has_value()) {
    return InvalidArgument("username and password go together",
                           in.username ? "password" : "username");
  }
  std::optional<std::string> hash;
  if (in.username) {
    auto h = hash_new_password(*in.username, *in.password);
    if (!h.ok()) return h.status();
    hash = std::move(*h);
  }
  std::optional<Employee> out;
  Status st = db_.write([&](db::Transaction& tx) -> Status {
    int64_t now = now_ms();
    auto rows = tx.query(
        "INSERT INTO employees(shop_id, name, phone, position, username, active, created_at, "
        "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING " +
            std::string(internal::kEmployeeColumns),
        {p.shop_id, *in.name, internal::nullable(in.phone.value_or(std::nullopt)),
         internal::nullable(in.position.value_or(std::nullopt)), internal::nullable(in.username),
         int64_t{in.active.value_or(true) ? 1 : 0}, now, now});
    if (!rows.ok()) return rows.status();
    out = internal::employee_from((*rows)[0]);
    if (in.username) {
      auto u = tx.execute(
          "INSERT INTO users(shop_id, username, password_hash, role, employee_id, active, "
          "created_at) VALUES (?, ?, ?, 'cashier', ?, ?, ?)",
          {p.shop_id, *in.username, *hash, out->id, int64_t{out->active ? 1 : 0}, now});
      if (!u.ok()) {
        if (u.status().code() == StatusCode::kAlreadyExists) {
          return Status(StatusCode::kAlreadyExists, "username is taken").with_field("username");
        }
        return u.status();
      }
    }
    return OkStatus();
  });
  if (!st.ok()) return st;
  return *out;
}

Result<Employee> Pos::update_employee(const Principal& p, int64_t id, const EmployeeInput& in) {
  for (Status st : {check_name(in.name, false), check_text(in.phone, "phone", 50),
                    check_text(in.position, "position", 100)}) {
    if (!st.ok()) return st;
  }
  std::optional<std::string> hash;
  if (in.password) {
    auto h = hash_new_password(in.username.value_or("employee"), *in.password);
    if (!h.ok()) return h.status();
    hash = std::move(*h);
  }
  return internal::write_value<Employee>(db_, [&](db::Transaction& tx) -> Result<Employee> {
    auto current = find_employee(tx, p.shop_id, id);
    if (!current.ok()) return current.status();
    Assignments set;
    set.set_if("name", in.name);
    set.set_if("phone", in.phone);
    set.set_if("position", in.position);
    set.set_if("active", in.active);
    if (set.empty() && !hash) return current;  // nothing to change, nor updated_at
    set.set("updated_at", now_ms());
    set.params().push_back(id);
    set.params().push_back(p.shop_id);
    auto r = tx.execute("UPDATE employees SET " + set.sql() + " WHERE id = ? AND shop_id = ?",
                        set.params());
    if (!r.ok()) return r.status();
    if (in.active) {
      auto u = tx.execute("UPDATE users SET active = ? WHERE employee_id = ?",
                          {int64_t{*in.active ? 1 : 0}, id});
      if (!u.ok()) return u.status();
    }
    if (hash) {
      auto u = tx.execute("UPDATE users SET password_hash = ? WHERE employee_id = ?", {*hash, id});
      if (!u.ok()) return u.status();
    }
    // Deactivated, or a new password: every session of its login ends.
    if ((in.active && !*in.active) || hash) {
      auto s = tx.execute(
          "DELETE FROM sessions WHERE user_id IN (SELECT id FROM users WHERE employee_id = ?)",
          {id});
      if (!s.ok()) return s.status();
    }
    return find_employee(tx, p.shop_id, id);
  });
}

Status Pos::delete_employee(const Principal& p, int64_t id) {
  return db_.write([&](db::Transaction& tx) -> Status {
    auto current = find_employee(tx, p.shop_id, id);
    if (!current.ok()) return current.status();
    for (const char* sql :
         {"DELETE FROM sessions WHERE user_id IN (SELECT id FROM users WHERE employee_id = ?)",
          "DELETE FROM users WHERE employee_id = ?", "DELETE FROM employees WHERE id = ?"}) {
      auto r = tx.execute(sql, {id});
      if (!r.ok()) return r.status();
    }
    return OkStatus();
  });
}

}  // namespace tajir::pos
