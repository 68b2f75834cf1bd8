// date::parse's internals trip g++ 12's -Wmaybe-uninitialized (a false positive inside the
// library's templates, instantiated here).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include <date/date.h>
#include <date/tz.h>

#include <charconv>
#include <chrono>

#include "pos/internal/rows.h"
#include "pos/pos.h"

namespace tajir::pos {

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Written by hand for the years 0000 to 9999: date::format (an ostringstream) took about 5 us a
// call, which every serialised time of every page paid. Other years as date::format writes them.
std::string format_time(int64_t unix_ms) {
  date::sys_seconds t{std::chrono::seconds(unix_ms / 1000 - (unix_ms % 1000 < 0 ? 1 : 0))};
  const auto day = date::floor<date::days>(t);
  const date::year_month_day ymd{day};
  const int year = static_cast<int>(ymd.year());
  if (year < 0 || year > 9999) return date::format("%FT%TZ", t);
  const int64_t s = (t - day).count();
  const int fields[] = {year / 100,
                        year % 100,
                        static_cast<int>(static_cast<unsigned>(ymd.month())),
                        static_cast<int>(static_cast<unsigned>(ymd.day())),
                        static_cast<int>(s / 3600),
                        static_cast<int>(s / 60 % 60),
                        static_cast<int>(s % 60)};
  std::string out = "0000-00-00T00:00:00Z";
  const size_t at[] = {0, 2, 5, 8, 11, 14, 17};
  for (size_t i = 0; i < 7; ++i) {
    out[at[i]] = static_cast<char>('0' + fields[i] / 10);
    out[at[i] + 1] = static_cast<char>('0' + fields[i] % 10);
  }
  return out;
}

bool is_date(std::string_view text) { return text.size() == 10; }

// Read by hand rather than with date::parse, which reads values it failed to parse (an
// uninitialised seconds field on "00:0000", the offset minutes::min() negated on "00:00:00-x"):
// undefined behaviour that fuzz/cache_key.cc found through GET /api/bills?from=.
std::optional<int64_t> parse_time(std::string_view text) {
  size_t at = 0;
  // The next `width` characters as a decimal number, then `sep` (if any); -1 when they are not.
  auto number = [&](size_t width, char sep = 0) -> int {
    int v = 0;
    for (size_t end = at + width; at < end; ++at) {
      if (at >= text.size() || text[at] < '0' || text[at] > '9') return -1;
      v = v * 10 + (text[at] - '0');
    }
    if (sep != 0 && (at >= text.size() || text[at++] != sep)) return -1;
    return v;
  };
  int y = number(4, '-'), mo = number(2, '-'), d = number(2);
  if (y < 0 || mo < 0 || d < 0) return std::nullopt;
  date::year_month_day ymd{date::year(y), date::month(static_cast<unsigned>(mo)),
                           date::day(static_cast<unsigned>(d))};
  if (!ymd.ok()) return std::nullopt;
  int64_t ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(date::sys_days(ymd).time_since_epoch())
          .count();
  if (at == text.size()) return ms;  // a date alone
  if (text[at++] != 'T') return std::nullopt;
  int h = number(2, ':'), mi = number(2, ':'), sec = number(2);
  if (h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 59) return std::nullopt;
  ms += ((h * 60 + mi) * 60 + sec) * int64_t{1000};
  if (at < text.size() && text[at] == '.') {  // 1 to 3 digits of a second
    ++at;
    int digits = 0, frac = 0;
    for (; at < text.size() && text[at] >= '0' && text[at] <= '9' && digits < 4; ++at, ++digits)
      frac = frac * 10 + (text[at] - '0');
    if (digits == 0 || digits > 3) return std::nullopt;
    for (; digits < 3; ++digits) frac *= 10;
    ms += frac;
  }
  if (at + 1 == text.size() && (text[at] == 'Z' || text[at] == 'z')) return ms;
  // RFC 3339's +hh:mm or -hh:mm.
  if (at + 6 != text.size() || (text[at] != '+' && text[at] != '-')) return std::nullopt;
  int64_t sign = text[at++] == '-' ? -1 : 1;
  int oh = number(2, ':'), om = number(2);
  if (oh < 0 || oh > 23 || om < 0 || om > 59) return std::nullopt;
  return ms - sign * (oh * 60 + om) * int64_t{60'000};
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

int64_t utc_offset_ms(std::string_view timezone, int64_t at_ms) {
  auto at = date::sys_time<std::chrono::milliseconds>(std::chrono::milliseconds(at_ms));
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             zone_of(timezone)->get_info(at).offset)
      .count();
}

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
