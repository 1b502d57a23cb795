// The NNTP codec: command lines, article numbers and ranges, message-ids, wildmats, articles,
// overview lines, dates and replies, as pure functions with no sockets and no state
// (tests/unit/nntp_codec_test.cpp).
//
// RFC 3977 (commands, ranges, message-ids, wildmats, overview), RFC 5536 (the article format),
// RFC 5322 (dates in articles), RFC 2980 (the legacy XOVER and XHDR forms). What NNTP shares with
// other line protocols lives in fakes/common: dot-stuffing and the reader of dot-terminated blocks
// (multiline.hpp), the SASL exchange (sasl.hpp).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace protofarm::nntp {

using TimePoint = std::chrono::system_clock::time_point;

// RFC 3977 3.1: a command line is at most 512 octets, CRLF included, and an argument at most 497.
inline constexpr std::size_t kMaxCommandLine = 512;
inline constexpr std::size_t kMaxArgument = 497;
// RFC 4643 2.4.1: the lines of an AUTHINFO SASL exchange may be longer than a command line.
inline constexpr std::size_t kMaxSaslLine = 12288;
// RFC 3977 6: article numbers lie between 1 and 2,147,483,647.
inline constexpr std::uint64_t kMaxArticleNumber = 2147483647;
// RFC 5536 3 (by way of RFC 5322 2.1.1): a line of an article is at most 998 octets plus CRLF.
inline constexpr std::size_t kMaxArticleLine = 1000;

// --- command lines (RFC 3977 3.1) ---------------------------------------------------------------

struct Command {
  std::string verb;  // the keyword, upper case ("GROUP"); "" for a blank line
  std::string args;  // the rest of the line after the keyword's blanks, line end removed
  std::vector<std::string> words;  // args split on runs of spaces and tabs
  bool has_nul = false;            // a NUL byte anywhere in the line
  bool bare_lf = false;            // ended in LF without CR (accepted, as INN does)
};

// Parses one line as read (terminator included, or none at end of input). Never fails: odd
// input comes back flagged, for the protocol to reject with the RFC's code.
Command parse_command(std::string_view line);

// What follows the first word of `args` and the blanks after it, kept whole: AUTHINFO USER and
// PASS take the rest of the line, spaces included (INN does the same).
std::string rest_after_first_word(std::string_view args);

// --- article numbers, ranges, message-ids (RFC 3977 3.6, 6.1.2) ---------------------------------

// article-number = 1*16DIGIT. Zero parses (it names no article).
std::optional<std::uint64_t> parse_article_number(std::string_view word);

// A range "n", "n-" or "n-m" (RFC 3977 6.1.2.2); INN also takes "-m" and "-", which start at
// zero. `high` is nullopt for "to the end of the group". m < n is a valid, empty range.
struct Range {
  std::uint64_t low = 0;
  std::optional<std::uint64_t> high;
};
std::optional<Range> parse_range(std::string_view word);

// RFC 3977 3.6: 3 to 250 octets of printable US-ASCII, "<" first, ">" last and nowhere else.
bool is_message_id(std::string_view word);
// What an article's Message-ID header needs besides that (RFC 5536 3.1.3): an "@" with something
// on either side. INN refuses posts whose Message-ID has none.
bool is_article_message_id(std::string_view id);

// --- wildmats (RFC 3977 4) ----------------------------------------------------------------------

// A wildmat: patterns separated by ",", each optionally negated by "!", where "*" matches any
// run of characters, "?" one UTF-8 character, "[...]" one character of a set ("^" first negates,
// "a-z" is a range) and "\" quotes the next character (the last two as INN's uwildmat). The last
// pattern that matches decides: a plain one accepts, a negated one refuses; no match refuses.
// Matching is linear in the pattern and the text (a "*" never makes it backtrack beyond the last
// one), so a hostile pattern costs no more than a long one.
class Wildmat {
 public:
  // nullopt for an empty pattern ("a,,b"), a "[" without its "]", or a "\" at the end.
  static std::optional<Wildmat> parse(std::string_view text);
  bool matches(std::string_view text) const;

 private:
  struct Pattern {
    bool negated = false;
    std::string text;
  };
  std::vector<Pattern> patterns_;
};

// --- articles (RFC 5536, RFC 5322 2.2) ----------------------------------------------------------

struct Header {
  std::string name;   // as written ("Message-ID")
  std::string value;  // after the colon and its blanks; folded lines kept ("a\r\n b")
  std::string raw;    // the whole field as it is sent, continuation lines and final CRLF included
};

// An article as it is stored and sent: CRLF line ends throughout.
struct Article {
  std::vector<Header> headers;
  std::string body;  // every line ends in CRLF

