#include "fakes/nntp/nntp_codec.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <span>
#include <utility>

#include "fakes/common/bytes.hpp"
#include "fakes/common/civil_time.hpp"
#include "fakes/common/multiline.hpp"
#include "fakes/common/numeric_reply.hpp"

namespace protofarm::nntp {

namespace {

using namespace std::chrono;

constexpr std::array<const char*, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
constexpr std::array<const char*, 7> kWeekdays = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};

bool is_blank(char c) { return c == ' ' || c == '\t'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

std::size_t skip_blanks(std::string_view s, std::size_t i) {
  while (i < s.size() && is_blank(s[i])) ++i;
  return i;
}

std::size_t word_end(std::string_view s, std::size_t i) {
  while (i < s.size() && !is_blank(s[i])) ++i;
  return i;
}

std::vector<std::string> split_words(std::string_view s) {
  std::vector<std::string> words;
  for (std::size_t i = skip_blanks(s, 0); i < s.size(); i = skip_blanks(s, i)) {
    const std::size_t j = word_end(s, i);
    words.emplace_back(s.substr(i, j - i));
    i = j;
  }
  return words;
}

std::optional<std::uint64_t> digits_value(std::string_view s, std::size_t min, std::size_t max) {
  if (s.size() < min || s.size() > max) return std::nullopt;
  std::uint64_t n = 0;
  for (char c : s) {
    if (!is_digit(c)) return std::nullopt;
    n = n * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return n;
}

// --- wildmat helpers ----------------------------------------------------------------------------

// The UTF-8 character at s[i]: its code point and length. A byte that starts no valid sequence
// is a character of its own (INN's uwildmat treats it the same way).
std::pair<char32_t, std::size_t> char_at(std::string_view s, std::size_t i) {
  const std::size_t len = utf8_char_at(s, i);
  const auto first = static_cast<unsigned char>(s[i]);
  if (len == 0) return {first, 1};
  char32_t cp = first & (0x7f >> len);
  for (std::size_t k = 1; k < len; ++k)
    cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3f);
  return {cp, len};
}

// The index of the "]" that closes the class opened at p[i], or npos. A "]" right after "[" or
// "[^" is a member, not the end; "\" quotes the next character.
std::size_t class_end(std::string_view p, std::size_t i) {
  std::size_t j = i + 1;
  if (j < p.size() && p[j] == '^') ++j;
  if (j < p.size() && p[j] == ']') ++j;
  while (j < p.size() && p[j] != ']') j += p[j] == '\\' ? 2 : 1;
  return j < p.size() ? j : std::string_view::npos;
}

// One member of a class at body[j] (after a "\" when quoted): its code point and where the next
// member starts.
std::pair<char32_t, std::size_t> class_char(std::string_view body, std::size_t j) {
  if (body[j] == '\\' && j + 1 < body.size()) ++j;
  const auto [c, len] = char_at(body, j);
  return {c, j + len};
}

bool class_matches(std::string_view body, char32_t c) {
  bool negate = false;
  std::size_t j = 0;
  if (!body.empty() && body[0] == '^') {
    negate = true;
    j = 1;
  }
  bool found = false;
  while (j < body.size()) {
    const auto [lo, next] = class_char(body, j);
    j = next;
    char32_t hi = lo;
    if (j + 1 < body.size() && body[j] == '-') {
      const auto [h, after] = class_char(body, j + 1);
      hi = h;
      j = after;
    }
    if (c >= lo && c <= hi) found = true;
  }
  return found != negate;
}

// Whether pattern item p[pi] matches the character at t[ti]; sets how far each advances.
bool item_matches(std::string_view p, std::size_t pi, std::string_view t, std::size_t ti,
                  std::size_t& p_len, std::size_t& t_len) {
  const auto [tc, tl] = char_at(t, ti);
  t_len = tl;
  if (p[pi] == '?') {
    p_len = 1;
    return true;
  }
  if (p[pi] == '[') {
    const std::size_t end = class_end(p, pi);
    p_len = end - pi + 1;
    return class_matches(p.substr(pi + 1, end - pi - 1), tc);
  }
  const std::size_t at = p[pi] == '\\' ? pi + 1 : pi;
  const auto [pc, pl] = char_at(p, at);
  p_len = at - pi + pl;
  return pc == tc;
}

// Glob matching with one backtracking point, the last "*": the classic linear-space algorithm.
bool glob(std::string_view p, std::string_view t) {
  std::size_t pi = 0, ti = 0;
  std::size_t star_p = std::string_view::npos, star_t = 0;
  while (ti < t.size()) {
    std::size_t pl = 0, tl = 0;
    if (pi < p.size() && p[pi] == '*') {
      star_p = ++pi;
      star_t = ti;
    } else if (pi < p.size() && item_matches(p, pi, t, ti, pl, tl)) {
      pi += pl;
      ti += tl;
    } else if (star_p != std::string_view::npos) {
      star_t += char_at(t, star_t).second;
      ti = star_t;
      pi = star_p;
    } else {
      return false;
    }
  }
  while (pi < p.size() && p[pi] == '*') ++pi;
  return pi == p.size();
}

bool valid_pattern(std::string_view p) {
  if (p.empty()) return false;
  for (std::size_t i = 0; i < p.size(); ++i) {
    if (p[i] == '\\') {
      if (++i == p.size()) return false;
    } else if (p[i] == '[') {
      i = class_end(p, i);
      if (i == std::string_view::npos) return false;
    }
  }
  return true;
}

// --- article helpers ----------------------------------------------------------------------------

// RFC 5322 2.2: a field name is printable US-ASCII but ":".
bool is_field_name(std::string_view name) {
  if (name.empty()) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return c > 0x20 && c < 0x7f && c != ':'; });
}

