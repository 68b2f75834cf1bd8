#include <date/date.h>
#include <gtest/gtest.h>

#include "pos/pos.h"

namespace tajir::pos {
namespace {

constexpr int64_t kNov23 = 1'795'392'000'000;  // 2026-11-23T00:00:00Z

TEST(ParseTime, ReadsRfc3339WithZOrAnOffsetAndDates) {
  EXPECT_EQ(parse_time("2026-11-23"), kNov23);
  EXPECT_EQ(parse_time("2026-11-23T00:00:00Z"), kNov23);
  EXPECT_EQ(parse_time("2026-11-23T10:15:00z"), kNov23 + (10 * 60 + 15) * 60'000);
  EXPECT_EQ(parse_time("2026-11-23T04:00:00+04:00"), kNov23);
  EXPECT_EQ(parse_time("2026-11-22T20:30:00-03:30"), kNov23);
  EXPECT_EQ(parse_time("2026-11-23T00:00:00.250+00:00"), kNov23 + 250);
}

// Found by fuzz/cache_key.cc (GET /api/bills?from=...), its inputs: date::parse negated an
// offset it had failed to read (minutes::min(): a signed overflow) and converted seconds it had
// not read (an uninitialised long double); UBSan stops `make test-sanitize` on either.
TEST(ParseTime, AMalformedOffsetIsRefusedWithoutUndefinedBehaviour) {
  for (const char* bad : {"2026-02-01T00:00:00-cs",
                          "2026-02-01T00:00:00-cs-05:00",
                          "2026-02-01T00:00:00+",
                          "2026-02-01T00:00:00-",
                          "2026-02-01T00:00:00+24:00",
                          "2026-02-01T00:00:00+01:60",
                          "2026-02-01T00:00:00+0100",
                          "2026-02-01T00:00:00",
                          "noon",
                          "",
                          "+01:00",
                          "2026-02-01T00:00:00Z+01:00",
                          "2026-01-01T00:0000Z",
                          "2026-01-01T00:00:00.2505Z",
                          "2026-01-01T00:00:00.Z",
                          "2026-02-30",
                          "2026-13-01T00:00:00Z",
                          "2026-01-01T24:00:00Z",
                          "2026-01-01t00:00:00Z",
                          "2026-1-01",
                          "2026-01-01T00:00:00+01:00x"}) {
    EXPECT_EQ(parse_time(bad), std::nullopt) << bad;
  }
}

TEST(FormatTime, WritesRfc3339InUtcToTheSecondAndReadsBack) {
  EXPECT_EQ(format_time(kNov23), "2026-11-23T00:00:00Z");
  EXPECT_EQ(format_time(kNov23 + (10 * 60 + 15) * 60'000 + 7'999), "2026-11-23T10:15:07Z");
  EXPECT_EQ(format_time(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(format_time(-1), "1969-12-31T23:59:59Z");
  EXPECT_EQ(format_time(951'782'400'000), "2000-02-29T00:00:00Z");
  EXPECT_EQ(format_time(253'402'300'799'000), "9999-12-31T23:59:59Z");
  EXPECT_EQ(format_time(-62'167'219'200'000), "0000-01-01T00:00:00Z");
  for (int64_t ms = -62'167'219'200'000; ms < 253'402'300'800'000; ms += 7'777'777'777) {
    const date::sys_seconds t{std::chrono::seconds(ms / 1000 - (ms % 1000 < 0 ? 1 : 0))};
    EXPECT_EQ(format_time(ms), date::format("%FT%TZ", t));  // what it was written with before
    auto back = parse_time(format_time(ms));
    ASSERT_TRUE(back.has_value()) << format_time(ms);
    EXPECT_EQ(*back, ms - ((ms % 1000) + 1000) % 1000) << format_time(ms);
  }
}

TEST(UtcOffset, FollowsTheZoneAndItsDaylightSaving) {
  const int64_t winter = *parse_time("2026-01-15T12:00:00Z");
  const int64_t summer = *parse_time("2026-07-15T12:00:00Z");
  EXPECT_EQ(utc_offset_ms("Europe/Berlin", winter), 3'600'000);
  EXPECT_EQ(utc_offset_ms("Europe/Berlin", summer), 7'200'000);
  EXPECT_EQ(utc_offset_ms("Asia/Karachi", summer), 5 * 3'600'000);
  EXPECT_EQ(utc_offset_ms("America/New_York", winter), -5 * 3'600'000);
  EXPECT_EQ(utc_offset_ms("No/Such_Zone", winter), 0);
}

}  // namespace
}  // namespace tajir::pos
