#include "fakes/http/docroot.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <system_error>

#include "fakes/common/bytes.hpp"
#include "fakes/common/civil_time.hpp"

namespace protofarm::http {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kWhitespace = " \t";  // RFC 9110 5.6.3 OWS

std::string_view trim(std::string_view s) {
  const std::size_t first = s.find_first_not_of(kWhitespace);
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(kWhitespace) - first + 1);
}

char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  return std::ranges::equal(a, b, [](char x, char y) { return ascii_lower(x) == ascii_lower(y); });
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// The value of a hex digit, or -1.
int hex_value(char c) {
  if (is_digit(c)) return c - '0';
  const char lower = ascii_lower(c);
  if (lower >= 'a' && lower <= 'f') return lower - 'a' + 10;
  return -1;
}

std::string to_hex(std::uint64_t value) {
  std::array<char, 16> digits{};
  const auto end = std::to_chars(digits.data(), digits.data() + digits.size(), value, 16).ptr;
  return std::string(digits.data(), end);
}

}  // namespace

// --- percent-encoding and HTML -------------------------------------------------------------------

std::optional<std::string> percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size()) return std::nullopt;
    const int high = hex_value(s[i + 1]);
    const int low = hex_value(s[i + 2]);
    if (high < 0 || low < 0) return std::nullopt;
    out += static_cast<char>(high * 16 + low);
    i += 2;
  }
  return out;
}

namespace {

// RFC 3986 3.3: pchar is unreserved / sub-delims / ":" / "@" (and pct-encoded, which is what
// every other byte becomes); '/' separates the segments.
bool is_path_char(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c)) return true;
  return std::string_view("-._~!$&'()*+,;=:@/").find(c) != std::string_view::npos;
}

}  // namespace

std::string percent_encode_path(std::string_view path) {
  static constexpr std::string_view kHex = "0123456789ABCDEF";  // RFC 3986 2.1: upper case
  std::string out;
  out.reserve(path.size());
  for (char c : path) {
    if (is_path_char(c)) {
      out += c;
      continue;
    }
    const auto byte = static_cast<unsigned char>(c);
    out += '%';
    out += kHex[byte >> 4];
    out += kHex[byte & 0x0F];
  }
  return out;
}

std::string html_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// --- paths ---------------------------------------------------------------------------------------

NormalizedPath normalize_path(std::string_view raw_path) {
  using Status = NormalizedPath::Status;
  if (raw_path.empty() || raw_path.front() != '/') return {Status::bad_request, {}};
  // Split before decoding, so that "%2F" stays inside its segment instead of making a new one,
  // and decode each segment once, so that "%2e%2e" is ".." but "%252e" is the name "%2e".
  std::vector<std::string> segments;
  bool encoded_slash = false;
  bool folder = false;  // the last segment was empty, "." or "..": the path names a folder
  std::size_t start = 1;
  for (;;) {
    std::size_t end = raw_path.find('/', start);
    if (end == std::string_view::npos) end = raw_path.size();
    const auto segment = percent_decode(raw_path.substr(start, end - start));
    if (!segment || segment->find('\0') != std::string::npos) return {Status::bad_request, {}};
    if (*segment == "..") {
      if (segments.empty()) return {Status::bad_request, {}};
      segments.pop_back();
      folder = true;
    } else if (segment->empty() || *segment == ".") {
      folder = true;
    } else {
      encoded_slash = encoded_slash || segment->find('/') != std::string::npos;
      segments.push_back(*segment);
      folder = false;
    }
    if (end == raw_path.size()) break;
    start = end + 1;
  }
  // Checked last, so that a path that is also a bad request is answered as one.
  if (encoded_slash) return {Status::not_found, {}};
  NormalizedPath out;
  for (const std::string& segment : segments) out.path += '/' + segment;
  if (folder || segments.empty()) out.path += '/';
  return out;
}

// --- content types -------------------------------------------------------------------------------