std::string_view trim_leading(std::string_view s) {
  while (!s.empty() && (is_blank(s.front()) || s.front() == '\r' || s.front() == '\n'))
    s.remove_prefix(1);
  return s;
}

std::uint64_t count_bare_lf(std::string_view bytes) {
  std::uint64_t n = 0;
  for (std::size_t i = 0; i < bytes.size(); ++i)
    if (bytes[i] == '\n' && (i == 0 || bytes[i - 1] != '\r')) ++n;
  return n;
}

// Adds one header line (not a continuation) to the parsed article, or notes it as bad.
void add_field(ParsedArticle& out, std::string_view line, bool& open) {
  const std::string_view content = strip_line_end(line);
  const std::size_t colon = content.find(':');
  if (colon == std::string_view::npos || !is_field_name(content.substr(0, colon))) {
    if (out.bad_header.empty()) out.bad_header = std::string(content);
    open = false;
    return;
  }
  const std::string_view value = content.substr(colon + 1);
  // RFC 5536 3: a news header field has a space after its colon (INN refuses one without).
  if (!value.empty() && !is_blank(value[0]) && out.bad_header.empty())
    out.bad_header = std::string(content);
  out.article.headers.push_back(
      Header{std::string(content.substr(0, colon)), std::string(value), std::string(line)});
  open = true;
}

// --- date helpers -------------------------------------------------------------------------------

std::optional<TimePoint> make_time(int y, unsigned mo, unsigned d, int h, int mi, int s) {
  return civil_time(y, mo, d, h, mi, s);
}

struct Civil {
  int y;
  unsigned mo, d, wd;
  long h, mi, s;
};

Civil civil(TimePoint t) {
  const auto days = floor<std::chrono::days>(t);
  const year_month_day ymd{days};
  const hh_mm_ss hms{floor<seconds>(t - days)};
  return {static_cast<int>(ymd.year()),
          static_cast<unsigned>(ymd.month()),
          static_cast<unsigned>(ymd.day()),
          weekday{days}.c_encoding(),
          static_cast<long>(hms.hours().count()),
          static_cast<long>(hms.minutes().count()),
          static_cast<long>(hms.seconds().count())};
}

