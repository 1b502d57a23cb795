// The http fake's static document root: path safety, dates, validators, ranges, and every byte of
// the answers for a real folder tree (made in a temporary folder, removed afterwards).
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "fakes/http/docroot.hpp"

namespace protofarm::http {
namespace {

namespace fs = std::filesystem;
using namespace std::literals;
using Status = NormalizedPath::Status;
using Kind = RangeRequest::Kind;

TimePoint utc(int y, unsigned m, unsigned d, int h = 0, int mi = 0, int s = 0) {
  return std::chrono::sys_days{std::chrono::year{y} / std::chrono::month{m} / std::chrono::day{d}} +
         std::chrono::hours{h} + std::chrono::minutes{mi} + std::chrono::seconds{s};
}

// --- percent-encoding and HTML -------------------------------------------------------------------

TEST(HttpPercentDecode, DecodesEscapes) {
  EXPECT_EQ(percent_decode(""), "");
  EXPECT_EQ(percent_decode("plain/path.txt"), "plain/path.txt");
  EXPECT_EQ(percent_decode("%41%62c"), "Abc");
  EXPECT_EQ(percent_decode("%4a%4A"), "JJ");  // either case of hex
  EXPECT_EQ(percent_decode("a%20b"), "a b");
  EXPECT_EQ(percent_decode("%C3%bc"), "\xC3\xBC");
  EXPECT_EQ(percent_decode("%00"), "\0"s);
  EXPECT_EQ(percent_decode("%ff%FF"), "\xFF\xFF");
  EXPECT_EQ(percent_decode("%2F"), "/");
  // Once only: "%2541" is "%41".
  EXPECT_EQ(percent_decode("%2541"), "%41");
  EXPECT_EQ(percent_decode("%25"), "%");
  // '+' is a space only in forms.
  EXPECT_EQ(percent_decode("a+b"), "a+b");
}

TEST(HttpPercentDecode, MalformedEscapes) {
  for (const std::string_view s :
       {"%", "%4", "a%", "ab%4", "%zz", "%g0", "%0g", "%%41", "%-1", "% 1", "%4 ", "ok%2Fthen%"}) {
    EXPECT_EQ(percent_decode(s), std::nullopt) << s;
  }
}

TEST(HttpPercentEncodePath, KeepsPathCharactersAndSlashes) {
  EXPECT_EQ(percent_encode_path(""), "");
  EXPECT_EQ(percent_encode_path("/a/b.txt"), "/a/b.txt");
  EXPECT_EQ(percent_encode_path("AZaz09-._~!$&'()*+,;=:@/"), "AZaz09-._~!$&'()*+,;=:@/");
}

TEST(HttpPercentEncodePath, EscapesEverythingElseInUpperCaseHex) {
  EXPECT_EQ(percent_encode_path("/my file.txt"), "/my%20file.txt");
  EXPECT_EQ(percent_encode_path("%"), "%25");
  EXPECT_EQ(percent_encode_path("?#[]"), "%3F%23%5B%5D");
  EXPECT_EQ(percent_encode_path("\"<>\\^`{|}"), "%22%3C%3E%5C%5E%60%7B%7C%7D");
  EXPECT_EQ(percent_encode_path("\0\t\x7F"s), "%00%09%7F");
  EXPECT_EQ(percent_encode_path("\xC3\xBC\xFF"), "%C3%BC%FF");
  // What it escapes, percent_decode gives back.
  const std::string name = "/<a&b> 100%.txt\xFF";
  EXPECT_EQ(percent_decode(percent_encode_path(name)), name);
}

TEST(HttpHtmlEscape, EscapesTheFiveCharacters) {
  EXPECT_EQ(html_escape(""), "");
  EXPECT_EQ(html_escape("plain text"), "plain text");
  EXPECT_EQ(html_escape("<a href=\"x\">Tom & Jerry's</a>"),
            "&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/a&gt;");
  EXPECT_EQ(html_escape("&amp;"), "&amp;amp;");  // not idempotent: escape once
  EXPECT_EQ(html_escape("\xC3\xBC\n"), "\xC3\xBC\n");
}

// --- normalize_path ------------------------------------------------------------------------------

struct PathCase {
  std::string raw;
  Status status;
  std::string path;
};

void expect_normalized(const std::vector<PathCase>& cases) {
  for (const PathCase& c : cases) {
    const NormalizedPath n = normalize_path(c.raw);
    EXPECT_EQ(n.status, c.status) << c.raw;
    EXPECT_EQ(n.path, c.path) << c.raw;
  }
}

TEST(HttpNormalizePath, PlainPaths) {
  expect_normalized({
      {"/", Status::ok, "/"},
      {"/a", Status::ok, "/a"},
      {"/a/b.txt", Status::ok, "/a/b.txt"},
      {"/a/", Status::ok, "/a/"},  // a trailing slash is kept
      {"/a/b/", Status::ok, "/a/b/"},
      {"/a+b", Status::ok, "/a+b"},
  });
}

TEST(HttpNormalizePath, CollapsesSlashesAndDots) {
  expect_normalized({
      {"//", Status::ok, "/"},
      {"//a//b", Status::ok, "/a/b"},
      {"/a//", Status::ok, "/a/"},
      {"/.", Status::ok, "/"},
      {"/./a/./b", Status::ok, "/a/b"},
      {"/a/.", Status::ok, "/a/"},  // "." names the folder it is in
      {"/a/./", Status::ok, "/a/"},
      {"/a/..", Status::ok, "/"},
      {"/a/../b", Status::ok, "/b"},
      {"/a/b/..", Status::ok, "/a/"},
      {"/a/b/../../c/", Status::ok, "/c/"},
      {"/a/../a/../b/./c", Status::ok, "/b/c"},
      // Not dot segments, only names that start with dots.
      {"/.../x", Status::ok, "/.../x"},
      {"/..a/.b", Status::ok, "/..a/.b"},
  });
}

TEST(HttpNormalizePath, DecodesOnce) {
  expect_normalized({
      {"/%61%62", Status::ok, "/ab"},
      {"/a%20b/c", Status::ok, "/a b/c"},
      {"/%3Cx%3E", Status::ok, "/<x>"},
      {"/a/%2e%2e/b", Status::ok, "/b"},
      {"/a/%2E%2E/", Status::ok, "/"},
      {"/a/%2e/b", Status::ok, "/a/b"},
      {"/a/.%2e", Status::ok, "/"},
      {"/%2e", Status::ok, "/"},
      // Decoded once: "%252e%252e" is the name "%2e%2e", not "..".
      {"/%252e%252e", Status::ok, "/%2e%2e"},
      {"/%252F", Status::ok, "/%2F"},
  });
}

TEST(HttpNormalizePath, BadRequests) {
  expect_normalized({
      {"", Status::bad_request, ""},
      {"a", Status::bad_request, ""},
      {"a/b", Status::bad_request, ""},
      {"*", Status::bad_request, ""},
      // Climbing above the root.
      {"/..", Status::bad_request, ""},
      {"/../", Status::bad_request, ""},
      {"/../a", Status::bad_request, ""},
      {"/a/../..", Status::bad_request, ""},
      {"/a/../../b", Status::bad_request, ""},
      {"/%2e%2e", Status::bad_request, ""},
      {"/%2E%2E/", Status::bad_request, ""},
      {"/a/%2e%2e/%2e%2e/etc/passwd", Status::bad_request, ""},
      // NUL, encoded or raw.
      {"/%00", Status::bad_request, ""},
      {"/a%00b.txt", Status::bad_request, ""},
      {"/a\0b"s, Status::bad_request, ""},
      {"/\0"s, Status::bad_request, ""},
      // Malformed escapes.
      {"/%", Status::bad_request, ""},
      {"/%4", Status::bad_request, ""},
      {"/%zz", Status::bad_request, ""},
      {"/a/%g1/b", Status::bad_request, ""},
  });
}

TEST(HttpNormalizePath, EncodedSlashNamesNothing) {
  expect_normalized({
      {"/%2F", Status::not_found, ""},
      {"/%2f", Status::not_found, ""},
      {"/a%2Fb", Status::not_found, ""},
      {"/a%2fb/", Status::not_found, ""},
      {"/%2e%2e%2Fetc", Status::not_found, ""},
      // Even when a ".." takes that segment away again.
      {"/a%2Fb/../c", Status::not_found, ""},
      // A bad request is one whatever else the path holds.
      {"/%2F/%00", Status::bad_request, ""},
      {"/%00/%2F", Status::bad_request, ""},
      {"/%2F/../..", Status::bad_request, ""},
      {"/%2F/%zz", Status::bad_request, ""},
  });
}

// --- content types -------------------------------------------------------------------------------

TEST(HttpContentType, FromTheExtension) {
  EXPECT_EQ(content_type_for("index.html"), "text/html; charset=utf-8");
  EXPECT_EQ(content_type_for("old.htm"), "text/html; charset=utf-8");
  EXPECT_EQ(content_type_for("notes.txt"), "text/plain; charset=utf-8");
  EXPECT_EQ(content_type_for("style.css"), "text/css; charset=utf-8");
  EXPECT_EQ(content_type_for("app.js"), "text/javascript; charset=utf-8");
  EXPECT_EQ(content_type_for("data.json"), "application/json");
  EXPECT_EQ(content_type_for("feed.xml"), "application/xml");
  EXPECT_EQ(content_type_for("doc.pdf"), "application/pdf");
  EXPECT_EQ(content_type_for("logo.png"), "image/png");
  EXPECT_EQ(content_type_for("photo.jpg"), "image/jpeg");
  EXPECT_EQ(content_type_for("photo.jpeg"), "image/jpeg");
  EXPECT_EQ(content_type_for("icon.svg"), "image/svg+xml");
  EXPECT_EQ(content_type_for("font.woff2"), "font/woff2");
  // The last extension counts.
  EXPECT_EQ(content_type_for("archive.tar.gz"), "application/gzip");
  EXPECT_EQ(content_type_for("page.html.txt"), "text/plain; charset=utf-8");
}

TEST(HttpContentType, ExtensionIsCaseInsensitive) {
  EXPECT_EQ(content_type_for("INDEX.HTML"), "text/html; charset=utf-8");
  EXPECT_EQ(content_type_for("Logo.Png"), "image/png");
  EXPECT_EQ(content_type_for("DATA.JSON"), "application/json");
}

TEST(HttpContentType, PathsUseTheLastName) {
  EXPECT_EQ(content_type_for("/a/b/page.html"), "text/html; charset=utf-8");
  // A dot in a folder's name is not the file's extension.
  EXPECT_EQ(content_type_for("/site.d/README"), "application/octet-stream");
}

TEST(HttpContentType, UnknownIsOctetStream) {
  EXPECT_EQ(content_type_for(""), "application/octet-stream");
  EXPECT_EQ(content_type_for("README"), "application/octet-stream");
  EXPECT_EQ(content_type_for("file."), "application/octet-stream");
  EXPECT_EQ(content_type_for("x.unknown"), "application/octet-stream");
  EXPECT_EQ(content_type_for("x.htmlx"), "application/octet-stream");
  // A leading dot starts a hidden name, not an extension.
  EXPECT_EQ(content_type_for(".html"), "application/octet-stream");
  EXPECT_EQ(content_type_for("/a/.profile"), "application/octet-stream");
}

// --- dates ---------------------------------------------------------------------------------------

TEST(HttpDate, FormatsImfFixdate) {
  EXPECT_EQ(http_date(utc(1994, 11, 6, 8, 49, 37)), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(http_date(TimePoint{}), "Thu, 01 Jan 1970 00:00:00 GMT");
  EXPECT_EQ(http_date(utc(2026, 1, 1, 12)), "Thu, 01 Jan 2026 12:00:00 GMT");
  EXPECT_EQ(http_date(utc(2024, 2, 29, 23, 59, 59)), "Thu, 29 Feb 2024 23:59:59 GMT");
  EXPECT_EQ(http_date(utc(2000, 12, 31, 1, 2, 3)), "Sun, 31 Dec 2000 01:02:03 GMT");
  // Before the epoch (system_clock's nanoseconds reach 1678 to 2262).
  EXPECT_EQ(http_date(utc(1700, 1, 1)), "Fri, 01 Jan 1700 00:00:00 GMT");
  EXPECT_EQ(http_date(utc(1900, 3, 1, 23, 59, 59)), "Thu, 01 Mar 1900 23:59:59 GMT");
}

TEST(HttpDate, TruncatesToTheSecondDownwards) {
  EXPECT_EQ(http_date(utc(1994, 11, 6, 8, 49, 37) + std::chrono::milliseconds{999}),
            "Sun, 06 Nov 1994 08:49:37 GMT");
  // Before the epoch too: half a second before 1970 is still in 1969's last second.
  EXPECT_EQ(http_date(TimePoint{} - std::chrono::milliseconds{500}),
            "Wed, 31 Dec 1969 23:59:59 GMT");
}

TEST(HttpParseDate, ReadsTheThreeFormats) {
  const TimePoint t = utc(1994, 11, 6, 8, 49, 37);
  EXPECT_EQ(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), t);
  EXPECT_EQ(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), t);
  EXPECT_EQ(parse_http_date("Sun Nov  6 08:49:37 1994"), t);
  EXPECT_EQ(parse_http_date("Thu Feb 29 23:59:59 2024"), utc(2024, 2, 29, 23, 59, 59));
  EXPECT_EQ(parse_http_date("Wednesday, 09-Sep-09 09:09:09 GMT"), utc(2009, 9, 9, 9, 9, 9));
  // Surrounding whitespace is not part of the date.
  EXPECT_EQ(parse_http_date(" \tSun, 06 Nov 1994 08:49:37 GMT\t "), t);
}

TEST(HttpParseDate, RefusesYearsNoTimePointHolds) {
  // A system_clock time point spans 1677..2262: a later date would overflow (found by fuzzing).
  EXPECT_EQ(parse_http_date("Fri, 31 Dec 9999 23:59:59 GMT"), std::nullopt);
  EXPECT_EQ(parse_http_date("Mon, 01 Jan 0001 00:00:00 GMT"), std::nullopt);
  EXPECT_EQ(parse_http_date("Thu, 31 Dec 2261 23:59:59 GMT"), utc(2261, 12, 31, 23, 59, 59));
}

TEST(HttpParseDate, RoundTripsHttpDate) {
  for (const TimePoint t : {TimePoint{}, utc(1994, 11, 6, 8, 49, 37), utc(2026, 1, 1, 12),
                            utc(2024, 2, 29, 23, 59, 59), utc(2099, 12, 31, 23, 59, 59)}) {
    EXPECT_EQ(parse_http_date(http_date(t)), t) << http_date(t);
  }
}

TEST(HttpParseDate, Rfc850YearsPivotAt70) {
  EXPECT_EQ(parse_http_date("Thursday, 01-Jan-70 00:00:00 GMT"), utc(1970, 1, 1));
  EXPECT_EQ(parse_http_date("Friday, 31-Dec-99 23:59:59 GMT"), utc(1999, 12, 31, 23, 59, 59));
  EXPECT_EQ(parse_http_date("Saturday, 01-Jan-00 00:00:00 GMT"), utc(2000, 1, 1));
  EXPECT_EQ(parse_http_date("Saturday, 31-Dec-69 12:00:00 GMT"), utc(2069, 12, 31, 12));
}

TEST(HttpParseDate, LeapSecondIsTheNextMinutesFirst) {
  EXPECT_EQ(parse_http_date("Sat, 31 Dec 2016 23:59:60 GMT"), utc(2017, 1, 1));
}

TEST(HttpParseDate, WeekdayIsNotCheckedAgainstTheDate) {
  EXPECT_EQ(parse_http_date("Mon, 06 Nov 1994 08:49:37 GMT"), utc(1994, 11, 6, 8, 49, 37));
}

TEST(HttpParseDate, Garbage) {
  for (const std::string_view s : {
           "",
           "garbage",
           "784111777",
           "Sun, 06 Nov 1994 08:49:37",       // no zone
           "Sun, 06 Nov 1994 08:49:37 UTC",   // only GMT
           "Sun, 06 Nov 1994 08:49:37 gmt",   // case-sensitive
           "sun, 06 Nov 1994 08:49:37 GMT",   //
           "Sun, 06 nov 1994 08:49:37 GMT",   //
           "Xyz, 06 Nov 1994 08:49:37 GMT",   // no such day
           "Sun, 06 Nox 1994 08:49:37 GMT",   // no such month
           "Sun, 6 Nov 1994 08:49:37 GMT",    // two-digit day
           "Sun, 06 Nov 94 08:49:37 GMT",     // four-digit year
           "Sun, 06 Nov 1994 8:49:37 GMT",    // two-digit hour
           "Sun,06 Nov 1994 08:49:37 GMT",    // spacing
           "Sun, 06  Nov 1994 08:49:37 GMT",  //
           "Sun, 06 Nov 1994 08:49:37 GMT x",
           "Sun, 06 Nov 1994 08:49:37 GMTx",
           "Sun, 06 Nov 1994 08-49-37 GMT",
           "Sun, 31 Feb 1994 08:49:37 GMT",  // no such date
           "Sun, 00 Nov 1994 08:49:37 GMT",
           "Sun, 06 Nov 1994 24:00:00 GMT",  // hour 24
           "Sun, 06 Nov 1994 08:60:00 GMT",  // minute 60
           "Sun, 06 Nov 1994 08:49:61 GMT",  // second 61
           "Sunday, 06 Nov 1994 08:49:37 GMT",
           "Sun, 06-Nov-94 08:49:37 GMT",       // RFC 850 with a short day name
           "Sunday, 06-Nov-1994 08:49:37 GMT",  // RFC 850 has two-digit years
           "Sunday, 06-Nov-94 08:49:37",
           "Sun Nov 6 08:49:37 1994",    // asctime pads a one-digit day with a space
           "Sun Nov  16 08:49:37 1994",  //
           "Sun Nov 06 08:49:37 94",
           "Sun Nov  6 08:49:37 1994 GMT",
           "Sun, Nov  6 08:49:37 1994",
       }) {
    EXPECT_EQ(parse_http_date(s), std::nullopt) << s;
  }
}

// --- entity tags ---------------------------------------------------------------------------------

TEST(HttpMakeEtag, SizeAndSecondsInHex) {
  EXPECT_EQ(make_etag(0, TimePoint{}), "\"0-0\"");
  EXPECT_EQ(make_etag(10, utc(2026, 1, 1, 12)), "\"a-695661c0\"");
  EXPECT_EQ(make_etag(0x1234abcd, utc(1994, 11, 6, 8, 49, 37)), "\"1234abcd-2ebc98a1\"");
  EXPECT_EQ(make_etag(UINT64_MAX, TimePoint{}), "\"ffffffffffffffff-0\"");
  // Parts of a second do not count; times before the epoch count as it.
  EXPECT_EQ(make_etag(1, utc(2026, 1, 1, 12) + std::chrono::milliseconds{999}), "\"1-695661c0\"");
  EXPECT_EQ(make_etag(1, utc(1969, 12, 31)), "\"1-0\"");
}

TEST(HttpEtagListMatches, OneOrManyTags) {
  const std::string_view etag = "\"a-1\"";
  EXPECT_TRUE(etag_list_matches("\"a-1\"", etag));
  EXPECT_TRUE(etag_list_matches("\"b-2\", \"a-1\"", etag));
  EXPECT_TRUE(etag_list_matches("\"a-1\",\"b-2\"", etag));
  EXPECT_TRUE(etag_list_matches(" \"b-2\" ,\t\"a-1\" ", etag));
  EXPECT_TRUE(etag_list_matches("\"b-2\",, ,\"a-1\",", etag));  // empty list elements
  EXPECT_FALSE(etag_list_matches("\"b-2\"", etag));
  EXPECT_FALSE(etag_list_matches("\"b-2\", \"c-3\"", etag));
  EXPECT_FALSE(etag_list_matches("\"A-1\"", etag));  // opaque tags compare exactly
  EXPECT_FALSE(etag_list_matches("\"a-1 \"", etag));
  EXPECT_FALSE(etag_list_matches("", etag));
}

TEST(HttpEtagListMatches, WeakComparisonIgnoresW) {
  EXPECT_TRUE(etag_list_matches("W/\"a-1\"", "\"a-1\""));
  EXPECT_TRUE(etag_list_matches("\"x\", W/\"a-1\"", "\"a-1\""));
  EXPECT_TRUE(etag_list_matches("\"a-1\"", "W/\"a-1\""));
  EXPECT_TRUE(etag_list_matches("W/\"a-1\"", "W/\"a-1\""));
  // "W/" is case-sensitive.
  EXPECT_FALSE(etag_list_matches("w/\"a-1\"", "\"a-1\""));
}

TEST(HttpEtagListMatches, Star) {
  EXPECT_TRUE(etag_list_matches("*", "\"a-1\""));
  EXPECT_TRUE(etag_list_matches(" * ", "\"anything\""));
  // "*" is the whole field or nothing.
  EXPECT_FALSE(etag_list_matches("*, \"a-1\"", "\"a-1\""));
  EXPECT_FALSE(etag_list_matches("\"*\"", "\"a-1\""));
}

TEST(HttpEtagListMatches, QuotedCommasAndEmptyTags) {
  EXPECT_TRUE(etag_list_matches("\"x\", \"a,b\"", "\"a,b\""));
  EXPECT_FALSE(etag_list_matches("\"a\", \"b\"", "\"a,b\""));
  EXPECT_TRUE(etag_list_matches("\"\"", "\"\""));
  EXPECT_FALSE(etag_list_matches("\"\"", "\"a-1\""));
}

TEST(HttpEtagListMatches, MalformedListsMatchNothing) {
  const std::string_view etag = "\"a-1\"";
  for (const std::string_view header : {
           "a-1",                  // unquoted
           "\"a-1",                // unterminated
           "\"a-1\" x",            // junk after a tag
           "\"a-1\"\"b\"",         // no comma between tags
           "\"b\" junk, \"a-1\"",  // junk before the match
           "\"a-1\", junk",        // junk after the match
           "W/ \"a-1\"",           //
           "W/a-1",                //
           "\"a 1\", \"a-1\"",     // a space is not an etagc
           "\"a\x7F\", \"a-1\"",   // nor DEL
       }) {
    EXPECT_FALSE(etag_list_matches(header, etag)) << header;
  }
  // obs-text is allowed.
  EXPECT_TRUE(etag_list_matches("\"\xC3\xBC\"", "\"\xC3\xBC\""));
}

// --- ranges --------------------------------------------------------------------------------------

std::vector<std::pair<std::uint64_t, std::uint64_t>> spans(const RangeRequest& r) {
  std::vector<std::pair<std::uint64_t, std::uint64_t>> out;
  for (const ByteRange& b : r.ranges) out.emplace_back(b.first, b.last);
  return out;
}

using Spans = std::vector<std::pair<std::uint64_t, std::uint64_t>>;

void expect_ranges(std::string_view header, std::uint64_t size, Spans expected) {
  const RangeRequest r = parse_range(header, size);
  EXPECT_EQ(r.kind, Kind::satisfiable) << header;
  EXPECT_EQ(spans(r), expected) << header;
}

void expect_kind(std::string_view header, std::uint64_t size, Kind kind) {
  const RangeRequest r = parse_range(header, size);
  EXPECT_EQ(r.kind, kind) << header << " of " << size;
  EXPECT_TRUE(r.ranges.empty()) << header;
}

TEST(HttpParseRange, EveryForm) {
  expect_ranges("bytes=0-99", 1000, {{0, 99}});
  expect_ranges("bytes=0-0", 1000, {{0, 0}});
  expect_ranges("bytes=500-", 1000, {{500, 999}});
  expect_ranges("bytes=999-", 1000, {{999, 999}});
  expect_ranges("bytes=0-", 1000, {{0, 999}});
  expect_ranges("bytes=-500", 1000, {{500, 999}});
  expect_ranges("bytes=-1", 1000, {{999, 999}});
  expect_ranges("bytes=-1000", 1000, {{0, 999}});
  expect_ranges("bytes=999-999", 1000, {{999, 999}});
  EXPECT_EQ(parse_range("bytes=0-99", 1000).ranges[0].length(), 100u);
}

TEST(HttpParseRange, ClipsToTheFile) {
  expect_ranges("bytes=990-2000", 1000, {{990, 999}});
  expect_ranges("bytes=0-1000", 1000, {{0, 999}});
  expect_ranges("bytes=-2000", 1000, {{0, 999}});  // a suffix longer than the file: all of it
  // Numbers too large for 64 bits saturate.
  expect_ranges("bytes=0-99999999999999999999999", 1000, {{0, 999}});
  expect_ranges("bytes=-99999999999999999999999", 1000, {{0, 999}});
  expect_ranges("bytes=0-18446744073709551615", 1000, {{0, 999}});
}

TEST(HttpParseRange, SeveralInRequestOrder) {
  expect_ranges("bytes=0-1,5-6", 10, {{0, 1}, {5, 6}});
  expect_ranges("bytes=8-9,0-1", 10, {{8, 9}, {0, 1}});
  expect_ranges("bytes=0-1 , 5-6,\t8-", 10, {{0, 1}, {5, 6}, {8, 9}});
  expect_ranges("bytes=-2,0-0", 10, {{8, 9}, {0, 0}});
  // Overlapping and repeated ranges are kept as given.
  expect_ranges("bytes=0-5,3-8,0-5", 10, {{0, 5}, {3, 8}, {0, 5}});
  // Empty list elements are ignored.
  expect_ranges("bytes=0-1,,5-6,", 10, {{0, 1}, {5, 6}});
  expect_ranges("bytes=,0-1", 10, {{0, 1}});
}

TEST(HttpParseRange, UnsatisfiableOnesAreDropped) {
  expect_ranges("bytes=0-1,20-30,5-6", 10, {{0, 1}, {5, 6}});
  expect_ranges("bytes=10-,-0,9-", 10, {{9, 9}});
  expect_kind("bytes=10-", 10, Kind::unsatisfiable);
  expect_kind("bytes=10-20", 10, Kind::unsatisfiable);
  expect_kind("bytes=-0", 10, Kind::unsatisfiable);
  expect_kind("bytes=20-,-0", 10, Kind::unsatisfiable);
  expect_kind("bytes=99999999999999999999999-", 10, Kind::unsatisfiable);
}

TEST(HttpParseRange, EmptyFileSatisfiesNothing) {
  expect_kind("bytes=0-", 0, Kind::unsatisfiable);
  expect_kind("bytes=0-0", 0, Kind::unsatisfiable);
  expect_kind("bytes=-5", 0, Kind::unsatisfiable);
  expect_kind("bytes=-0", 0, Kind::unsatisfiable);
  // Syntax still comes first.
  expect_kind("bytes=x", 0, Kind::none);
}

TEST(HttpParseRange, UnitIsCaseInsensitiveBytesOnly) {
  expect_ranges("BYTES=0-1", 10, {{0, 1}});
  expect_ranges("Bytes=0-1", 10, {{0, 1}});
  expect_ranges("  bytes=0-1\t", 10, {{0, 1}});
  expect_kind("items=0-1", 10, Kind::none);
  expect_kind("byte=0-1", 10, Kind::none);
  expect_kind("bytesx=0-1", 10, Kind::none);
  expect_kind("bytes =0-1", 10, Kind::none);
  expect_kind("=0-1", 10, Kind::none);
}

TEST(HttpParseRange, BadSyntaxIsNone) {
  for (const std::string_view h :
       {"", "bytes", "bytes 0-1", "0-1", "bytes=", "bytes=,", "bytes=, ,", "bytes=-", "bytes=a-b",
        "bytes=1", "bytes=1-2-3", "bytes=5-1", "bytes=0x1-2", "bytes=+1-2", "bytes=-+1",
        "bytes=--1", "bytes=0 -1", "bytes=0- 1", "bytes=1.5-2", "bytes=0-1;5-6",
        // One bad element spoils the whole header.
        "bytes=0-1,5-1", "bytes=0-1,x", "bytes=0-1,-"}) {
    expect_kind(h, 1000, Kind::none);
  }
}

TEST(HttpParseRange, AtMost64Ranges) {
  std::string header = "bytes=0-0";
  for (int i = 1; i < 64; ++i) header += "," + std::to_string(i) + "-" + std::to_string(i);
  const RangeRequest ok = parse_range(header, 1000);
  EXPECT_EQ(ok.kind, Kind::satisfiable);
  ASSERT_EQ(ok.ranges.size(), 64u);
  EXPECT_EQ(ok.ranges[63].first, 63u);
  expect_kind(header + ",64-64", 1000, Kind::none);
  // Counted before any is checked against the size.
  std::string past_end = "bytes=2000-";
  for (int i = 0; i < 64; ++i) past_end += ",2000-";
  expect_kind(past_end, 1000, Kind::none);
  // Empty elements do not count.
  expect_ranges(header + ",,,", 1000, spans(ok));
}

// --- directory_listing ---------------------------------------------------------------------------

TEST(HttpDirectoryListing, AnEmptyFolder) {
  EXPECT_EQ(directory_listing("/a/", {}),
            "<!DOCTYPE html>\n"
            "<html>\n"
            "<head>\n"
            "<meta charset=\"utf-8\">\n"
            "<title>Index of /a/</title>\n"
            "</head>\n"
            "<body>\n"
            "<h1>Index of /a/</h1>\n"
            "<ul>\n"
            "<li><a href=\"../\">../</a></li>\n"
            "</ul>\n"
            "</body>\n"
            "</html>\n");
}

TEST(HttpDirectoryListing, FoldersFirstSortedBytewiseEscaped) {
  const std::string listing = directory_listing("/", {{"b.txt", false, 3},
                                                      {"zeta", true, 0},
                                                      {"<a&b>.txt", false, 5},
                                                      {"Alpha", true, 0},
                                                      {"\xC3\xA9.txt", false, 1},
                                                      {"B.txt", false, 0},
                                                      {"my file's.txt", false, 12345678901},
                                                      {"c:d.txt", false, 7}});
  EXPECT_EQ(listing,
            "<!DOCTYPE html>\n"
            "<html>\n"
            "<head>\n"
            "<meta charset=\"utf-8\">\n"
            "<title>Index of /</title>\n"
            "</head>\n"
            "<body>\n"
            "<h1>Index of /</h1>\n"
            "<ul>\n"
            "<li><a href=\"Alpha/\">Alpha/</a></li>\n"
            "<li><a href=\"zeta/\">zeta/</a></li>\n"
            "<li><a href=\"%3Ca&amp;b%3E.txt\">&lt;a&amp;b&gt;.txt</a> 5</li>\n"
            "<li><a href=\"B.txt\">B.txt</a> 0</li>\n"
            "<li><a href=\"b.txt\">b.txt</a> 3</li>\n"
            // ':' in a first segment would be a scheme: "./" before it.
            "<li><a href=\"./c:d.txt\">c:d.txt</a> 7</li>\n"
            "<li><a href=\"my%20file&#39;s.txt\">my file&#39;s.txt</a> 12345678901</li>\n"
            "<li><a href=\"%C3%A9.txt\">\xC3\xA9.txt</a> 1</li>\n"
            "</ul>\n"
            "</body>\n"
            "</html>\n");
}

TEST(HttpDirectoryListing, TitleIsEscaped) {
  const std::string listing = directory_listing("/<x> & y/", {});
  EXPECT_NE(listing.find("<title>Index of /&lt;x&gt; &amp; y/</title>"), std::string::npos);
  EXPECT_NE(listing.find("<h1>Index of /&lt;x&gt; &amp; y/</h1>"), std::string::npos);
}

// --- Docroot -------------------------------------------------------------------------------------

const TimePoint kClock = utc(2026, 1, 1, 12);
constexpr std::string_view kLastModified = "Thu, 01 Jan 2026 12:00:00 GMT";
constexpr std::uint64_t kSeed = 42;
constexpr std::string_view kBoundary = "protofarm-bdd732262feb6e95";  // splitmix64(42)

void write_file(const fs::path& p, std::string_view content) {
  std::ofstream out(p, std::ios::binary);
  out << content;
}

// The bytes a GET would send: literal parts as they are, file parts read from answer.file.
std::string body_bytes(const StaticAnswer& answer) {
  std::string out;
  for (const BodyPart& part : answer.body) {
    if (!part.from_file) {
      out += part.literal;
      continue;
    }
    std::ifstream in(answer.file, std::ios::binary);
    in.seekg(static_cast<std::streamoff>(part.offset));
    std::string slice(part.length, '\0');
    in.read(slice.data(), static_cast<std::streamsize>(part.length));
    out += slice;
  }
  return out;
}

std::optional<std::string> header(const StaticAnswer& answer, std::string_view name) {
  for (const auto& [n, v] : answer.headers) {
    if (n == name) return v;
  }
  return std::nullopt;
}

// A tree in a fresh temporary folder:
//   root/ten.txt "0123456789"       root/hello.txt      root/empty.txt
//   root/site/index.html            root/docs/...       root/empty_dir/   root/my dir/
//   root/fifo (a FIFO)              root/link_in.txt -> hello.txt   root/page.html -> hello.txt
//   root/link_out -> ../root2/secret.txt   root/dir_out -> ../root2   root/dangling -> missing
//   root2/secret.txt (beside root: a string prefix check would let it in)
class HttpDocroot : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "protofarm-docroot-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    base_ = tmpl;
    root_ = base_ / "root";
    fs::create_directories(root_ / "site");
    fs::create_directories(root_ / "docs" / "zeta");
    fs::create_directories(root_ / "docs" / "Alpha");
    fs::create_directories(root_ / "empty_dir");
    fs::create_directories(root_ / "my dir");
    fs::create_directories(base_ / "root2");
    write_file(root_ / "ten.txt", "0123456789");
    write_file(root_ / "hello.txt", "Hello, world!\n");
    write_file(root_ / "empty.txt", "");
    write_file(root_ / "site" / "index.html", "<p>site</p>\n");
    write_file(root_ / "docs" / "b.txt", "bbb");
    write_file(root_ / "docs" / "<a&b>.txt", "angle");
    write_file(root_ / "docs" / "c:d.txt", "colon");
    write_file(base_ / "root2" / "secret.txt", "secret");
    ASSERT_EQ(::mkfifo((root_ / "fifo").c_str(), 0600), 0);
    ASSERT_EQ(::mkfifo((root_ / "docs" / "pipe").c_str(), 0600), 0);
    fs::create_symlink("hello.txt", root_ / "link_in.txt");
    fs::create_symlink("hello.txt", root_ / "page.html");
    fs::create_symlink("../root2/secret.txt", root_ / "link_out");
    fs::create_symlink(base_ / "root2", root_ / "dir_out");
    fs::create_symlink("missing", root_ / "dangling");
    fs::create_symlink("../hello.txt", root_ / "docs" / "in.txt");
    fs::create_symlink("../../root2/secret.txt", root_ / "docs" / "out.txt");
    fs::create_symlink("../../root2", root_ / "docs" / "out_dir");
  }
  void TearDown() override {
    std::error_code ignored;
    fs::remove_all(base_, ignored);
  }

  DocrootOptions options(bool listing = true) const {
    DocrootOptions o;
    o.listing = listing;
    o.clock = kClock;
    o.seed = kSeed;
    return o;
  }
  std::optional<StaticAnswer> get(std::string_view path, bool listing = true) const {
    StaticRequest r;
    r.method = "GET";
    r.path = path;
    return Docroot(root_, options(listing)).answer(r);
  }
  std::optional<StaticAnswer> ask(const StaticRequest& r) const {
    return Docroot(root_, options()).answer(r);
  }
  fs::path real(const fs::path& p) const { return fs::canonical(p); }

  fs::path base_;
  fs::path root_;
};