std::string_view content_type_for(std::string_view file_name) {
  struct Type {
    std::string_view extension;
    std::string_view media_type;
  };
  static constexpr std::array<Type, 29> kTypes{{
      {"html", "text/html; charset=utf-8"},
      {"htm", "text/html; charset=utf-8"},
      {"txt", "text/plain; charset=utf-8"},
      {"css", "text/css; charset=utf-8"},
      {"csv", "text/csv; charset=utf-8"},
      {"md", "text/markdown; charset=utf-8"},
      {"js", "text/javascript; charset=utf-8"},  // RFC 9239
      {"mjs", "text/javascript; charset=utf-8"},
      {"json", "application/json"},
      {"xml", "application/xml"},
      {"pdf", "application/pdf"},
      {"zip", "application/zip"},
      {"gz", "application/gzip"},
      {"tar", "application/x-tar"},
      {"wasm", "application/wasm"},
      {"png", "image/png"},
      {"jpg", "image/jpeg"},
      {"jpeg", "image/jpeg"},
      {"gif", "image/gif"},
      {"webp", "image/webp"},
      {"svg", "image/svg+xml"},
      {"ico", "image/x-icon"},
      {"mp3", "audio/mpeg"},
      {"ogg", "audio/ogg"},
      {"mp4", "video/mp4"},
      {"webm", "video/webm"},
      {"woff", "font/woff"},
      {"woff2", "font/woff2"},
      {"ttf", "font/ttf"},
  }};
  const std::size_t slash = file_name.rfind('/');
  const std::string_view base =
      slash == std::string_view::npos ? file_name : file_name.substr(slash + 1);
  const std::size_t dot = base.rfind('.');
  // A name whose only dot is its first character (".profile") has no extension.
  if (dot == std::string_view::npos || dot == 0) return "application/octet-stream";
  const std::string_view extension = base.substr(dot + 1);
  for (const Type& type : kTypes) {
    if (iequals(type.extension, extension)) return type.media_type;
  }
  return "application/octet-stream";
}

// --- dates ---------------------------------------------------------------------------------------

namespace {

constexpr std::array<std::string_view, 7> kDays = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr std::array<std::string_view, 7> kLongDays = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                                       "Thursday", "Friday", "Saturday"};
constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

// Appends `value` in decimal, zero-padded to `width` digits.
void append_padded(std::string& out, long long value, std::size_t width) {
  const std::string digits = std::to_string(value);
  if (digits.size() < width) out.append(width - digits.size(), '0');
  out += digits;
}

// Reads a date from left to right; every step fails (returns false or nullopt) on a mismatch.
// RFC 9110 5.6.7: names and "GMT" are case-sensitive.
class DateReader {
 public:
  explicit DateReader(std::string_view s) : rest_(s) {}

  bool literal(std::string_view expected) {
    if (!rest_.starts_with(expected)) return false;
    rest_.remove_prefix(expected.size());
    return true;
  }
  // Exactly `count` digits.
  std::optional<int> number(std::size_t count) {
    if (rest_.size() < count) return std::nullopt;
    int value = 0;
    for (std::size_t i = 0; i < count; ++i) {
      if (!is_digit(rest_[i])) return std::nullopt;
      value = value * 10 + (rest_[i] - '0');
    }
    rest_.remove_prefix(count);
    return value;
  }
  // One of `names`; its index.
  template <std::size_t N>
  std::optional<unsigned> name(const std::array<std::string_view, N>& names) {
    for (std::size_t i = 0; i < N; ++i) {
      if (literal(names[i])) return static_cast<unsigned>(i);
    }
    return std::nullopt;
  }
  bool at_end() const { return rest_.empty(); }

 private:
  std::string_view rest_;
};

struct DateFields {
  int year = 0;
  unsigned month = 0;  // 1..12
  int day = 0;
  int hour = 0;
  int minute = 0;
  int second = 0;
};

// "HH:MM:SS"
bool read_time(DateReader& in, DateFields& f) {
  const auto hour = in.number(2);
  if (!hour || !in.literal(":")) return false;
  const auto minute = in.number(2);
  if (!minute || !in.literal(":")) return false;
  const auto second = in.number(2);
  if (!second) return false;
  f.hour = *hour;
  f.minute = *minute;
  f.second = *second;
  return true;
}

bool read_month(DateReader& in, DateFields& f) {
  const auto month = in.name(kMonths);
  if (!month) return false;
  f.month = *month + 1;
  return true;
}

// The weekday is required but not checked against the date, as most servers do.
// IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT"
std::optional<DateFields> read_imf_fixdate(std::string_view s) {
  DateReader in(s);
  DateFields f;
  if (!in.name(kDays) || !in.literal(", ")) return std::nullopt;
  const auto day = in.number(2);
  if (!day || !in.literal(" ") || !read_month(in, f) || !in.literal(" ")) return std::nullopt;
  const auto year = in.number(4);
  if (!year || !in.literal(" ") || !read_time(in, f) || !in.literal(" GMT") || !in.at_end())
    return std::nullopt;
  f.day = *day;
  f.year = *year;
  return f;
}

// RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT"
std::optional<DateFields> read_rfc850_date(std::string_view s) {
  DateReader in(s);
  DateFields f;
  if (!in.name(kLongDays) || !in.literal(", ")) return std::nullopt;
  const auto day = in.number(2);
  if (!day || !in.literal("-") || !read_month(in, f) || !in.literal("-")) return std::nullopt;
  const auto year = in.number(2);
  if (!year || !in.literal(" ") || !read_time(in, f) || !in.literal(" GMT") || !in.at_end())
    return std::nullopt;
  f.day = *day;
  // RFC 9110 5.6.7 reads a two-digit year relative to the current year; a fixed pivot (as POSIX
  // strptime's %y) keeps the answer independent of the real time.
  f.year = *year < 70 ? 2000 + *year : 1900 + *year;
  return f;
}

// asctime: "Sun Nov  6 08:49:37 1994" (a one-digit day is padded with a space)
std::optional<DateFields> read_asctime_date(std::string_view s) {
  DateReader in(s);
  DateFields f;
  if (!in.name(kDays) || !in.literal(" ") || !read_month(in, f) || !in.literal(" "))
    return std::nullopt;
  const auto day = in.literal(" ") ? in.number(1) : in.number(2);
  if (!day || !in.literal(" ") || !read_time(in, f) || !in.literal(" ")) return std::nullopt;
  const auto year = in.number(4);
  if (!year || !in.at_end()) return std::nullopt;
  f.day = *day;
  f.year = *year;
  return f;
}

std::optional<TimePoint> to_time_point(const DateFields& f) {
  // RFC 9110 5.6.7 allows second 60 (a leap second); it counts as the next minute's first.
  return civil_time(f.year, f.month, static_cast<unsigned>(f.day), f.hour, f.minute, f.second);
}

}  // namespace

std::string http_date(TimePoint t) {
  using namespace std::chrono;
  const auto second = floor<seconds>(t);
  const auto day = floor<days>(second);
  const year_month_day date{day};
  const hh_mm_ss time{second - day};
  std::string out;
  out += kDays[weekday{day}.c_encoding()];
  out += ", ";
  append_padded(out, static_cast<unsigned>(date.day()), 2);
  out += ' ';
  out += kMonths[static_cast<unsigned>(date.month()) - 1];
  out += ' ';
  append_padded(out, static_cast<int>(date.year()), 4);
  out += ' ';
  append_padded(out, time.hours().count(), 2);
  out += ':';
  append_padded(out, time.minutes().count(), 2);
  out += ':';
  append_padded(out, time.seconds().count(), 2);
  out += " GMT";
  return out;
}

std::optional<TimePoint> parse_http_date(std::string_view s) {
  s = trim(s);
  auto fields = read_imf_fixdate(s);
  if (!fields) fields = read_rfc850_date(s);
  if (!fields) fields = read_asctime_date(s);
  if (!fields) return std::nullopt;
  return to_time_point(*fields);
}

// --- entity tags ---------------------------------------------------------------------------------

std::string make_etag(std::uint64_t size, TimePoint mtime) {
  // Times before 1970 would need a sign; they count as the epoch.
  const auto seconds = std::chrono::floor<std::chrono::seconds>(mtime).time_since_epoch().count();
  return '"' + to_hex(size) + '-' +
         to_hex(static_cast<std::uint64_t>(std::max<long long>(0, seconds))) + '"';
}