std::optional<int> month_of(std::string_view name) {
  for (std::size_t i = 0; i < kMonths.size(); ++i)
    if (iequals(name, kMonths[i])) return static_cast<int>(i) + 1;
  return std::nullopt;
}

// RFC 5322 3.3 and 4.3: a zone as +hhmm/-hhmm, or an obsolete name; its offset in minutes.
std::optional<int> zone_offset(std::string_view z) {
  if (z.size() == 5 && (z[0] == '+' || z[0] == '-')) {
    const auto v = digits_value(z.substr(1), 4, 4);
    if (!v || *v % 100 > 59) return std::nullopt;
    const int minutes = static_cast<int>(*v / 100 * 60 + *v % 100);
    return z[0] == '-' ? -minutes : minutes;
  }
  static const std::array<std::pair<const char*, int>, 12> names = {{{"UT", 0},
                                                                     {"UTC", 0},
                                                                     {"GMT", 0},
                                                                     {"Z", 0},
                                                                     {"EST", -300},
                                                                     {"EDT", -240},
                                                                     {"CST", -360},
                                                                     {"CDT", -300},
                                                                     {"MST", -420},
                                                                     {"MDT", -360},
                                                                     {"PST", -480},
                                                                     {"PDT", -420}}};
  for (const auto& [name, offset] : names)
    if (iequals(z, name)) return offset;
  return std::nullopt;
}

// "hh:mm" or "hh:mm:ss".
bool parse_clock(std::string_view s, int& h, int& mi, int& sec) {
  const auto hv = digits_value(s.substr(0, 2), 1, 2);
  if (s.size() != 5 && s.size() != 8) return false;
  const auto mv = digits_value(s.substr(3, 2), 2, 2);
  if (!hv || !mv || s[2] != ':') return false;
  h = static_cast<int>(*hv);
  mi = static_cast<int>(*mv);
  sec = 0;
  if (s.size() == 8) {
    const auto sv = digits_value(s.substr(6, 2), 2, 2);
    if (!sv || s[5] != ':') return false;
    sec = static_cast<int>(*sv);
  }
  return true;
}

}  // namespace

// --- command lines ------------------------------------------------------------------------------

Command parse_command(std::string_view line) {
  Command cmd;
  cmd.has_nul = line.find('\0') != std::string_view::npos;
  cmd.bare_lf =
      !line.empty() && line.back() == '\n' && (line.size() < 2 || line[line.size() - 2] != '\r');
  const std::string_view body = strip_line_end(line);
  // RFC 3977 3.1: the keyword and its arguments are separated by one or more spaces or tabs.
  const std::size_t start = skip_blanks(body, 0);
  const std::size_t end = word_end(body, start);
  cmd.verb = to_upper(body.substr(start, end - start));
  cmd.args = std::string(body.substr(skip_blanks(body, end)));
  cmd.words = split_words(cmd.args);
  return cmd;
}

std::string rest_after_first_word(std::string_view args) {
  const std::size_t end = word_end(args, skip_blanks(args, 0));
  return std::string(args.substr(skip_blanks(args, end)));
}

// --- article numbers, ranges, message-ids -------------------------------------------------------

std::optional<std::uint64_t> parse_article_number(std::string_view word) {
  return digits_value(word, 1, 16);
}

std::optional<Range> parse_range(std::string_view word) {
  const std::size_t dash = word.find('-');
  if (dash == std::string_view::npos) {
    const auto n = parse_article_number(word);
    if (!n) return std::nullopt;
    return Range{*n, *n};
  }
  Range r;
  const std::string_view low = word.substr(0, dash), high = word.substr(dash + 1);
  if (!low.empty()) {
    const auto n = parse_article_number(low);
    if (!n) return std::nullopt;
    r.low = *n;
  }
  if (!high.empty()) {
    r.high = parse_article_number(high);
    if (!r.high) return std::nullopt;
  }
  return r;
}