TEST_F(HttpDocroot, AFile) {
  const auto a = get("/ten.txt");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->status, 200u);
  EXPECT_EQ(a->headers, (Headers{{"Content-Type", "text/plain; charset=utf-8"},
                                 {"Content-Length", "10"},
                                 {"ETag", "\"a-695661c0\""},
                                 {"Last-Modified", std::string(kLastModified)},
                                 {"Accept-Ranges", "bytes"}}));
  EXPECT_EQ(a->file, real(root_ / "ten.txt"));
  ASSERT_EQ(a->body.size(), 1u);
  EXPECT_TRUE(a->body[0].from_file);
  EXPECT_EQ(a->body[0].literal, "");
  EXPECT_EQ(a->body[0].offset, 0u);
  EXPECT_EQ(a->body[0].length, 10u);
  EXPECT_EQ(a->body_size(), 10u);
  EXPECT_EQ(body_bytes(*a), "0123456789");
}

TEST_F(HttpDocroot, AnEmptyFile) {
  const auto a = get("/empty.txt");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->status, 200u);
  EXPECT_EQ(header(*a, "Content-Length"), "0");
  EXPECT_EQ(header(*a, "ETag"), "\"0-695661c0\"");
  ASSERT_EQ(a->body.size(), 1u);
  EXPECT_TRUE(a->body[0].from_file);
  EXPECT_EQ(a->body[0].length, 0u);
}