  // The first header of that name (case-insensitive), or nullptr.
  const Header* find(std::string_view name) const;
  std::string_view value(std::string_view name) const;  // "" when missing
  std::size_t count(std::string_view name) const;
  // Appends "Name: value" (the value may not hold line ends).
  void add(std::string_view name, std::string_view value);
  // Removes every header of that name.
  void remove(std::string_view name);
  std::string head() const;        // the header fields, each with its CRLF
  std::string render() const;      // head, the empty line, the body: what ARTICLE sends, unstuffed
  std::size_t size() const;        // render().size(), without rendering (overview's :bytes)
  std::size_t body_lines() const;  // overview's :lines (RFC 3977 8.4.2: lines of the body)
};

struct ParsedArticle {
  Article article;
  bool has_body = false;            // the empty line between header and body was there
  std::uint64_t bare_lf_lines = 0;  // lines that ended in LF without CR (made CRLF)
  // The first header line that is not "Name: value" (no colon, a bad name, no space after the
  // colon before a value, a continuation line first), without its line end; "" when none.
  std::string bad_header;
};

// Splits a message (lines ending in CRLF or bare LF) into header fields and body. Never fails:
// whatever does not parse is reported in the result.
ParsedArticle parse_article(std::string_view bytes);

// Newsgroups header: the names between commas, blanks removed (RFC 5536 3.1.4), empty ones
// dropped.
std::vector<std::string> split_newsgroups(std::string_view value);
// RFC 5536 3.1.4: dot-separated components of letters, digits, "+", "-" and "_" (the ASCII
// subset this fake accepts for its own groups).
bool is_newsgroup_name(std::string_view name);

// --- overview (RFC 3977 8.3, 8.4) ---------------------------------------------------------------

// A header's content as overview data shows it (RFC 3977 8.3.2): folding CRLFs removed, every
// other TAB, CR, LF and NUL a space.
std::string overview_text(std::string_view value);
// One OVER line without its line end: number, Subject, From, Date, Message-ID, References,
// :bytes, :lines, and the Xref field in full ("Xref: host group:n"; `xref` is its content).
std::string overview_line(std::uint64_t number, const Article& article, std::string_view xref);

// --- dates --------------------------------------------------------------------------------------

// RFC 5322 3.3: "Thu, 01 Jan 2026 00:00:00 +0000".
std::string article_date(TimePoint t);
// An RFC 5322 date ("[Thu, ]1 Jan 2026 00:00[:00] +0000", obsolete zones and two-digit years
// too); nullopt when it is not one.
std::optional<TimePoint> parse_article_date(std::string_view text);
// DATE's reply (RFC 3977 7.1): yyyymmddhhmmss in UTC.
std::string date_stamp(TimePoint t);
// NEWGROUPS and NEWNEWS (RFC 3977 7.3.2): date "yymmdd" or "yyyymmdd", time "hhmmss". A
// two-digit year is in `now`'s century when not after `now`'s year, else in the one before. Taken
// as UTC (with or without GMT: the fake's local time is UTC).
std::optional<TimePoint> parse_nntp_date(std::string_view date, std::string_view time,
                                         TimePoint now);
// A scenario time: "2020-01-01" (its midnight, UTC), or an RFC 3339 time (parse_rfc3339).
std::optional<TimePoint> parse_iso_time(std::string_view text);
std::int64_t unix_seconds(TimePoint t);

// --- replies (RFC 3977 3.2) ---------------------------------------------------------------------

// "code text\r\n".
std::string reply(int code, std::string_view text);
// Appends one line of a multi-line block: dot-stuffed (RFC 3977 3.1.1) and CRLF-terminated.
void append_block_line(std::string& out, std::string_view line);
// The initial line, the lines, and the terminating ".\r\n".
std::string multiline(int code, std::string_view text, const std::vector<std::string>& lines);

// --- input articles -----------------------------------------------------------------------------

// Finds the first line of a dot-terminated block (POST, IHAVE) that begins with a "." the client
// did not double (RFC 3977 3.1.1), as INN refuses such an article: ".x", or a lone "." line that
// is not the block's last (after a bare LF, "." does not end the block). Fed the block's bytes in
// pieces, up to and including its terminating line.
class StuffingCheck {
 public:
  void feed(std::string_view bytes);
  // 1-based line number of the first undoubled dot, 0 when none.
  std::uint64_t first_bad_line() const { return bad_line_; }

 private:
  enum class State { line_start, dot, dot_cr, in_line };
  void note(std::uint64_t line) {
    if (bad_line_ == 0) bad_line_ = line;
  }
  State state_ = State::line_start;
  std::uint64_t line_ = 1;
  std::uint64_t pending_ = 0;  // a lone "." line, bad unless it turns out to be the last
  std::uint64_t bad_line_ = 0;
};

}  // namespace protofarm::nntp