bool is_message_id(std::string_view word) {
  if (word.size() < 3 || word.size() > 250 || word.front() != '<' || word.back() != '>')
    return false;
  const std::string_view inner = word.substr(1, word.size() - 2);
  return std::all_of(inner.begin(), inner.end(),
                     [](char c) { return c >= 0x21 && c <= 0x7e && c != '>'; });
}

bool is_article_message_id(std::string_view id) {
  if (!is_message_id(id)) return false;
  const std::size_t at = id.find('@');
  return at != std::string_view::npos && at > 1 && at + 2 < id.size();
}

// --- wildmats -----------------------------------------------------------------------------------

std::optional<Wildmat> Wildmat::parse(std::string_view text) {
  Wildmat w;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= text.size(); ++i) {
    if (i < text.size() && text[i] == '\\') {
      if (++i == text.size()) return std::nullopt;  // a "\" with nothing to quote
      continue;
    }
    if (i < text.size() && text[i] == '[') {
      const std::size_t end = class_end(text, i);
      if (end == std::string_view::npos) return std::nullopt;
      i = end;
      continue;
    }
    if (i < text.size() && text[i] != ',') continue;
    std::string_view p = text.substr(start, i - start);
    Pattern pattern;
    if (!p.empty() && p[0] == '!') {
      pattern.negated = true;
      p.remove_prefix(1);
    }
    if (!valid_pattern(p)) return std::nullopt;
    pattern.text = std::string(p);
    w.patterns_.push_back(std::move(pattern));
    start = i + 1;
  }
  return w;
}

bool Wildmat::matches(std::string_view text) const {
  // RFC 3977 4.2: the rightmost pattern that matches decides.
  for (auto it = patterns_.rbegin(); it != patterns_.rend(); ++it)
    if (glob(it->text, text)) return !it->negated;
  return false;
}

// --- articles -----------------------------------------------------------------------------------

const Header* Article::find(std::string_view name) const {
  for (const auto& h : headers)
    if (iequals(h.name, name)) return &h;
  return nullptr;
}

std::string_view Article::value(std::string_view name) const {
  const Header* h = find(name);
  return h ? std::string_view(h->value) : std::string_view{};
}

std::size_t Article::count(std::string_view name) const {
  return static_cast<std::size_t>(std::count_if(
      headers.begin(), headers.end(), [&](const Header& h) { return iequals(h.name, name); }));
}

void Article::add(std::string_view name, std::string_view value) {
  Header h{std::string(name), std::string(value), {}};
  h.raw = h.name + ": " + h.value + "\r\n";
  headers.push_back(std::move(h));
}

void Article::remove(std::string_view name) {
  std::erase_if(headers, [&](const Header& h) { return iequals(h.name, name); });
}

std::string Article::head() const {
  std::string out;
  for (const auto& h : headers) out += h.raw;
  return out;
}

std::string Article::render() const {
  std::string out;
  out.reserve(size());
  out += head();
  out += "\r\n";
  out += body;
  return out;
}

std::size_t Article::size() const {
  std::size_t n = 2 + body.size();
  for (const auto& h : headers) n += h.raw.size();
  return n;
}

std::size_t Article::body_lines() const {
  return static_cast<std::size_t>(std::count(body.begin(), body.end(), '\n'));
}