TEST_F(HttpDocroot, HeadHasTheSameHeaders) {
  StaticRequest r;
  r.method = "HEAD";
  r.path = "/ten.txt";
  const auto head = ask(r);
  const auto get_answer = get("/ten.txt");
  ASSERT_TRUE(head && get_answer);
  EXPECT_EQ(head->status, 200u);
  EXPECT_EQ(head->headers, get_answer->headers);
  EXPECT_EQ(head->file, get_answer->file);
  EXPECT_EQ(head->body_size(), 10u);  // what a GET would send, for Content-Length
}

TEST_F(HttpDocroot, PathsAreNormalized) {
  for (const std::string_view path :
       {"/docs/../ten.txt", "//ten.txt", "/./ten.txt", "/%74en.txt", "/docs/%2e%2e/ten.txt"}) {
    const auto a = get(path);
    ASSERT_TRUE(a) << path;
    EXPECT_EQ(a->status, 200u) << path;
    EXPECT_EQ(a->file, real(root_ / "ten.txt")) << path;
  }
}

// --- conditional requests ------------------------------------------------------------------------

TEST_F(HttpDocroot, IfNoneMatchGives304) {
  for (const std::string_view inm :
       {"\"a-695661c0\"", "W/\"a-695661c0\"", "\"x\", \"a-695661c0\"", "*"}) {
    StaticRequest r;
    r.method = "GET";
    r.path = "/ten.txt";
    r.if_none_match = inm;
    const auto a = ask(r);
    ASSERT_TRUE(a) << inm;
    EXPECT_EQ(a->status, 304u) << inm;
    EXPECT_EQ(a->headers,
              (Headers{{"ETag", "\"a-695661c0\""}, {"Last-Modified", std::string(kLastModified)}}));
    EXPECT_TRUE(a->body.empty());
    EXPECT_EQ(a->body_size(), 0u);
  }
}