namespace {

// RFC 9110 8.8.3: etagc = %x21 / %x23-7E / obs-text.
bool is_etag_char(char c) {
  const auto byte = static_cast<unsigned char>(c);
  return byte == 0x21 || (byte >= 0x23 && byte != 0x7F);
}

std::string_view without_weak_prefix(std::string_view tag) {
  if (tag.starts_with("W/")) tag.remove_prefix(2);
  return tag;
}

// The entity tags of a comma-separated list, as written (with W/ and quotes); nullopt when an
// element is not an entity tag.
std::optional<std::vector<std::string_view>> entity_tags(std::string_view list) {
  std::vector<std::string_view> tags;
  std::size_t i = 0;
  while (i < list.size()) {
    // RFC 9110 5.6.1: empty list elements and whitespace around commas are allowed.
    if (list[i] == ',' || list[i] == ' ' || list[i] == '\t') {
      ++i;
      continue;
    }
    const std::size_t start = i;
    if (list.substr(i).starts_with("W/")) i += 2;
    if (i >= list.size() || list[i] != '"') return std::nullopt;
    const std::size_t close = list.find('"', i + 1);
    if (close == std::string_view::npos) return std::nullopt;
    if (!std::all_of(list.begin() + i + 1, list.begin() + close, is_etag_char)) return std::nullopt;
    i = close + 1;
    tags.push_back(list.substr(start, i - start));
    while (i < list.size() && (list[i] == ' ' || list[i] == '\t')) ++i;
    if (i < list.size() && list[i] != ',') return std::nullopt;
  }
  return tags;
}

}  // namespace

bool etag_list_matches(std::string_view header, std::string_view etag) {
  header = trim(header);
  if (header == "*") return true;
  const auto tags = entity_tags(header);
  // A list that does not parse matches nothing: the full answer is always a safe one.
  if (!tags) return false;
  // RFC 9110 8.8.3.2: the weak comparison ignores W/ on either side.
  return std::ranges::any_of(*tags, [&](std::string_view tag) {
    return without_weak_prefix(tag) == without_weak_prefix(etag);
  });
}

// --- ranges --------------------------------------------------------------------------------------

namespace {

constexpr std::size_t kMaxRanges = 64;

// 1*DIGIT; a number too large for 64 bits saturates (it then starts past any file's end, or
// asks for all of it), so it needs no error of its own.
std::optional<std::uint64_t> read_position(std::string_view digits) {
  if (digits.empty() || !std::ranges::all_of(digits, is_digit)) return std::nullopt;
  std::uint64_t value = 0;
  for (char c : digits) {
    const auto digit = static_cast<std::uint64_t>(c - '0');
    if (value > (UINT64_MAX - digit) / 10) return UINT64_MAX;
    value = value * 10 + digit;
  }
  return value;
}

struct RangeSpec {
  std::optional<std::uint64_t> first;  // none: a suffix range
  std::optional<std::uint64_t> last;   // int-range: none means to the end; suffix: the length
};

// RFC 9110 14.1.1: int-range = first-pos "-" [ last-pos ], suffix-range = "-" suffix-length.
std::optional<RangeSpec> read_range_spec(std::string_view spec) {
  const std::size_t dash = spec.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  const std::string_view before = spec.substr(0, dash);
  const std::string_view after = spec.substr(dash + 1);
  RangeSpec out;
  if (before.empty()) {
    out.last = read_position(after);
    if (!out.last) return std::nullopt;
    return out;
  }
  out.first = read_position(before);
  if (!out.first) return std::nullopt;
  if (after.empty()) return out;
  out.last = read_position(after);
  if (!out.last || *out.last < *out.first) return std::nullopt;
  return out;
}

// RFC 9110 14.1.1 calls a non-zero suffix satisfiable even for an empty representation, but no
// Content-Range can name a byte of it; an empty file satisfies nothing (nginx answers 416 too).
std::optional<ByteRange> satisfiable_part(const RangeSpec& spec, std::uint64_t size) {
  if (size == 0) return std::nullopt;
  if (!spec.first) {
    if (*spec.last == 0) return std::nullopt;
    return ByteRange{size - std::min(*spec.last, size), size - 1};
  }
  if (*spec.first >= size) return std::nullopt;
  return ByteRange{*spec.first, std::min(spec.last.value_or(size - 1), size - 1)};
}

}  // namespace

RangeRequest parse_range(std::string_view header, std::uint64_t size) {
  header = trim(header);
  const std::size_t equals = header.find('=');
  if (equals == std::string_view::npos || !iequals(header.substr(0, equals), "bytes")) return {};
  std::vector<RangeSpec> specs;
  std::string_view rest = header.substr(equals + 1);
  while (!rest.empty()) {
    const std::size_t comma = std::min(rest.find(','), rest.size());
    const std::string_view element = trim(rest.substr(0, comma));
    rest.remove_prefix(std::min(comma + 1, rest.size()));
    if (element.empty()) continue;  // RFC 9110 5.6.1: empty list elements are ignored
    const auto spec = read_range_spec(element);
    // Hundreds of tiny ranges cost a part header each: past the limit, the whole file is cheaper.
    if (!spec || specs.size() == kMaxRanges) return {};
    specs.push_back(*spec);
  }
  if (specs.empty()) return {};
  RangeRequest out;
  for (const RangeSpec& spec : specs) {
    if (const auto range = satisfiable_part(spec, size)) out.ranges.push_back(*range);
  }
  out.kind =
      out.ranges.empty() ? RangeRequest::Kind::unsatisfiable : RangeRequest::Kind::satisfiable;
  return out;
}

