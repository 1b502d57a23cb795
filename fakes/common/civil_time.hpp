// A civil date and time in UTC as a system_clock time point, for the dates clients send (NNTP's
// NEWGROUPS and NEWNEWS, HTTP's If-Modified-Since). One check for all of them: a system_clock
// time point counts nanoseconds in 64 bits, so a year a client may well send (9999) cannot be
// one, and converting it would overflow (undefined behaviour, found by fuzzing).
#pragma once

#include <chrono>
#include <optional>

namespace protofarm {

// The years a system_clock time point holds whole (it spans 1677-09-21 to 2262-04-11).
inline constexpr int kFirstCivilYear = 1678;
inline constexpr int kLastCivilYear = 2261;

// nullopt when the date is not a real one, the time is out of range (second 60, a leap second,
// is taken as the next minute's first), or the year is outside kFirstCivilYear..kLastCivilYear.
inline std::optional<std::chrono::system_clock::time_point> civil_time(int y, unsigned mo,
                                                                       unsigned d, int h, int mi,
                                                                       int s) {
  using namespace std::chrono;
  const year_month_day ymd{year{y}, month{mo}, day{d}};
  if (y < kFirstCivilYear || y > kLastCivilYear || !ymd.ok()) return std::nullopt;
  if (h < 0 || h > 23 || mi < 0 || mi > 59 || s < 0 || s > 60) return std::nullopt;
  return time_point_cast<system_clock::duration>(sys_days{ymd} + hours{h} + minutes{mi} +
                                                 seconds{s});
}

}  // namespace protofarm