TEST_F(HttpDocroot, IfNoneMatchThatDiffersGives200) {
  StaticRequest r;
  r.method = "GET";
  r.path = "/ten.txt";
  r.if_none_match = "\"b-695661c0\"";
  const auto a = ask(r);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->status, 200u);
  EXPECT_EQ(body_bytes(*a), "0123456789");
}

TEST_F(HttpDocroot, IfModifiedSince) {
  struct Case {
    std::string_view since;
    unsigned status;
  };
  for (const Case c :
       {Case{"Thu, 01 Jan 2026 12:00:00 GMT", 304},  // the same second
        Case{"Thu, 01 Jan 2026 12:00:01 GMT", 304},  // later
        Case{"Thursday, 01-Jan-26 12:00:00 GMT", 304}, Case{"Thu Jan  1 12:00:00 2026", 304},
        Case{"Thu, 01 Jan 2026 11:59:59 GMT", 200},  // earlier
        Case{"not a date", 200}}) {
    StaticRequest r;
    r.method = "GET";
    r.path = "/ten.txt";
    r.if_modified_since = c.since;
    const auto a = ask(r);
    ASSERT_TRUE(a) << c.since;
    EXPECT_EQ(a->status, c.status) << c.since;
  }
}

TEST_F(HttpDocroot, IfNoneMatchTakesPrecedence) {
  StaticRequest r;
  r.method = "GET";
  r.path = "/ten.txt";
  r.if_modified_since = "Thu, 01 Jan 2026 12:00:00 GMT";  // alone: 304
  r.if_none_match = "\"other\"";
  auto a = ask(r);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->status, 200u);
  // And the other way round: a matching tag wins over an old date.
  r.if_modified_since = "Thu, 01 Jan 1970 00:00:00 GMT";
  r.if_none_match = "\"a-695661c0\"";
  a = ask(r);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->status, 304u);
}

