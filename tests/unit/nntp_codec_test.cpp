// The NNTP codec, byte by byte: command lines, article numbers and ranges, message-ids,
// wildmats, article parsing, overview lines, dates, replies and the dot-stuffing check.
#include <gtest/gtest.h>

#include <chrono>

#include "fakes/nntp/nntp_codec.hpp"

namespace protofarm::nntp {
namespace {

using namespace std::string_literals;
using namespace std::chrono_literals;

TimePoint utc(int y, unsigned m, unsigned d, int h = 0, int mi = 0, int s = 0) {
  return std::chrono::sys_days{std::chrono::year{y} / std::chrono::month{m} / std::chrono::day{d}} +
         std::chrono::hours{h} + std::chrono::minutes{mi} + std::chrono::seconds{s};
}

// --- command lines (RFC 3977 3.1) ---------------------------------------------------------------

TEST(NntpCodec, ParsesVerbArgsAndWords) {
  const Command c = parse_command("listgroup\tcomp.lang.python   3-10\r\n");
  EXPECT_EQ(c.verb, "LISTGROUP");
  EXPECT_EQ(c.args, "comp.lang.python   3-10");
  EXPECT_EQ(c.words, (std::vector<std::string>{"comp.lang.python", "3-10"}));
  EXPECT_FALSE(c.bare_lf);
  EXPECT_FALSE(c.has_nul);
  const Command plain = parse_command("  date\r\n");
  EXPECT_EQ(plain.verb, "DATE");
  EXPECT_EQ(plain.args, "");
  EXPECT_TRUE(plain.words.empty());
}

TEST(NntpCodec, FlagsBareLfNulAndBlankLines) {
  EXPECT_TRUE(parse_command("QUIT\n").bare_lf);
  EXPECT_EQ(parse_command("QUIT\n").verb, "QUIT");
  const Command nul = parse_command("GROUP a\0b\r\n"s);
  EXPECT_TRUE(nul.has_nul);
  EXPECT_EQ(nul.words, (std::vector<std::string>{"a\0b"s}));
  EXPECT_EQ(parse_command("\r\n").verb, "");
  EXPECT_EQ(parse_command(" \t \r\n").verb, "");
  // No line end at all (the client closed): the text still parses.
  EXPECT_EQ(parse_command("HELP").verb, "HELP");
}

TEST(NntpCodec, RestAfterFirstWordKeepsSpaces) {
  EXPECT_EQ(rest_after_first_word("PASS my secret  word"), "my secret  word");
  EXPECT_EQ(rest_after_first_word("USER\t alice"), "alice");
  EXPECT_EQ(rest_after_first_word("USER"), "");
}

// --- numbers, ranges, message-ids (RFC 3977 3.6, 6.1.2)
// -------------------------------------------

TEST(NntpCodec, ArticleNumbers) {
  EXPECT_EQ(parse_article_number("1"), 1u);
  EXPECT_EQ(parse_article_number("0"), 0u);
  EXPECT_EQ(parse_article_number("2147483647"), 2147483647u);
  EXPECT_EQ(parse_article_number("9999999999999999"), 9999999999999999u);  // 16 digits
  EXPECT_EQ(parse_article_number("99999999999999999"), std::nullopt);      // 17
  for (const char* bad : {"", "-1", "+1", "1a", " 1", "1.0"})
    EXPECT_EQ(parse_article_number(bad), std::nullopt) << bad;
}

TEST(NntpCodec, Ranges) {
  const auto one = parse_range("5");
  ASSERT_TRUE(one);
  EXPECT_EQ(one->low, 5u);
  EXPECT_EQ(one->high, 5u);
  const auto open = parse_range("5-");
  ASSERT_TRUE(open);
  EXPECT_EQ(open->low, 5u);
  EXPECT_EQ(open->high, std::nullopt);
  const auto closed = parse_range("5-9");
  ASSERT_TRUE(closed);
  EXPECT_EQ(closed->high, 9u);
  // m < n is a valid range with nothing in it (RFC 3977 6.1.2.2).
  const auto backwards = parse_range("9-5");
  ASSERT_TRUE(backwards);
  EXPECT_EQ(backwards->low, 9u);
  EXPECT_EQ(backwards->high, 5u);
  // INN's extensions: "-m" and "-" start at zero.
  EXPECT_EQ(parse_range("-5")->low, 0u);
  EXPECT_EQ(parse_range("-5")->high, 5u);
  EXPECT_EQ(parse_range("-")->high, std::nullopt);
  for (const char* bad : {"", "a", "a-b", "5--6", "5-6-7", "1 -2", "<5@x>", "12345678901234567-"})
    EXPECT_EQ(parse_range(bad), std::nullopt) << bad;
}

TEST(NntpCodec, MessageIds) {
  EXPECT_TRUE(is_message_id("<a@b>"));
  EXPECT_TRUE(is_message_id("<a>"));  // RFC 3977 3.6 asks for no "@"
  EXPECT_TRUE(is_message_id("<<a@b>"));
  EXPECT_TRUE(is_message_id("<" + std::string(248, 'x') + ">"));   // 250 octets
  EXPECT_FALSE(is_message_id("<" + std::string(249, 'x') + ">"));  // 251
  for (const char* bad : {"", "<>", "a@b", "<a@b", "a@b>", "<a b@c>", "<a>b@c>", "<a@b>\r"})
    EXPECT_FALSE(is_message_id(bad)) << bad;
  EXPECT_FALSE(is_message_id("<\xc3\xa9@b>"));  // printable US-ASCII only
  EXPECT_FALSE(is_message_id("<a\x7f@b>"));
  EXPECT_TRUE(is_article_message_id("<a@b>"));
  for (const char* bad : {"<ab>", "<@b>", "<a@>", "<a b@c>"})
    EXPECT_FALSE(is_article_message_id(bad)) << bad;
}

// --- wildmats (RFC 3977 4) ----------------------------------------------------------------------

bool wild(std::string_view pattern, std::string_view text) {
  const auto w = Wildmat::parse(pattern);
  EXPECT_TRUE(w) << pattern;
  return w && w->matches(text);
}

TEST(NntpCodec, WildmatBasics) {
  EXPECT_TRUE(wild("*", "comp.lang.python"));
  EXPECT_TRUE(wild("*", ""));
  EXPECT_TRUE(wild("comp.*", "comp.lang.c"));
  EXPECT_FALSE(wild("comp.*", "alt.comp"));
  EXPECT_TRUE(wild("comp.lang.c", "comp.lang.c"));
  EXPECT_FALSE(wild("comp.lang.c", "comp.lang.c++"));
  EXPECT_TRUE(wild("misc.tes?", "misc.test"));
  EXPECT_FALSE(wild("misc.tes?", "misc.tes"));
  EXPECT_TRUE(wild("*.c", "comp.lang.c"));
  EXPECT_TRUE(wild("c*l*c", "comp.lang.c"));
  EXPECT_FALSE(wild("c*l*c", "comp.lang.cx"));
}

TEST(NntpCodec, WildmatClassesAndQuoting) {
  EXPECT_TRUE(wild("misc.[op]*", "misc.other"));
  EXPECT_FALSE(wild("misc.[op]*", "misc.test"));
  EXPECT_TRUE(wild("[a-c]x", "bx"));
  EXPECT_FALSE(wild("[a-c]x", "dx"));
  EXPECT_TRUE(wild("[^a-c]x", "dx"));
  EXPECT_FALSE(wild("[^a-c]x", "ax"));
  EXPECT_TRUE(wild("[]]", "]"));  // "]" first is a member
  EXPECT_TRUE(wild("[^]]", "a"));
  EXPECT_TRUE(wild("a\\*", "a*"));  // "\" quotes
  EXPECT_FALSE(wild("a\\*", "ab"));
  EXPECT_TRUE(wild("a\\,b", "a,b"));
}

TEST(NntpCodec, WildmatQuestionMarkIsOneUtf8Character) {
  EXPECT_TRUE(wild("caf?", "caf\xc3\xa9"));
  EXPECT_FALSE(wild("caf??", "caf\xc3\xa9"));
  EXPECT_TRUE(wild("[\xc3\xa0-\xc3\xaa]", "\xc3\xa9"));
}

TEST(NntpCodec, WildmatLastMatchWins) {
  // RFC 3977 4.2: the rightmost pattern that matches decides.
  EXPECT_TRUE(wild("*,!comp.*", "misc.test"));
  EXPECT_FALSE(wild("*,!comp.*", "comp.lang.c"));
  EXPECT_TRUE(wild("*,!comp.*,comp.lang.*", "comp.lang.c"));
  EXPECT_FALSE(wild("*,!comp.*,comp.lang.*", "comp.os.linux"));
  EXPECT_FALSE(wild("!comp.*", "misc.test"));  // a lone negation matches nothing
}

TEST(NntpCodec, InvalidWildmats) {
  for (const char* bad : {"", ",", "a,,b", "a,", ",a", "!", "a,!", "[abc", "abc\\", "a,[b"})
    EXPECT_FALSE(Wildmat::parse(bad)) << bad;
}

TEST(NntpCodec, WildmatIsLinearOnHostilePatterns) {
  // Patterns that make naive backtracking exponential end at once.
  const std::string text(400, 'a');
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(wild("*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b", text));
  EXPECT_TRUE(wild("*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a", text));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
}

// --- articles (RFC 5536) ------------------------------------------------------------------------

const std::string kArticle =
    "From: Alice <alice@example.test>\r\n"
    "Newsgroups: comp.lang.python\r\n"
    "Subject: hello\r\n"
    "X-Folded: one\r\n"
    "\ttwo\r\n"
    "Message-ID: <3@example.test>\r\n"
    "\r\n"
    "first line\r\n"
    ".a line that starts with a dot\r\n";

TEST(NntpCodec, ParsesHeadersAndBody) {
  const ParsedArticle p = parse_article(kArticle);
  EXPECT_TRUE(p.has_body);
  EXPECT_EQ(p.bare_lf_lines, 0u);
  EXPECT_EQ(p.bad_header, "");
  ASSERT_EQ(p.article.headers.size(), 5u);
  EXPECT_EQ(p.article.headers[0].name, "From");
  EXPECT_EQ(p.article.headers[0].value, "Alice <alice@example.test>");
  EXPECT_EQ(p.article.headers[3].value, "one\r\n\ttwo");
  EXPECT_EQ(p.article.headers[3].raw, "X-Folded: one\r\n\ttwo\r\n");
  EXPECT_EQ(p.article.value("message-id"), "<3@example.test>");  // names ignore case
  EXPECT_EQ(p.article.value("References"), "");
  EXPECT_EQ(p.article.body, "first line\r\n.a line that starts with a dot\r\n");
  // Sent as it came: render() gives the bytes back, size() counts them without rendering.
  EXPECT_EQ(p.article.render(), kArticle);
  EXPECT_EQ(p.article.size(), kArticle.size());
  EXPECT_EQ(p.article.body_lines(), 2u);
  EXPECT_EQ(p.article.head(), kArticle.substr(0, kArticle.find("\r\n\r\n") + 2));
}

TEST(NntpCodec, BareLfIsTakenAndCounted) {
  const ParsedArticle p = parse_article("From: a@b.test\nSubject: x\r\n\nline\nlast");
  EXPECT_EQ(p.bare_lf_lines, 3u);
  EXPECT_TRUE(p.has_body);
  EXPECT_EQ(p.article.render(), "From: a@b.test\r\nSubject: x\r\n\r\nline\r\nlast\r\n");
}

TEST(NntpCodec, ReportsWhatIsNotAHeader) {
  EXPECT_EQ(parse_article("just text\r\n\r\nbody\r\n").bad_header, "just text");
  EXPECT_EQ(parse_article("Subject:x\r\n\r\nbody\r\n").bad_header, "Subject:x");
  EXPECT_EQ(parse_article(" folded first\r\n\r\n").bad_header, " folded first");
  EXPECT_EQ(parse_article("Bad Name: x\r\n\r\n").bad_header, "Bad Name: x");
  EXPECT_EQ(parse_article("Empty:\r\n\r\nbody\r\n").bad_header, "");  // no content is fine
  const ParsedArticle no_body = parse_article("Subject: x\r\n");
  EXPECT_FALSE(no_body.has_body);
  EXPECT_EQ(no_body.article.body, "");
  const ParsedArticle empty = parse_article("");
  EXPECT_FALSE(empty.has_body);
  EXPECT_TRUE(empty.article.headers.empty());
}

TEST(NntpCodec, AddsAndRemovesHeaders) {
  Article a = parse_article(kArticle).article;
  a.add("Path", "protofarm!not-for-mail");
  EXPECT_EQ(a.headers.back().raw, "Path: protofarm!not-for-mail\r\n");
  a.add("path", "second");
  EXPECT_EQ(a.count("PATH"), 2u);
  a.remove("Path");
  EXPECT_EQ(a.count("Path"), 0u);
  EXPECT_EQ(a.render(), kArticle);
}

TEST(NntpCodec, NewsgroupsHeaderAndNames) {
  EXPECT_EQ(split_newsgroups("comp.lang.c, misc.test,\r\n alt.x,,"),
            (std::vector<std::string>{"comp.lang.c", "misc.test", "alt.x"}));
  EXPECT_TRUE(split_newsgroups(" , ").empty());
  EXPECT_TRUE(is_newsgroup_name("comp.lang.c++"));
  EXPECT_TRUE(is_newsgroup_name("alt.binaries.x_y-z"));
  for (const char* bad : {"", ".a", "a.", "a..b", "a b", "a,b", "a*", "caf\xc3\xa9"})
    EXPECT_FALSE(is_newsgroup_name(bad)) << bad;
}

// --- overview (RFC 3977 8.3) --------------------------------------------------------------------

TEST(NntpCodec, OverviewTextUnfoldsAndBlanksTabs) {
  EXPECT_EQ(overview_text("one\r\n\ttwo"), "one two");  // the fold's CRLF goes, its tab is a space
  EXPECT_EQ(overview_text("a\tb\rc\nd"), "a b c d");
  EXPECT_EQ(overview_text("a\0b"s), "a b");
}

TEST(NntpCodec, OverviewLine) {
  const Article a = parse_article(kArticle).article;
  EXPECT_EQ(overview_line(3, a, "protofarm comp.lang.python:3"),
            "3\thello\tAlice <alice@example.test>\t\t<3@example.test>\t\t" +
                std::to_string(kArticle.size()) + "\t2\tXref: protofarm comp.lang.python:3");
  EXPECT_EQ(overview_line(0, a, ""),
            "0\thello\tAlice <alice@example.test>\t\t<3@example.test>\t\t" +
                std::to_string(kArticle.size()) + "\t2\t");
}

// --- dates --------------------------------------------------------------------------------------

TEST(NntpCodec, ArticleDates) {
  EXPECT_EQ(article_date(utc(2026, 1, 1)), "Thu, 01 Jan 2026 00:00:00 +0000");
  EXPECT_EQ(article_date(utc(2026, 3, 1, 12, 30, 5)), "Sun, 01 Mar 2026 12:30:05 +0000");
  EXPECT_EQ(parse_article_date("Thu, 01 Jan 2026 00:00:00 +0000"), utc(2026, 1, 1));
  EXPECT_EQ(parse_article_date("1 Jan 2026 00:00 +0000"), utc(2026, 1, 1));
  EXPECT_EQ(parse_article_date("Wed, 31 Dec 2025 19:00:00 -0500"), utc(2026, 1, 1));
  EXPECT_EQ(parse_article_date("Thu, 01 Jan 2026 01:00:00 +0100 (CET)"), utc(2026, 1, 1));
  EXPECT_EQ(parse_article_date("01 jan 26 00:00:00 GMT"), utc(2026, 1, 1));
  EXPECT_EQ(parse_article_date("01 Jan 99 00:00:00 EST"), utc(1999, 1, 1, 5));
  for (const char* bad :
       {"", "yesterday", "32 Jan 2026 00:00:00 +0000", "01 Foo 2026 00:00 +0000",
        "01 Jan 2026 24:00:00 +0000", "01 Jan 2026 00:00:00 +9999", "01 Jan 2026 00:00:00 XYZ"})
    EXPECT_EQ(parse_article_date(bad), std::nullopt) << bad;
}

TEST(NntpCodec, NntpDatesAndStamps) {
  const TimePoint now = utc(2026, 3, 1, 12, 30);
  EXPECT_EQ(date_stamp(now), "20260301123000");
  EXPECT_EQ(parse_nntp_date("20240101", "000000", now), utc(2024, 1, 1));
  EXPECT_EQ(parse_nntp_date("20251231", "235959", now), utc(2025, 12, 31, 23, 59, 59));
  // RFC 3977 7.3.2: a two-digit year is this century unless that is in the future.
  EXPECT_EQ(parse_nntp_date("260101", "000000", now), utc(2026, 1, 1));
  EXPECT_EQ(parse_nntp_date("270101", "000000", now), utc(1927, 1, 1));
  EXPECT_EQ(parse_nntp_date("991231", "120000", now), utc(1999, 12, 31, 12));
  for (const auto& [d, t] :
       std::vector<std::pair<const char*, const char*>>{{"20261301", "000000"},
                                                        {"20260230", "000000"},
                                                        {"20260101", "250000"},
                                                        {"20260101", "006000"},
                                                        {"2026", "000000"},
                                                        {"2026010", "000000"},
                                                        {"yesterday", "000000"},
                                                        {"20260101", "0000"},
                                                        {"20260101", "00000x"},
                                                        // no system_clock time (found by fuzzing)
                                                        {"99991231", "235959"},
                                                        {"00010101", "000000"}})
    EXPECT_EQ(parse_nntp_date(d, t, now), std::nullopt) << d << " " << t;
}

TEST(NntpCodec, IsoTimes) {
  EXPECT_EQ(parse_iso_time("2020-01-01T00:00:00Z"), utc(2020, 1, 1));
  EXPECT_EQ(parse_iso_time("2020-01-01 10:20:30"), utc(2020, 1, 1, 10, 20, 30));
  EXPECT_EQ(parse_iso_time("2020-01-01"), utc(2020, 1, 1));
  EXPECT_EQ(parse_iso_time("2020-01-01T01:00:00+01:00"), utc(2020, 1, 1));  // as `clock:` takes it
  for (const char* bad : {"", "2020", "2020-13-01", "2020-01-01T", "2020-01-01T00:00:00+0100",
                          "2020/01/01", "2020-01-01X00:00:00", "4050-01-01"})
    EXPECT_EQ(parse_iso_time(bad), std::nullopt) << bad;
  EXPECT_EQ(unix_seconds(utc(2020, 1, 1)), 1577836800);
}

// --- replies ------------------------------------------------------------------------------------

TEST(NntpCodec, Replies) {
  EXPECT_EQ(reply(211, "3 3 10 comp.lang.python"), "211 3 3 10 comp.lang.python\r\n");
  std::string out;
  append_block_line(out, ".dot");
  append_block_line(out, "plain");
  append_block_line(out, "");
  EXPECT_EQ(out, "..dot\r\nplain\r\n\r\n");
  EXPECT_EQ(multiline(215, "list follows", {"a", ".b"}), "215 list follows\r\na\r\n..b\r\n.\r\n");
  EXPECT_EQ(multiline(231, "none", {}), "231 none\r\n.\r\n");
}

// --- the dot-stuffing check ---------------------------------------------------------------------

std::uint64_t bad_line(std::string_view block, bool byte_by_byte) {
  StuffingCheck check;
  if (byte_by_byte)
    for (char c : block) check.feed(std::string_view(&c, 1));
  else
    check.feed(block);
  return check.first_bad_line();
}

TEST(NntpCodec, FindsUndoubledDots) {
  for (bool bytes : {false, true}) {
    SCOPED_TRACE(bytes ? "byte by byte" : "at once");
    EXPECT_EQ(bad_line("Subject: x\r\n\r\n..stuffed\r\n..\r\n.\r\n", bytes), 0u);
    EXPECT_EQ(bad_line(".\r\n", bytes), 0u);  // the terminator alone: an empty article
    EXPECT_EQ(bad_line("Subject: x\r\n\r\n.not stuffed\r\n.\r\n", bytes), 3u);
    EXPECT_EQ(bad_line("a\r\nb\r\n.x\r\n.y\r\n.\r\n", bytes), 3u);
    // A lone "." after a bare LF does not end the block, and was not doubled.
    EXPECT_EQ(bad_line("a\r\nb\n.\nc\r\n.\r\n", bytes), 3u);
    EXPECT_EQ(bad_line("a\r\n.\rx\r\n.\r\n", bytes), 2u);
  }
}

}  // namespace
}  // namespace protofarm::nntp
