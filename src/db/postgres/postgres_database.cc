#include "db/postgres/postgres_database.h"

#include <libpq-fe.h>

#include <atomic>
#include <charconv>
#include <cstdlib>
#include <unordered_map>
#include <utility>
#include <vector>

#include "db/internal/backend.h"

namespace tajir::db {
namespace {

// Type OIDs of pg_type (server/catalog/pg_type_d.h is not part of libpq-dev).
constexpr Oid kBoolOid = 16;
constexpr Oid kInt8Oid = 20;
constexpr Oid kInt2Oid = 21;
constexpr Oid kInt4Oid = 23;
constexpr Oid kFloat4Oid = 700;
constexpr Oid kFloat8Oid = 701;
constexpr Oid kNumericOid = 1700;

constexpr int kMaxWriteAttempts = 5;

bool is_identifier_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         static_cast<unsigned char>(c) >= 0x80;
}

// If sql[i] opens a string, a quoted identifier, a dollar quote or a comment, the index just
// past its end (or sql.size() when it never ends); otherwise i.
size_t skip_quoted(std::string_view sql, size_t i) {
  const size_t n = sql.size();
  const char c = sql[i];
  const char next = i + 1 < n ? sql[i + 1] : '\0';
  if (c == '\'') {
    // E'...' strings take backslash escapes; in the others '' is the only escape, which the
    // loop reads as the end of one string and the start of the next.
    bool escapes = i > 0 && (sql[i - 1] == 'E' || sql[i - 1] == 'e') &&
                   (i < 2 || !is_identifier_char(sql[i - 2]));
    for (size_t j = i + 1; j < n; ++j) {
      if (escapes && sql[j] == '\\') {
        ++j;
      } else if (sql[j] == '\'') {
        return j + 1;
      }
    }
    return n;
  }
  if (c == '"') {
    size_t end = sql.find('"', i + 1);
    return end == std::string_view::npos ? n : end + 1;
  }
  if (c == '-' && next == '-') {
    size_t end = sql.find('\n', i);
    return end == std::string_view::npos ? n : end + 1;
  }
  if (c == '/' && next == '*') {  // block comments nest in PostgreSQL
    int depth = 0;
    for (size_t j = i; j + 1 < n; ++j) {
      if (sql[j] == '/' && sql[j + 1] == '*') {
        ++depth;
        ++j;
      } else if (sql[j] == '*' && sql[j + 1] == '/') {
        ++j;
        if (--depth == 0) return j + 1;
      }
    }
    return n;
  }
  if (c == '$' && (i == 0 || !is_identifier_char(sql[i - 1])) && !(next >= '0' && next <= '9')) {
    size_t j = i + 1;
    while (j < n && is_identifier_char(sql[j]) && sql[j] != '$') ++j;
    if (j < n && sql[j] == '$') {
      std::string_view tag = sql.substr(i, j - i + 1);
      size_t end = sql.find(tag, j + 1);
      return end == std::string_view::npos ? n : end + tag.size();
    }
  }
  return i;
}

Value column_value(const PGresult* res, int row, int column) {
  if (PQgetisnull(res, row, column)) return std::monostate{};
  std::string_view text(PQgetvalue(res, row, column), PQgetlength(res, row, column));
  switch (PQftype(res, column)) {
    case kInt2Oid:
    case kInt4Oid:
    case kInt8Oid: {
      int64_t n = 0;
      std::from_chars(text.data(), text.data() + text.size(), n);
      return n;
    }
    case kBoolOid:
      return int64_t{text == "t" ? 1 : 0};
    case kFloat4Oid:
    case kFloat8Oid:
    case kNumericOid:
      // strtod, unlike from_chars, reads PostgreSQL's "Infinity" and "-Infinity".
      return std::strtod(std::string(text).c_str(), nullptr);
    default:
      return std::string(text);
  }
}

int64_t command_count(const PGresult* res) {
  int64_t n = 0;
  std::string_view text = PQcmdTuples(const_cast<PGresult*>(res));
  std::from_chars(text.data(), text.data() + text.size(), n);
  return n;
}

using ResultPtr = std::unique_ptr<PGresult, decltype(&PQclear)>;

// The connection parameters from the URL, with tajir's defaults for those it leaves out.
struct ConnectParams {
  std::vector<std::string> keys;
  std::vector<std::string> values;
  std::string description;  // postgresql://host:port/db, without user or password
};

Result<ConnectParams> parse_url(std::string_view url, const Options& options) {
  char* error = nullptr;
  PQconninfoOption* parsed = PQconninfoParse(std::string(url).c_str(), &error);
  if (parsed == nullptr) {
    std::string message = error != nullptr ? error : "out of memory";
    PQfreemem(error);
    while (!message.empty() && message.back() == '\n') message.pop_back();
    return Status(StatusCode::kInvalidArgument, "bad postgresql URL: " + message);
  }
  ConnectParams params;
  std::string host, port, dbname, user;
  for (PQconninfoOption* o = parsed; o->keyword != nullptr; ++o) {
    if (o->val == nullptr) continue;
    params.keys.emplace_back(o->keyword);
    params.values.emplace_back(o->val);
    std::string_view key = o->keyword;
    if (key == "host") host = o->val;
    if (key == "port") port = o->val;
    if (key == "dbname") dbname = o->val;
    if (key == "user") user = o->val;
  }
  PQconninfoFree(parsed);
  auto set_default = [&](std::string key, std::string value) {
    for (const std::string& k : params.keys) {
      if (k == key) return;
    }
    params.keys.push_back(std::move(key));
    params.values.push_back(std::move(value));
  };
  auto seconds = std::chrono::ceil<std::chrono::seconds>(options.busy_timeout).count();
  set_default("connect_timeout", std::to_string(std::max<int64_t>(2, seconds)));
  set_default("application_name", "tajir");
  params.description = "postgresql://" + (host.empty() ? std::string("localhost") : host) + ":" +
                       (port.empty() ? std::string("5432") : port) + "/" +
                       (dbname.empty() ? user : dbname);
  return params;
}

class PostgresConnection final : public internal::Connection {
 public:
  static Result<std::unique_ptr<internal::Connection>> connect(const ConnectParams& params);