TEST_F(HttpDocroot, ConditionalsComeBeforeRanges) {
  StaticRequest r;
  r.method = "GET";
  r.path = "/ten.txt";
  r.if_none_match = "\"a-695661c0\"";
  r.range = "bytes=0-1";
  const auto a = ask(r);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->status, 304u);
}

TEST_F(HttpDocroot, HeadGets304Too) {
  StaticRequest r;
  r.method = "HEAD";
  r.path = "/ten.txt";
  r.if_none_match = "\"a-695661c0\"";
  const auto a = ask(r);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->status, 304u);
}

// --- ranges --------------------------------------------------------------------------------------

StaticRequest range_request(std::string_view path, std::string_view range) {
  StaticRequest r;
  r.method = "GET";
  r.path = path;
  r.range = range;
  return r;
}

TEST_F(HttpDocroot, OneRange) {
  const auto a = ask(range_request("/ten.txt", "bytes=2-5"));
  ASSERT_TRUE(a);
  EXPECT_EQ(a->status, 206u);
  EXPECT_EQ(a->headers, (Headers{{"Content-Type", "text/plain; charset=utf-8"},
                                 {"Content-Length", "4"},
                                 {"Content-Range", "bytes 2-5/10"},
                                 {"ETag", "\"a-695661c0\""},
                                 {"Last-Modified", std::string(kLastModified)},
                                 {"Accept-Ranges", "bytes"}}));
  EXPECT_EQ(a->file, real(root_ / "ten.txt"));
  ASSERT_EQ(a->body.size(), 1u);
  EXPECT_TRUE(a->body[0].from_file);
  EXPECT_EQ(a->body[0].offset, 2u);
  EXPECT_EQ(a->body[0].length, 4u);
  EXPECT_EQ(body_bytes(*a), "2345");
}

