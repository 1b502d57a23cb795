#include "fakes/common/civil_time.hpp"

#include <gtest/gtest.h>

#include <chrono>

namespace protofarm {
namespace {

using namespace std::chrono;

system_clock::time_point at(int y, unsigned mo, unsigned d, int h, int mi, int s) {
  return *civil_time(y, mo, d, h, mi, s);
}

TEST(CivilTime, RefusesDatesThatAreNotRealAndYearsATimePointCannotHold) {
  EXPECT_EQ(civil_time(2026, 3, 1, 12, 0, 0)->time_since_epoch(), seconds(1772366400));
  EXPECT_FALSE(civil_time(2026, 2, 29, 0, 0, 0));
  EXPECT_FALSE(civil_time(2026, 13, 1, 0, 0, 0));
  EXPECT_FALSE(civil_time(2026, 1, 1, 24, 0, 0));
  EXPECT_FALSE(civil_time(4050, 1, 1, 0, 0, 0));
  EXPECT_FALSE(civil_time(1600, 1, 1, 0, 0, 0));
  EXPECT_EQ(civil_time(2026, 1, 1, 23, 59, 60), at(2026, 1, 2, 0, 0, 0));  // a leap second
}

TEST(ParseRfc3339, TakesTheFormsOfRfc3339) {
  const auto noon = at(2026, 3, 1, 12, 0, 0);
  EXPECT_EQ(parse_rfc3339("2026-03-01T12:00:00Z"), noon);
  EXPECT_EQ(parse_rfc3339("2026-03-01t12:00:00z"), noon);
  EXPECT_EQ(parse_rfc3339("2026-03-01 12:00:00"), noon);  // no zone: UTC
  EXPECT_EQ(parse_rfc3339("2026-03-01T13:30:00+01:30"), noon);
  EXPECT_EQ(parse_rfc3339("2026-03-01T07:00:00-05:00"), noon);
  EXPECT_EQ(parse_rfc3339("2026-03-01T12:00:00.25Z"), noon + milliseconds(250));
  EXPECT_EQ(parse_rfc3339("2026-03-01T12:00:00.123456789Z"), noon + microseconds(123456));
}

TEST(ParseRfc3339, RefusesEverythingElse) {
  for (const char* bad :
       {"", "2026-03-01", "2026-3-01T12:00:00Z", "2026-03-01X12:00:00Z", "2026-03-01T12:00Z",
        "2026-03-01T12:00:00ZZ", "2026-03-01T12:00:00.Z", "2026-03-01T12:00:00+0100",
        "2026-03-01T12:00:00+24:00", "2026-02-30T12:00:00Z", "2026-03-01T25:00:00Z",
        "+2026-03-01T12:00:00Z", "2026-03-01T12:00:00 ", "4050-01-01T00:00:00Z"})
    EXPECT_FALSE(parse_rfc3339(bad)) << bad;
}

TEST(ParseRfc3339, ClampsFarYearsWhenAsked) {
  EXPECT_EQ(parse_rfc3339("2999-01-01T00:00:00Z", true), system_clock::time_point::max());
  EXPECT_EQ(parse_rfc3339("1000-01-01T00:00:00Z", true), system_clock::time_point::min());
  EXPECT_FALSE(parse_rfc3339("2999-02-30T00:00:00Z", true));
  EXPECT_EQ(parse_rfc3339("2026-03-01T12:00:00Z", true), at(2026, 3, 1, 12, 0, 0));
}

}  // namespace
}  // namespace protofarm
