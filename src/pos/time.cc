// date::parse's internals trip g++ 12's -Wmaybe-uninitialized (a false positive inside the
// library's templates, instantiated here).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include <date/date.h>
#include <date/tz.h>

#include <charconv>
#include <chrono>
#include <sstream>

#include "pos/internal/rows.h"
#include "pos/pos.h"

namespace tajir::pos {

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string format_time(int64_t unix_ms) {
  date::sys_seconds t{std::chrono::seconds(unix_ms / 1000 - (unix_ms % 1000 < 0 ? 1 : 0))};
  return date::format("%FT%TZ", t);
}

bool is_date(std::string_view text) { return text.size() == 10; }

std::optional<int64_t> parse_time(std::string_view text) {
  std::string s(text);
  std::istringstream in(s);
  date::sys_time<std::chrono::milliseconds> t;
  if (is_date(s)) {
    date::sys_days d;
    in >> date::parse("%F", d);
    if (in.fail() || in.peek() != EOF) return std::nullopt;
    return std::chrono::duration_cast<std::chrono::milliseconds>(d.time_since_epoch()).count();
  }
  // %FT%T accepts fractional seconds; %Ez accepts +hh:mm; a trailing Z is UTC.
  if (!s.empty() && (s.back() == 'Z' || s.back() == 'z')) {
    s.pop_back();
    in.str(s);
    in >> date::parse("%FT%T", t);
  } else {
    in >> date::parse("%FT%T%Ez", t);
  }
  if (in.fail() || in.peek() != EOF) return std::nullopt;
  return t.time_since_epoch().count();
}

bool valid_timezone(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  try {
    return date::locate_zone(name) != nullptr;
  } catch (const std::exception&) {
    return false;
  }
}

namespace {

// The shop's zone; UTC for a name this machine does not know.
const date::time_zone* zone_of(std::string_view timezone) {
  try {
    return date::locate_zone(timezone);
  } catch (const std::exception&) {
    return date::locate_zone("UTC");
  }
}

// The first instant of local day `d` (where midnight is skipped, the instant it jumps to).
int64_t start_of(const date::time_zone* zone, date::local_days d) {
  auto sys = zone->to_sys(date::local_seconds(d), date::choose::earliest);
  return std::chrono::duration_cast<std::chrono::milliseconds>(sys.time_since_epoch()).count();
}

}  // namespace

namespace internal {

int64_t local_midnight(std::string_view timezone, int64_t utc_midnight_ms) {
  auto day = date::floor<date::days>(
      date::sys_time<std::chrono::milliseconds>(std::chrono::milliseconds(utc_midnight_ms)));
  return start_of(zone_of(timezone), date::local_days(day.time_since_epoch()));
}

Boundaries local_boundaries(std::string_view timezone, int64_t now) {
  const date::time_zone* zone = zone_of(timezone);
  auto sys_now = date::sys_time<std::chrono::milliseconds>(std::chrono::milliseconds(now));
  auto local = zone->to_local(sys_now);
  auto local_day = date::floor<date::days>(local);
  date::year_month_day ymd{local_day};
  date::weekday wd{local_day};
  auto week_start = local_day - (wd - date::Monday);
  auto month_start = date::local_days{ymd.year() / ymd.month() / 1};
  auto to_ms = [&](date::local_days d) { return start_of(zone, d); };
  return {to_ms(local_day), to_ms(week_start), to_ms(month_start),
          to_ms(local_day + date::days(1))};
}

}  // namespace internal
}  // namespace tajir::pos