TEST_F(HttpDocroot, OneRangeClippedAndSuffix) {
  auto a = ask(range_request("/ten.txt", "bytes=7-100"));
  ASSERT_TRUE(a);
  EXPECT_EQ(a->status, 206u);
  EXPECT_EQ(header(*a, "Content-Range"), "bytes 7-9/10");
  EXPECT_EQ(header(*a, "Content-Length"), "3");
  EXPECT_EQ(body_bytes(*a), "789");
  a = ask(range_request("/ten.txt", "bytes=-4"));
  ASSERT_TRUE(a);
  EXPECT_EQ(header(*a, "Content-Range"), "bytes 6-9/10");
  EXPECT_EQ(body_bytes(*a), "6789");
  // Only one of several is satisfiable: a single part, not multipart.
  a = ask(range_request("/ten.txt", "bytes=50-60,0-0"));
  ASSERT_TRUE(a);
  EXPECT_EQ(a->status, 206u);
  EXPECT_EQ(header(*a, "Content-Type"), "text/plain; charset=utf-8");
  EXPECT_EQ(header(*a, "Content-Range"), "bytes 0-0/10");
  EXPECT_EQ(body_bytes(*a), "0");
}

TEST_F(HttpDocroot, SeveralRangesAreMultipart) {
  const auto a = ask(range_request("/ten.txt", "bytes=0-1,5-"));
  ASSERT_TRUE(a);
  EXPECT_EQ(a->status, 206u);
  const std::string b(kBoundary);
  const std::string part1 =
      "\r\n--" + b +
      "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Range: bytes 0-1/10\r\n\r\n";
  const std::string part2 =
      "\r\n--" + b +
      "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Range: bytes 5-9/10\r\n\r\n";
  const std::string closing = "\r\n--" + b + "--\r\n";
  const std::string expected = part1 + "01" + part2 + "56789" + closing;
  EXPECT_EQ(body_bytes(*a), expected);
  EXPECT_EQ(a->body_size(), expected.size());
  EXPECT_EQ(a->headers, (Headers{{"Content-Type", "multipart/byteranges; boundary=" + b},
                                 {"Content-Length", std::to_string(expected.size())},
                                 {"ETag", "\"a-695661c0\""},
                                 {"Last-Modified", std::string(kLastModified)},
                                 {"Accept-Ranges", "bytes"}}));
  // The parts: headers as literals, the bytes as slices of the file.
  ASSERT_EQ(a->body.size(), 5u);
  EXPECT_FALSE(a->body[0].from_file);
  EXPECT_EQ(a->body[0].literal, part1);
  EXPECT_TRUE(a->body[1].from_file);
  EXPECT_EQ(a->body[1].offset, 0u);
  EXPECT_EQ(a->body[1].length, 2u);
  EXPECT_EQ(a->body[2].literal, part2);
  EXPECT_TRUE(a->body[3].from_file);
  EXPECT_EQ(a->body[3].offset, 5u);
  EXPECT_EQ(a->body[3].length, 5u);
  EXPECT_EQ(a->body[4].literal, closing);
}