// --- answers -------------------------------------------------------------------------------------

std::uint64_t StaticAnswer::body_size() const {
  std::uint64_t total = 0;
  for (const BodyPart& part : body) total += part.size();
  return total;
}

namespace {

BodyPart literal_part(std::string text) {
  BodyPart part;
  part.literal = std::move(text);
  return part;
}

BodyPart file_part(std::uint64_t offset, std::uint64_t length) {
  BodyPart part;
  part.from_file = true;
  part.offset = offset;
  part.length = length;
  return part;
}

// An answer whose body is a short text: errors and redirects.
StaticAnswer text_answer(unsigned status, std::string_view text) {
  StaticAnswer answer;
  answer.status = status;
  answer.body.push_back(literal_part(std::string(text) + "\n"));
  answer.headers = {{"Content-Type", "text/plain; charset=utf-8"},
                    {"Content-Length", std::to_string(answer.body_size())}};
  return answer;
}

StaticAnswer method_not_allowed() {
  StaticAnswer answer = text_answer(405, "Method Not Allowed");
  answer.headers.emplace_back("Allow", "GET, HEAD, OPTIONS");
  return answer;
}

StaticAnswer redirect(std::string location, std::string_view query) {
  if (!query.empty()) location += "?" + std::string(query);
  StaticAnswer answer = text_answer(301, "Moved Permanently");
  answer.headers.emplace_back("Location", std::move(location));
  return answer;
}

// Component-wise, so that /srv/root2 is not inside /srv/root.
bool is_inside(const fs::path& real_root, const fs::path& real_path) {
  return std::mismatch(real_root.begin(), real_root.end(), real_path.begin(), real_path.end())
             .first == real_root.end();
}

// The real path (symlinks resolved) of what `path` names, when it exists inside the root.
// canonical() is realpath(), which refuses "file/" (ENOTDIR): a file asked for as a folder is
// not found.
std::optional<fs::path> real_path_inside(const fs::path& path, const fs::path& real_root) {
  // The usual case first, without realpath()'s readlink of every component from "/": a path
  // below the (real) root whose components are no symlinks is its own real path, which one
  // lstat a component shows. A symlink anywhere below the root takes the long way.
  if (is_inside(real_root, path)) {
    fs::path walked = real_root;
    auto it = path.begin();
    std::advance(it, std::distance(real_root.begin(), real_root.end()));
    bool plain = true;
    bool folder = true;  // what `walked` is
    for (; it != path.end(); ++it) {
      if (it->empty()) {  // a trailing '/': the path must be a folder
        if (!folder) return std::nullopt;
        continue;
      }
      if (*it == "." || *it == ".." || !folder) {
        plain = false;
        break;
      }
      walked /= *it;
      struct stat st {};
      if (::lstat(walked.c_str(), &st) != 0) return std::nullopt;
      if (S_ISLNK(st.st_mode)) {
        plain = false;
        break;
      }
      folder = S_ISDIR(st.st_mode);
    }
    if (plain) return walked;
  }
  std::error_code error;
  fs::path real = fs::canonical(path, error);
  if (error || !is_inside(real_root, real)) return std::nullopt;
  return real;
}

std::string content_range(const ByteRange& range, std::uint64_t size) {
  return "bytes " + std::to_string(range.first) + "-" + std::to_string(range.last) + "/" +
         std::to_string(size);
}

// "protofarm-" and 16 hex digits of splitmix64(seed): the same on every run of a scenario.
std::string boundary_for(std::uint64_t seed) {
  const std::string hex = to_hex(splitmix64(seed));
  return "protofarm-" + std::string(16 - hex.size(), '0') + hex;
}

// RFC 9110 13.2.2: If-None-Match is evaluated first, and when present If-Modified-Since is not.
bool not_modified(const StaticRequest& request, std::string_view etag, TimePoint last_modified) {
  if (request.if_none_match) return etag_list_matches(*request.if_none_match, etag);
  if (!request.if_modified_since) return false;
  const auto since = parse_http_date(*request.if_modified_since);
  return since && std::chrono::floor<std::chrono::seconds>(last_modified) <= *since;
}

// RFC 9110 13.1.5: an entity tag must match strongly, a date exactly. A weak tag never matches:
// it neither starts with a quote nor reads as a date.
bool if_range_matches(std::string_view value, std::string_view etag, TimePoint last_modified) {
  value = trim(value);
  if (value.starts_with('"')) return value == etag;
  const auto date = parse_http_date(value);
  return date && *date == std::chrono::floor<std::chrono::seconds>(last_modified);
}

// RFC 9110 14.2: only GET has range semantics (HEAD gets the headers of the whole file), and an
// If-Range that does not match asks for the whole file.
RangeRequest requested_ranges(const StaticRequest& request, std::string_view etag,
                              TimePoint last_modified, std::uint64_t size) {
  if (request.method != "GET" || !request.range) return {};
  if (request.if_range && !if_range_matches(*request.if_range, etag, last_modified)) return {};
  return parse_range(*request.range, size);
}

// RFC 9110 14.6: each part is a boundary line, its own Content-Type and Content-Range, an empty
// line and the bytes; a final boundary line with "--" closes the body.
void add_multipart_body(StaticAnswer& answer, const std::vector<ByteRange>& ranges,
                        std::string_view type, std::uint64_t size, std::string_view boundary) {
  for (const ByteRange& range : ranges) {
    answer.body.push_back(
        literal_part("\r\n--" + std::string(boundary) + "\r\nContent-Type: " + std::string(type) +
                     "\r\nContent-Range: " + content_range(range, size) + "\r\n\r\n"));
    answer.body.push_back(file_part(range.first, range.length()));
  }
  answer.body.push_back(literal_part("\r\n--" + std::string(boundary) + "--\r\n"));
}

// A regular file, `type` from the name it was asked by (a symlink's target may have another).
StaticAnswer file_answer(const StaticRequest& request, const fs::path& file, std::string_view type,
                         const DocrootOptions& options) {
  std::error_code error;
  const std::uint64_t size = fs::file_size(file, error);
  if (error) return text_answer(403, "Forbidden");
  const std::string etag = make_etag(size, options.clock);
  const std::string last_modified = http_date(options.clock);
  if (not_modified(request, etag, options.clock)) {
    StaticAnswer answer;
    answer.status = 304;  // RFC 9110 15.4.5: the validators, and no content
    answer.headers = {{"ETag", etag}, {"Last-Modified", last_modified}};
    return answer;
  }
  const RangeRequest ranges = requested_ranges(request, etag, options.clock, size);
  if (ranges.kind == RangeRequest::Kind::unsatisfiable) {
    StaticAnswer answer = text_answer(416, "Range Not Satisfiable");
    answer.headers.emplace_back("Content-Range", "bytes */" + std::to_string(size));
    return answer;
  }
  StaticAnswer answer;
  answer.file = file;
  std::string content_type(type);
  std::optional<std::string> range_header;
  if (ranges.kind == RangeRequest::Kind::none) {
    answer.body.push_back(file_part(0, size));
  } else if (ranges.ranges.size() == 1) {
    answer.status = 206;
    answer.body.push_back(file_part(ranges.ranges[0].first, ranges.ranges[0].length()));
    range_header = content_range(ranges.ranges[0], size);
  } else {
    answer.status = 206;
    const std::string boundary = boundary_for(options.seed);
    add_multipart_body(answer, ranges.ranges, type, size, boundary);
    content_type = "multipart/byteranges; boundary=" + boundary;
  }
  answer.headers = {{"Content-Type", content_type},
                    {"Content-Length", std::to_string(answer.body_size())}};
  if (range_header) answer.headers.emplace_back("Content-Range", *range_header);
  answer.headers.emplace_back("ETag", etag);
  answer.headers.emplace_back("Last-Modified", last_modified);
  answer.headers.emplace_back("Accept-Ranges", "bytes");
  return answer;
}

// What a listing shows: folders and regular files whose real path is inside the root, the
// things a click on the link would get; nullopt when the folder cannot be read.
std::optional<std::vector<ListingEntry>> servable_entries(const fs::path& folder,
                                                          const fs::path& real_root) {
  std::error_code error;
  std::vector<ListingEntry> out;
  for (fs::directory_iterator it(folder, error), end; !error && it != end; it.increment(error)) {
    const auto real = real_path_inside(it->path(), real_root);
    if (!real) continue;
    std::error_code stat_error;
    const fs::file_status status = fs::status(*real, stat_error);
    ListingEntry entry;
    entry.name = it->path().filename().string();
    if (fs::is_directory(status)) {
      entry.folder = true;
    } else if (fs::is_regular_file(status)) {
      entry.size = fs::file_size(*real, stat_error);
    } else {
      continue;
    }
    if (!stat_error) out.push_back(std::move(entry));
  }
  if (error) return std::nullopt;
  return out;
}

StaticAnswer folder_answer(const StaticRequest& request, const std::string& url_path,
                           const fs::path& folder, const fs::path& real_root,
                           const DocrootOptions& options) {
  std::error_code error;
  if (const auto index = real_path_inside(folder / "index.html", real_root);
      index && fs::is_regular_file(*index, error)) {
    return file_answer(request, *index, content_type_for("index.html"), options);
  }
  if (!options.listing) return text_answer(403, "Forbidden");
  auto entries = servable_entries(folder, real_root);
  if (!entries) return text_answer(403, "Forbidden");
  // No validators: the listing changes with the folder, which the fixed clock would not show.
  StaticAnswer answer;
  answer.body.push_back(literal_part(directory_listing(url_path, std::move(*entries))));
  answer.headers = {{"Content-Type", "text/html; charset=utf-8"},
                    {"Content-Length", std::to_string(answer.body_size())}};
  return answer;
}

}  // namespace