ParsedArticle parse_article(std::string_view bytes) {
  ParsedArticle out;
  out.bare_lf_lines = count_bare_lf(bytes);
  const std::string text = normalize_message(bytes);
  std::size_t pos = 0;
  bool open = false;  // the last line added a header that a continuation line may extend
  while (pos < text.size()) {
    const std::size_t lf = text.find('\n', pos);
    const std::size_t end = lf == std::string::npos ? text.size() : lf + 1;
    const std::string_view line = std::string_view(text).substr(pos, end - pos);
    pos = end;
    if (line == "\r\n") {
      out.has_body = true;
      break;
    }
    if (is_blank(line[0])) {
      // RFC 5322 2.2.3: a line that starts with a blank continues the field before it.
      if (!open) {
        if (out.bad_header.empty()) out.bad_header = std::string(strip_line_end(line));
        continue;
      }
      Header& h = out.article.headers.back();
      h.raw += line;
      h.value += "\r\n";
      h.value += strip_line_end(line);
      continue;
    }
    add_field(out, line, open);
  }
  for (auto& h : out.article.headers) h.value = std::string(trim_leading(h.value));
  if (out.has_body) out.article.body = text.substr(pos);
  return out;
}

std::vector<std::string> split_newsgroups(std::string_view value) {
  std::vector<std::string> groups;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= value.size(); ++i) {
    if (i < value.size() && value[i] != ',') continue;
    std::string name;
    for (char c : value.substr(start, i - start))
      if (!is_blank(c) && c != '\r' && c != '\n') name += c;
    if (!name.empty()) groups.push_back(std::move(name));
    start = i + 1;
  }
  return groups;
}

bool is_newsgroup_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxArgument || name.front() == '.' || name.back() == '.')
    return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    if (c == '.') {
      if (name[i - 1] == '.') return false;
      continue;
    }
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '+' ||
                    c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

// --- overview -----------------------------------------------------------------------------------

std::string overview_text(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (std::size_t i = 0; i < value.size(); ++i) {
    // RFC 3977 8.3.2: unfolded (the CRLF of a fold removed), other TAB, CR, LF as a space.
    if (value[i] == '\r' && i + 1 < value.size() && value[i + 1] == '\n') {
      ++i;
      continue;
    }
    const char c = value[i];
    out += c == '\t' || c == '\r' || c == '\n' || c == '\0' ? ' ' : c;
  }
  return out;
}

std::string overview_line(std::uint64_t number, const Article& article, std::string_view xref) {
  std::string line = std::to_string(number);
  for (const char* name : {"Subject", "From", "Date", "Message-ID", "References"}) {
    line += '\t';
    line += overview_text(article.value(name));
  }
  line += '\t';
  line += std::to_string(article.size());
  line += '\t';
  line += std::to_string(article.body_lines());
  line += '\t';
  // RFC 3977 8.4.2: a "full" field carries its name.
  if (!xref.empty()) {
    line += "Xref: ";
    line += overview_text(xref);
  }
  return line;
}

// --- dates --------------------------------------------------------------------------------------

std::string article_date(TimePoint t) {
  const Civil c = civil(t);
  char buf[48];
  std::snprintf(buf, sizeof buf, "%s, %02u %s %04d %02ld:%02ld:%02ld +0000", kWeekdays[c.wd], c.d,
                kMonths[c.mo - 1], c.y, c.h, c.mi, c.s);
  return buf;
}

std::optional<TimePoint> parse_article_date(std::string_view text) {
  // An optional day name and comma, then day, month, year, time, zone; a comment after it
  // ("(UTC)") is ignored.
  if (const std::size_t comma = text.find(','); comma != std::string_view::npos)
    text.remove_prefix(comma + 1);
  std::vector<std::string> w = split_words(text);
  if (w.size() < 4) return std::nullopt;
  const auto d = digits_value(w[0], 1, 2);
  const auto mo = month_of(w[1]);
  auto y = digits_value(w[2], 2, 4);
  int h = 0, mi = 0, s = 0;
  if (!d || !mo || !y || !parse_clock(w[3], h, mi, s)) return std::nullopt;
  // RFC 5322 4.3: two-digit years from 50 are 19xx, others 20xx; three digits add 1900.
  if (w[2].size() == 2) *y += *y >= 50 ? 1900 : 2000;
  if (w[2].size() == 3) *y += 1900;
  const std::optional<int> zone = w.size() > 4 ? zone_offset(w[4]) : std::optional<int>(0);
  if (!zone) return std::nullopt;
  const auto t = make_time(static_cast<int>(*y), static_cast<unsigned>(*mo),
                           static_cast<unsigned>(*d), h, mi, s);
  if (!t) return std::nullopt;
  return *t - minutes{*zone};
}