TEST_F(HttpDocroot, MultipartKeepsOverlapsAndOrder) {
  const auto a = ask(range_request("/hello.txt", "bytes=7-11,0-4,3-8"));
  ASSERT_TRUE(a);
  const std::string b(kBoundary);
  auto part = [&](std::string_view range) {
    return "\r\n--" + b + "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Range: bytes " +
           std::string(range) + "/14\r\n\r\n";
  };
  EXPECT_EQ(body_bytes(*a), part("7-11") + "world" + part("0-4") + "Hello" + part("3-8") +
                                "lo, wo" + "\r\n--" + b + "--\r\n");
}

TEST_F(HttpDocroot, BoundaryComesFromTheSeed) {
  auto boundary = [&](std::uint64_t seed) {
    DocrootOptions o = options();
    o.seed = seed;
    const auto a = Docroot(root_, o).answer(range_request("/ten.txt", "bytes=0-0,2-2"));
    return a ? header(*a, "Content-Type").value_or("") : "";
  };
  EXPECT_EQ(boundary(0), "multipart/byteranges; boundary=protofarm-e220a8397b1dcdaf");
  EXPECT_EQ(boundary(7), "multipart/byteranges; boundary=protofarm-63cbe1e459320dd7");
  // 16 digits always: a small mix is padded with zeros.
  EXPECT_EQ(boundary(10), "multipart/byteranges; boundary=protofarm-088712be8a582fca");
  EXPECT_EQ(boundary(7), boundary(7));
}

TEST_F(HttpDocroot, UnsatisfiableRangeGives416) {
  const auto a = ask(range_request("/ten.txt", "bytes=10-"));
  ASSERT_TRUE(a);
  EXPECT_EQ(a->status, 416u);
  EXPECT_EQ(a->headers, (Headers{{"Content-Type", "text/plain; charset=utf-8"},
                                 {"Content-Length", "22"},
                                 {"Content-Range", "bytes */10"}}));
  EXPECT_EQ(body_bytes(*a), "Range Not Satisfiable\n");
  const auto empty = ask(range_request("/empty.txt", "bytes=0-"));
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->status, 416u);
  EXPECT_EQ(header(*empty, "Content-Range"), "bytes */0");
}

TEST_F(HttpDocroot, RangeThatDoesNotParseGivesTheWholeFile) {
  for (const std::string_view range : {"bytes=5-1", "items=0-1", "garbage"}) {
    const auto a = ask(range_request("/ten.txt", range));
    ASSERT_TRUE(a) << range;
    EXPECT_EQ(a->status, 200u) << range;
    EXPECT_EQ(header(*a, "Content-Range"), std::nullopt);
    EXPECT_EQ(body_bytes(*a), "0123456789");
  }
}

TEST_F(HttpDocroot, HeadIgnoresRange) {
  StaticRequest r = range_request("/ten.txt", "bytes=0-1");
  r.method = "HEAD";
  auto a = ask(r);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->status, 200u);
  EXPECT_EQ(a->headers, get("/ten.txt")->headers);
  r.range = "bytes=10-";  // not 416 either
  a = ask(r);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->status, 200u);
}

TEST_F(HttpDocroot, IfRange) {
  struct Case {
    std::string_view if_range;
    unsigned status;
  };
  for (const Case c :
       {Case{"\"a-695661c0\"", 206},                                         // the entity tag
        Case{"Thu, 01 Jan 2026 12:00:00 GMT", 206},                          // the date, exactly
        Case{"Thu Jan  1 12:00:00 2026", 206}, Case{"\"b-695661c0\"", 200},  // another tag
        Case{"W/\"a-695661c0\"", 200},               // weak tags never match
        Case{"Thu, 01 Jan 2026 12:00:01 GMT", 200},  // a later date
        Case{"Thu, 01 Jan 2026 11:59:59 GMT", 200},  // an earlier one
        Case{"garbage", 200}}) {
    StaticRequest r = range_request("/ten.txt", "bytes=0-1");
    r.if_range = c.if_range;
    const auto a = ask(r);
    ASSERT_TRUE(a) << c.if_range;
    EXPECT_EQ(a->status, c.status) << c.if_range;
    EXPECT_EQ(body_bytes(*a), c.status == 206 ? "01" : "0123456789") << c.if_range;
  }
}

TEST_F(HttpDocroot, IfRangeThatDoesNotMatchAlsoAvoids416) {
  StaticRequest r = range_request("/ten.txt", "bytes=10-");
  r.if_range = "\"other\"";
  const auto a = ask(r);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->status, 200u);
}

// --- folders -------------------------------------------------------------------------------------

TEST_F(HttpDocroot, FolderWithoutSlashRedirects) {
  auto a = get("/docs");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->status, 301u);
  EXPECT_EQ(a->headers, (Headers{{"Content-Type", "text/plain; charset=utf-8"},
                                 {"Content-Length", "18"},
                                 {"Location", "/docs/"}}));
  EXPECT_EQ(body_bytes(*a), "Moved Permanently\n");
  EXPECT_TRUE(a->file.empty());
  // The query is kept; the path is the normalized one, encoded again.
  StaticRequest r;
  r.method = "GET";
  r.path = "/my%20dir";
  r.query = "a=1&b=%20";
  a = ask(r);
  ASSERT_TRUE(a);
  EXPECT_EQ(header(*a, "Location"), "/my%20dir/?a=1&b=%20");
  a = get("/docs/../site");
  ASSERT_TRUE(a);
  EXPECT_EQ(header(*a, "Location"), "/site/");
  // HEAD is redirected too.
  r.method = "HEAD";
  r.path = "/docs";
  r.query = "";
  a = ask(r);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->status, 301u);
  EXPECT_EQ(header(*a, "Location"), "/docs/");
}

TEST_F(HttpDocroot, FolderWithIndexHtml) {
  for (const bool listing : {true, false}) {
    const auto a = get("/site/", listing);
    ASSERT_TRUE(a);
    EXPECT_EQ(a->status, 200u);
    EXPECT_EQ(a->headers, (Headers{{"Content-Type", "text/html; charset=utf-8"},
                                   {"Content-Length", "12"},
                                   {"ETag", "\"c-695661c0\""},
                                   {"Last-Modified", std::string(kLastModified)},
                                   {"Accept-Ranges", "bytes"}}));
    EXPECT_EQ(a->file, real(root_ / "site" / "index.html"));
    EXPECT_EQ(body_bytes(*a), "<p>site</p>\n");
  }
  // The index is a file like any other: ranges and validators apply.
  auto r = range_request("/site/", "bytes=0-2");
  const auto a = ask(r);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->status, 206u);
  EXPECT_EQ(body_bytes(*a), "<p>");
}

