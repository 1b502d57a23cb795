// A civil date and time in UTC as a system_clock time point, for the dates clients send (NNTP's
// NEWGROUPS and NEWNEWS, HTTP's If-Modified-Since). One check for all of them: a system_clock
// time point counts nanoseconds in 64 bits, so a year a client may well send (9999) cannot be
// one, and converting it would overflow (undefined behaviour, found by fuzzing).
#pragma once

#include <cctype>
#include <chrono>
#include <optional>
#include <string_view>

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

// An RFC 3339 date-time, the one form every timestamp of a scenario or a query takes:
// YYYY-MM-DD, then T (or t, or a space), HH:MM:SS, an optional fraction (.123, kept to the
// microsecond), and an optional zone: Z (or z) or +HH:MM / -HH:MM; without one it is UTC.
// Nothing may follow. A year outside kFirstCivilYear..kLastCivilYear is refused, or, with
// `clamp`, gives the earliest or latest time point (a query's "since 2999" means "nothing yet").
inline std::optional<std::chrono::system_clock::time_point> parse_rfc3339(std::string_view s,
                                                                          bool clamp = false) {
  using namespace std::chrono;
  std::size_t pos = 0;
  const auto number = [&](std::size_t digits) -> std::optional<int> {
    if (pos + digits > s.size()) return std::nullopt;
    int n = 0;
    for (std::size_t i = 0; i < digits; ++i) {
      const char c = s[pos + i];
      if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
      n = n * 10 + (c - '0');
    }
    pos += digits;
    return n;
  };
  const auto skip = [&](std::string_view any_of) {
    if (pos >= s.size() || any_of.find(s[pos]) == std::string_view::npos) return false;
    ++pos;
    return true;
  };
  const auto y = number(4);
  if (!y || !skip("-")) return std::nullopt;
  const auto mo = number(2);
  if (!mo || !skip("-")) return std::nullopt;
  const auto d = number(2);
  if (!d || !skip("Tt ")) return std::nullopt;
  const auto h = number(2);
  if (!h || !skip(":")) return std::nullopt;
  const auto mi = number(2);
  if (!mi || !skip(":")) return std::nullopt;
  const auto sec = number(2);
  if (!sec) return std::nullopt;
  microseconds fraction{0};
  if (skip(".")) {
    const std::size_t start = pos;
    std::int64_t micros = 0, scale = 100000;
    for (; pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos])); ++pos, scale /= 10)
      micros += (s[pos] - '0') * scale;
    if (pos == start) return std::nullopt;
    fraction = microseconds{micros};
  }
  seconds offset{0};
  if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    const bool west = s[pos++] == '-';
    const auto oh = number(2);
    if (!oh || !skip(":")) return std::nullopt;
    const auto om = number(2);
    if (!om || *oh > 23 || *om > 59) return std::nullopt;
    offset = (hours{*oh} + minutes{*om}) * (west ? -1 : 1);
  } else {
    skip("Zz");
  }
  if (pos != s.size()) return std::nullopt;
  if (clamp && (*y < kFirstCivilYear || *y > kLastCivilYear)) {
    if (!year_month_day{year{*y}, month{static_cast<unsigned>(*mo)}, day{static_cast<unsigned>(*d)}}
             .ok())
      return std::nullopt;
    return *y < kFirstCivilYear ? system_clock::time_point::min() : system_clock::time_point::max();
  }
  const auto t =
      civil_time(*y, static_cast<unsigned>(*mo), static_cast<unsigned>(*d), *h, *mi, *sec);
  if (!t) return std::nullopt;
  return *t + duration_cast<system_clock::duration>(fraction) - offset;
}

}  // namespace protofarm