std::string date_stamp(TimePoint t) {
  const Civil c = civil(t);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d%02u%02u%02ld%02ld%02ld", c.y, c.mo, c.d, c.h, c.mi, c.s);
  return buf;
}

std::optional<TimePoint> parse_nntp_date(std::string_view date, std::string_view time,
                                         TimePoint now) {
  if (date.size() != 6 && date.size() != 8) return std::nullopt;
  const auto dv = digits_value(date, 6, 8);
  const auto tv = digits_value(time, 6, 6);
  if (!dv || !tv) return std::nullopt;
  int y = static_cast<int>(*dv / 10000);
  if (date.size() == 6) {
    // RFC 3977 7.3.2: the closest century that does not put the year after this one.
    const int current = civil(now).y;
    y += current / 100 * 100;
    if (y > current) y -= 100;
  }
  return make_time(y, static_cast<unsigned>(*dv / 100 % 100), static_cast<unsigned>(*dv % 100),
                   static_cast<int>(*tv / 10000), static_cast<int>(*tv / 100 % 100),
                   static_cast<int>(*tv % 100));
}

std::optional<TimePoint> parse_iso_time(std::string_view text) {
  // A date alone is its midnight; the rest is RFC 3339, as every scenario time.
  if (text.size() == 10) return parse_rfc3339(std::string(text) + "T00:00:00Z");
  return parse_rfc3339(text);
}

std::int64_t unix_seconds(TimePoint t) {
  return duration_cast<seconds>(t.time_since_epoch()).count();
}

// --- replies ------------------------------------------------------------------------------------

std::string reply(int code, std::string_view text) {
  const std::string line(text);
  return render_numeric_reply(code, std::span<const std::string>(&line, 1));
}

void append_block_line(std::string& out, std::string_view line) {
  // RFC 3977 3.1.1: a line that starts with "." gets another one in front.
  if (!line.empty() && line.front() == '.') out += '.';
  out += line;
  out += "\r\n";
}

std::string multiline(int code, std::string_view text, const std::vector<std::string>& lines) {
  return reply(code, text) + dot_stuff_lines(lines);
}

// --- input articles -----------------------------------------------------------------------------

void StuffingCheck::feed(std::string_view bytes) {
  for (char c : bytes) {
    // A lone "." line ends the block only as its last line; one with more lines after it was
    // not stuffed either.
    if (state_ == State::line_start && pending_ != 0) {
      note(pending_);
      pending_ = 0;
    }
    switch (state_) {
      case State::line_start:
        state_ = c == '.' ? State::dot : c == '\n' ? State::line_start : State::in_line;
        break;
      case State::dot:
        // ".." is a stuffed dot; "." and a line end may be the terminator; anything else is a
        // dot the client did not double.
        if (c == '\r') {
          state_ = State::dot_cr;
        } else if (c == '\n') {
          pending_ = line_;
          state_ = State::line_start;
        } else {
          if (c != '.') note(line_);
          state_ = State::in_line;
        }
        break;
      case State::dot_cr:
        if (c == '\n') {
          pending_ = line_;
          state_ = State::line_start;
        } else {
          note(line_);
          state_ = State::in_line;
        }
        break;
      case State::in_line:
        if (c == '\n') state_ = State::line_start;
        break;
    }
    if (c == '\n') ++line_;
  }
}

}  // namespace protofarm::nntp