TEST_F(HttpDocroot, FolderListing) {
  const auto a = get("/docs/");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->status, 200u);
  // Folders first, then files, bytewise; the FIFO and the links out of the root are left out,
  // the link inside is listed with its target's size.
  const std::string expected =
      "<!DOCTYPE html>\n"
      "<html>\n"
      "<head>\n"
      "<meta charset=\"utf-8\">\n"
      "<title>Index of /docs/</title>\n"
      "</head>\n"
      "<body>\n"
      "<h1>Index of /docs/</h1>\n"
      "<ul>\n"
      "<li><a href=\"../\">../</a></li>\n"
      "<li><a href=\"Alpha/\">Alpha/</a></li>\n"
      "<li><a href=\"zeta/\">zeta/</a></li>\n"
      "<li><a href=\"%3Ca&amp;b%3E.txt\">&lt;a&amp;b&gt;.txt</a> 5</li>\n"
      "<li><a href=\"b.txt\">b.txt</a> 3</li>\n"
      "<li><a href=\"./c:d.txt\">c:d.txt</a> 5</li>\n"
      "<li><a href=\"in.txt\">in.txt</a> 14</li>\n"
      "</ul>\n"
      "</body>\n"
      "</html>\n";
  EXPECT_EQ(body_bytes(*a), expected);
  EXPECT_EQ(a->headers, (Headers{{"Content-Type", "text/html; charset=utf-8"},
                                 {"Content-Length", std::to_string(expected.size())}}));
  ASSERT_EQ(a->body.size(), 1u);
  EXPECT_FALSE(a->body[0].from_file);
}

TEST_F(HttpDocroot, ListingsOfTheRootAndOfAnEmptyFolder) {
  const auto root = get("/");
  ASSERT_TRUE(root);
  EXPECT_EQ(root->status, 200u);
  const std::string html = body_bytes(*root);
  EXPECT_EQ(html.find("href=\"../\""), std::string::npos);  // nothing above the root
  EXPECT_NE(html.find("<li><a href=\"docs/\">docs/</a></li>\n"
                      "<li><a href=\"empty_dir/\">empty_dir/</a></li>\n"
                      "<li><a href=\"my%20dir/\">my dir/</a></li>\n"
                      "<li><a href=\"site/\">site/</a></li>\n"
                      "<li><a href=\"empty.txt\">empty.txt</a> 0</li>\n"),
            std::string::npos)
      << html;
  for (const std::string_view hidden : {"fifo", "link_out", "dir_out", "dangling"}) {
    EXPECT_EQ(html.find(hidden), std::string::npos) << hidden;
  }
  const auto empty = get("/empty_dir/");
  ASSERT_TRUE(empty);
  EXPECT_EQ(body_bytes(*empty), directory_listing("/empty_dir/", {}));
}

TEST_F(HttpDocroot, ListingIgnoresValidatorsAndRanges) {
  StaticRequest r = range_request("/docs/", "bytes=0-1");
  r.if_none_match = "*";
  r.if_modified_since = "Thu, 01 Jan 2026 12:00:00 GMT";
  const auto a = ask(r);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->status, 200u);
  EXPECT_EQ(body_bytes(*a), body_bytes(*get("/docs/")));
}

TEST_F(HttpDocroot, ListingOffIsForbidden) {
  const auto a = get("/docs/", false);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->status, 403u);
  EXPECT_EQ(a->headers,
            (Headers{{"Content-Type", "text/plain; charset=utf-8"}, {"Content-Length", "10"}}));
  EXPECT_EQ(body_bytes(*a), "Forbidden\n");
  EXPECT_EQ(get("/", false)->status, 403u);
}

// --- what is not served --------------------------------------------------------------------------

TEST_F(HttpDocroot, MissingPathsAreNotFound) {
  for (const std::string_view path :
       {"/nope", "/nope/", "/docs/nope.txt", "/nope/../ten.txt/x", "/ten.txt/", "/ten.txt/x",
        "/dangling", "/docs%2Fb.txt", "/%2F", "/docs/%2fb.txt"}) {
    EXPECT_EQ(get(path), std::nullopt) << path;
  }
}

TEST_F(HttpDocroot, SymlinksOutOfTheRootAreNotFound) {
  for (const std::string_view path : {"/link_out", "/dir_out", "/dir_out/", "/dir_out/secret.txt",
                                      "/docs/out.txt", "/docs/out_dir/secret.txt"}) {
    EXPECT_EQ(get(path), std::nullopt) << path;
  }
  // Not for another method either.
  StaticRequest r;
  r.method = "POST";
  r.path = "/link_out";
  EXPECT_EQ(ask(r), std::nullopt);
}

TEST_F(HttpDocroot, SymlinksInsideTheRootAreServed) {
  auto a = get("/link_in.txt");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->status, 200u);
  EXPECT_EQ(a->file, real(root_ / "hello.txt"));
  EXPECT_EQ(body_bytes(*a), "Hello, world!\n");
  // The type comes from the name asked for.
  a = get("/page.html");
  ASSERT_TRUE(a);
  EXPECT_EQ(header(*a, "Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(a->file, real(root_ / "hello.txt"));
  a = get("/docs/in.txt");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->file, real(root_ / "hello.txt"));
}

TEST_F(HttpDocroot, RootGivenThroughASymlink) {
  fs::create_symlink(root_, base_ / "root_link");
  StaticRequest r;
  r.method = "GET";
  r.path = "/ten.txt";
  const auto a = Docroot(base_ / "root_link", options()).answer(r);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->status, 200u);
  EXPECT_EQ(a->file, real(root_ / "ten.txt"));
  EXPECT_EQ(Docroot(base_ / "root_link", options()).root(), base_ / "root_link");
}

TEST_F(HttpDocroot, MissingRootThrows) {
  EXPECT_THROW(Docroot(base_ / "no_such_root", options()), fs::filesystem_error);
}

TEST_F(HttpDocroot, AFifoIsForbidden) {
  const auto a = get("/fifo");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->status, 403u);
  EXPECT_EQ(body_bytes(*a), "Forbidden\n");
  EXPECT_TRUE(a->file.empty());
}

TEST_F(HttpDocroot, OtherMethodsAreNotAllowed) {
  for (const std::string_view path : {"/ten.txt", "/docs", "/docs/", "/site/", "/fifo"}) {
    for (const std::string_view method : {"POST", "PUT", "DELETE", "OPTIONS", "get"}) {
      StaticRequest r;
      r.method = method;
      r.path = path;
      const auto a = ask(r);
      ASSERT_TRUE(a) << method << " " << path;
      EXPECT_EQ(a->status, 405u) << method << " " << path;
      EXPECT_EQ(a->headers, (Headers{{"Content-Type", "text/plain; charset=utf-8"},
                                     {"Content-Length", "19"},
                                     {"Allow", "GET, HEAD, OPTIONS"}}));
      EXPECT_EQ(body_bytes(*a), "Method Not Allowed\n");
    }
  }
  // Nothing there: not the docroot's to refuse (CGI may take it).
  StaticRequest r;
  r.method = "POST";
  r.path = "/nope";
  EXPECT_EQ(ask(r), std::nullopt);
}

TEST_F(HttpDocroot, BadPathsAreBadRequests) {
  for (const std::string_view method : {"GET", "POST"}) {
    for (const std::string_view path : std::initializer_list<std::string_view>{
             "/..", "/../root2/secret.txt", "/docs/../../root2/secret.txt", "/%2e%2e/root2",
             "/%2E%2E/", "/ten.txt%00", "/ten.txt\0"sv, "/%zz", "", "ten.txt"}) {
      StaticRequest r;
      r.method = method;
      r.path = path;
      const auto a = ask(r);
      ASSERT_TRUE(a) << path;
      EXPECT_EQ(a->status, 400u) << path;
      EXPECT_EQ(a->headers,
                (Headers{{"Content-Type", "text/plain; charset=utf-8"}, {"Content-Length", "12"}}));
      EXPECT_EQ(body_bytes(*a), "Bad Request\n");
    }
  }
}

}  // namespace
}  // namespace protofarm::http