Docroot::Docroot(fs::path root, DocrootOptions options)
    : root_(std::move(root)), real_root_(fs::canonical(root_)), options_(options) {}

std::optional<StaticAnswer> Docroot::answer(const StaticRequest& request) const {
  const NormalizedPath normalized = normalize_path(request.path);
  if (normalized.status == NormalizedPath::Status::bad_request) {
    return text_answer(400, "Bad Request");
  }
  if (normalized.status == NormalizedPath::Status::not_found) return std::nullopt;
  const std::string& path = normalized.path;
  const auto real = real_path_inside(real_root_ / path.substr(1), real_root_);
  if (!real) return std::nullopt;
  std::error_code error;
  const fs::file_status status = fs::status(*real, error);
  if (error) return std::nullopt;
  if (request.method != "GET" && request.method != "HEAD") return method_not_allowed();
  if (fs::is_directory(status)) {
    if (!path.ends_with('/')) return redirect(percent_encode_path(path) + "/", request.query);
    return folder_answer(request, path, *real, real_root_, options_);
  }
  if (!fs::is_regular_file(status)) return text_answer(403, "Forbidden");
  return file_answer(request, *real, content_type_for(path), options_);
}

// --- listings ------------------------------------------------------------------------------------

namespace {

// A relative link to an entry. RFC 3986 4.2: a first segment with ':' would read as a scheme,
// so such a name gets "./" before it.
std::string entry_href(const ListingEntry& entry) {
  std::string href = percent_encode_path(entry.name);
  if (href.find(':') != std::string::npos) href = "./" + href;
  if (entry.folder) href += '/';
  return html_escape(href);
}

}  // namespace

std::string directory_listing(std::string_view url_path, std::vector<ListingEntry> entries) {
  std::ranges::sort(entries, [](const ListingEntry& a, const ListingEntry& b) {
    if (a.folder != b.folder) return a.folder;
    return a.name < b.name;  // std::string compares as unsigned char: bytewise
  });
  const std::string title = "Index of " + html_escape(url_path);
  std::string out = "<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n<title>" + title +
                    "</title>\n</head>\n<body>\n<h1>" + title + "</h1>\n<ul>\n";
  if (url_path != "/") out += "<li><a href=\"../\">../</a></li>\n";
  for (const ListingEntry& entry : entries) {
    const std::string name = html_escape(entry.name) + (entry.folder ? "/" : "");
    out += "<li><a href=\"" + entry_href(entry) + "\">" + name + "</a>";
    if (!entry.folder) out += " " + std::to_string(entry.size);
    out += "</li>\n";
  }
  out += "</ul>\n</body>\n</html>\n";
  return out;
}

}  // namespace protofarm::http