  explicit PostgresConnection(PGconn* conn) : conn_(conn) {}
  ~PostgresConnection() override { PQfinish(conn_); }

  Status run(std::string_view sql, std::span<const Value> params, Rows* rows,
             int64_t* changed) override;
  Status run_control(std::string_view sql) override;
  bool healthy() const override { return !broken_ && PQstatus(conn_) == CONNECTION_OK; }

 private:
  struct Prepared {
    std::string name;
    int params;
  };

  Result<const Prepared*> prepare(std::string_view sql);
  // The Status of a failed command; marks the connection broken when it is lost.
  Status error(const PGresult* res, std::string_view sql);

  PGconn* const conn_;
  bool broken_ = false;
  std::unordered_map<std::string, Prepared, internal::SqlHash, std::equal_to<>> prepared_;
};

Result<std::unique_ptr<internal::Connection>> PostgresConnection::connect(
    const ConnectParams& params) {
  std::vector<const char*> keys, values;
  for (size_t i = 0; i < params.keys.size(); ++i) {
    keys.push_back(params.keys[i].c_str());
    values.push_back(params.values[i].c_str());
  }
  keys.push_back(nullptr);
  values.push_back(nullptr);
  PGconn* conn = PQconnectdbParams(keys.data(), values.data(), /*expand_dbname=*/0);
  if (conn == nullptr) return Status(StatusCode::kUnavailable, "libpq: out of memory");
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string message = PQerrorMessage(conn);
    PQfinish(conn);
    while (!message.empty() && message.back() == '\n') message.pop_back();
    return Status(StatusCode::kUnavailable,
                  "cannot connect to " + params.description + ": " + message)
        .with_reason("database_unavailable");
  }
  // libpq prints notices ("relation ... already exists, skipping") to stderr; nothing here
  // acts on them.
  PQsetNoticeProcessor(
      conn, [](void*, const char*) {}, nullptr);
  return std::unique_ptr<internal::Connection>(std::make_unique<PostgresConnection>(conn));
}

Status PostgresConnection::error(const PGresult* res, std::string_view sql) {
  const char* field = res != nullptr ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
  std::string_view state = field != nullptr ? field : "";
  std::string message = res != nullptr ? PQresultErrorMessage(res) : PQerrorMessage(conn_);
  while (!message.empty() && message.back() == '\n') message.pop_back();
  if (!sql.empty()) message += " [" + std::string(sql) + "]";
  if (PQstatus(conn_) != CONNECTION_OK || state.starts_with("08") || state.starts_with("57P") ||
      (state.empty() && res == nullptr)) {
    broken_ = true;
    return Status(StatusCode::kUnavailable, message).with_reason("database_unavailable");
  }
  // disk_full (53100; 53xxx are the server's other resources), read_only_sql_transaction (a
  // standby, or default_transaction_read_only).
  if (state == "53100") {
    return Status(StatusCode::kUnavailable, message).with_reason("storage_full");
  }
  if (state.starts_with("53")) return Status(StatusCode::kUnavailable, message);
  if (state == "25006") {
    return Status(StatusCode::kUnavailable, message).with_reason("database_read_only");
  }
  if (state == "23505") {
    const char* constraint = PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME);
    if (constraint != nullptr) message += " (constraint " + std::string(constraint) + ")";
    return Status(StatusCode::kAlreadyExists, message);
  }
  if (state.starts_with("23")) return Status(StatusCode::kFailedPrecondition, message);
  if (state == "40001" || state == "40P01") return Status(StatusCode::kAborted, message);
  return Status(StatusCode::kInternal, message);
}

Result<const PostgresConnection::Prepared*> PostgresConnection::prepare(std::string_view sql) {
  if (auto it = prepared_.find(sql); it != prepared_.end()) return &it->second;
  Prepared prepared{"tajir_" + std::to_string(prepared_.size() + 1), 0};
  std::string numbered = number_placeholders(sql, &prepared.params);
  ResultPtr res(PQprepare(conn_, prepared.name.c_str(), numbered.c_str(), 0, nullptr), PQclear);
  if (PQresultStatus(res.get()) != PGRES_COMMAND_OK) return error(res.get(), sql);
  return &prepared_.emplace(std::string(sql), std::move(prepared)).first->second;
}

Status PostgresConnection::run(std::string_view sql, std::span<const Value> params, Rows* rows,
                               int64_t* changed) {
  auto prepared = prepare(sql);
  if (!prepared.ok()) return prepared.status();
  if (static_cast<size_t>((*prepared)->params) != params.size()) {
    return Status(StatusCode::kInvalidArgument,
                  "statement has " + std::to_string((*prepared)->params) + " placeholders, given " +
                      std::to_string(params.size()) + " values [" + std::string(sql) + "]");
  }
  std::vector<std::string> texts(params.size());
  std::vector<const char*> values(params.size(), nullptr);
  for (size_t i = 0; i < params.size(); ++i) {
    const Value& v = params[i];
    if (auto* n = std::get_if<int64_t>(&v)) {
      texts[i] = std::to_string(*n);
    } else if (auto* d = std::get_if<double>(&v)) {
      texts[i] = internal::format_double(*d);
    } else if (auto* s = std::get_if<std::string>(&v)) {
      values[i] = s->c_str();
      continue;
    } else {
      continue;  // NULL
    }
    values[i] = texts[i].c_str();
  }
  ResultPtr res(PQexecPrepared(conn_, (*prepared)->name.c_str(), static_cast<int>(params.size()),
                               values.data(), nullptr, nullptr, /*resultFormat=*/0),
                PQclear);
  ExecStatusType status = PQresultStatus(res.get());
  if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) return error(res.get(), sql);
  if (changed != nullptr) *changed = command_count(res.get());
  if (rows != nullptr && status == PGRES_TUPLES_OK) {
    const int n = PQntuples(res.get());
    const int columns = PQnfields(res.get());
    rows->reserve(rows->size() + n);
    for (int r = 0; r < n; ++r) {
      std::vector<Value> row;
      row.reserve(columns);
      for (int c = 0; c < columns; ++c) row.push_back(column_value(res.get(), r, c));
      rows->emplace_back(std::move(row));
    }
  }
  return OkStatus();
}

Status PostgresConnection::run_control(std::string_view sql) {
  ResultPtr res(PQexec(conn_, std::string(sql).c_str()), PQclear);
  ExecStatusType status = PQresultStatus(res.get());
  if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) return error(res.get(), sql);
  return OkStatus();
}

class PostgresDatabase final : public Database {
 public:
  PostgresDatabase(ConnectParams params, const Options& options,
                   std::unique_ptr<internal::Connection> first)
      : params_(std::move(params)),
        pool_(options.pool_size > 0 ? options.pool_size : internal::default_pool_size(),
              options.busy_timeout, [this] { return PostgresConnection::connect(params_); }) {
    pool_.add(std::move(first));
  }

  Dialect dialect() const override { return Dialect::kPostgres; }

  Status read(const std::function<Status(Transaction&)>& fn) override {
    return internal::run_transaction(
        pool_, {.begin = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"}, &statements_, fn);
  }

  Status write(const std::function<Status(Transaction&)>& fn) override {
    return internal::run_transaction(
        pool_, {.begin = "BEGIN ISOLATION LEVEL READ COMMITTED", .max_attempts = kMaxWriteAttempts},
        &statements_, fn);
  }

  Status ping() override { return internal::ping(pool_); }
  uint64_t statements() const override { return statements_.load(std::memory_order_relaxed); }
  std::string describe() const override { return params_.description; }

 private:
  const ConnectParams params_;
  internal::ConnectionPool pool_;
  std::atomic<uint64_t> statements_{0};
};

}  // namespace

std::string number_placeholders(std::string_view sql, int* count) {
  std::string out;
  out.reserve(sql.size() + 16);
  int n = 0;
  for (size_t i = 0; i < sql.size();) {
    if (sql[i] == '?') {
      out += '$';
      out += std::to_string(++n);
      ++i;
      continue;
    }
    size_t end = skip_quoted(sql, i);
    if (end == i) end = i + 1;
    out.append(sql.substr(i, end - i));
    i = end;
  }
  *count = n;
  return out;
}

Result<std::unique_ptr<Database>> open_postgres(std::string_view url, const Options& options) {
  auto params = parse_url(url, options);
  if (!params.ok()) return params.status();
  auto first = PostgresConnection::connect(*params);
  if (!first.ok()) return first.status();
  return std::unique_ptr<Database>(
      std::make_unique<PostgresDatabase>(std::move(*params), options, std::move(*first)));
}

}  // namespace tajir::db
