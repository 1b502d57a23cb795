// The SMTP codec, byte by byte: command lines, paths and parameters, reply rendering with
// enhanced status codes, the DATA decoder's end-of-data modes, BDAT arguments, ids. The shared
// parts are tested on their own: numeric_reply_test, multiline_test, sasl_test.
#include <gtest/gtest.h>

#include "fakes/smtp/smtp_codec.hpp"

namespace protofarm::smtp {
namespace {

// --- replies ---------------------------------------------------------------------------------

TEST(SmtpReply, RendersOneLine) {
  EXPECT_EQ(render(make_reply(Code::kOk, "2.1.0", "Ok"), true), "250 2.1.0 Ok\r\n");
  EXPECT_EQ(render(make_reply(Code::kOk, "2.1.0", "Ok"), false), "250 Ok\r\n");
  EXPECT_EQ(render(make_reply(Code::kStartMailInput, "", "go"), true), "354 go\r\n");
}

TEST(SmtpReply, RendersContinuationLines) {
  Reply r{Code::kOk, "", {"mx.test", "PIPELINING", "SIZE 100"}};
  EXPECT_EQ(render(r, true), "250-mx.test\r\n250-PIPELINING\r\n250 SIZE 100\r\n");
  Reply h{Code::kHelp, "2.0.0", {"a", "b"}};
  EXPECT_EQ(render(h, true), "214-2.0.0 a\r\n214 2.0.0 b\r\n");
}

TEST(SmtpReply, EmptyTextKeepsTheSpace) {
  // RFC 4954 4: "334 " with an empty challenge.
  EXPECT_EQ(render(make_reply(Code::kAuthContinue, "", ""), true), "334 \r\n");
}

// --- commands --------------------------------------------------------------------------------

TEST(SmtpCommand, SplitsVerbAndArguments) {
  const Command c = parse_command("mail FROM:<a@b.c> SIZE=10\r\n");
  EXPECT_EQ(c.verb, "MAIL");
  EXPECT_EQ(c.args, "FROM:<a@b.c> SIZE=10");
  EXPECT_FALSE(c.bare_lf);
  EXPECT_FALSE(c.has_nul);
  EXPECT_FALSE(c.eight_bit);
}

TEST(SmtpCommand, TrimsBlanksAndFlagsBareLf) {
  const Command c = parse_command("NOOP   hello  \n");
  EXPECT_EQ(c.verb, "NOOP");
  EXPECT_EQ(c.args, "hello");
  EXPECT_TRUE(c.bare_lf);
  EXPECT_EQ(parse_command("QUIT").verb, "QUIT");  // end of input without a line end
  EXPECT_EQ(parse_command("\r\n").verb, "");
}

TEST(SmtpCommand, FlagsNulAndEightBit) {
  EXPECT_TRUE(parse_command(std::string("NO\0OP\r\n", 7)).has_nul);
  EXPECT_TRUE(parse_command("MAIL FROM:<j\xc3\xb6rg@b.c>\r\n").eight_bit);
  EXPECT_TRUE(parse_command("\xff\xfe\r\n").eight_bit);
}

// --- paths and parameters ------------------------------------------------------------------------

TEST(SmtpPath, ParsesMailFrom) {
  const PathArgs p = parse_path("FROM:<alice@example.test>", "FROM", true, false);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p.address, "alice@example.test");
  EXPECT_TRUE(p.params.empty());
}

TEST(SmtpPath, KeywordIsCaseInsensitiveAndSpaceAfterColonIsAllowed) {
  const PathArgs p = parse_path("from: <a@b.c>", "FROM", true, false);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p.address, "a@b.c");
}

TEST(SmtpPath, NullReversePathOnlyForMail) {
  EXPECT_TRUE(parse_path("FROM:<>", "FROM", true, false).ok());
  EXPECT_EQ(parse_path("TO:<>", "TO", false, false).error, PathArgs::Error::bad_address);
}

TEST(SmtpPath, PostmasterWithoutDomain) {
  const PathArgs p = parse_path("TO:<Postmaster>", "TO", false, false);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p.address, "Postmaster");
  EXPECT_FALSE(parse_path("TO:<bob>", "TO", false, false).ok());
}

TEST(SmtpPath, SourceRouteIsIgnored) {
  const PathArgs p = parse_path("TO:<@relay.test,@b.test:bob@c.test>", "TO", false, false);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p.address, "bob@c.test");
}

TEST(SmtpPath, QuotedLocalPartMayHoldSpacesAndBrackets) {
  const PathArgs p = parse_path("TO:<\"john >doe\"@b.test>", "TO", false, false);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p.address, "\"john >doe\"@b.test");
}

TEST(SmtpPath, SyntaxErrors) {
  EXPECT_EQ(parse_path("FROM alice@b.c", "FROM", true, false).error, PathArgs::Error::syntax);
  EXPECT_EQ(parse_path("FROM:alice@b.c", "FROM", true, false).error, PathArgs::Error::syntax);
  EXPECT_EQ(parse_path("FROM:<a@b.c", "FROM", true, false).error, PathArgs::Error::syntax);
  EXPECT_EQ(parse_path("FROM:<a@b.c>SIZE=1", "FROM", true, false).error, PathArgs::Error::syntax);
  EXPECT_EQ(parse_path("TO:<a@b.c>", "FROM", true, false).error, PathArgs::Error::syntax);
  EXPECT_EQ(parse_path("", "FROM", true, false).error, PathArgs::Error::syntax);
}

TEST(SmtpPath, BadAddresses) {
  for (const char* bad :
       {"FROM:<a@>", "FROM:<@b.c>", "FROM:<a..b@c.d>", "FROM:<.a@c.d>", "FROM:<a b@c.d>",
        "FROM:<a@-b.c>", "FROM:<a@b..c>", "FROM:<a@b_c.d>", "FROM:<a@[]>"}) {
    EXPECT_EQ(parse_path(bad, "FROM", true, false).error, PathArgs::Error::bad_address) << bad;
  }
  EXPECT_TRUE(parse_path("FROM:<a@[127.0.0.1]>", "FROM", true, false).ok());
  EXPECT_TRUE(parse_path("FROM:<a+tag@sub.b-c.d>", "FROM", true, false).ok());
}

TEST(SmtpPath, Utf8OnlyWhenAllowed) {
  const std::string args = "FROM:<j\xc3\xb6rg@b\xc3\xbc.test>";
  EXPECT_EQ(parse_path(args, "FROM", true, false).error, PathArgs::Error::bad_address);
  const PathArgs p = parse_path(args, "FROM", true, true);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p.address, "j\xc3\xb6rg@b\xc3\xbc.test");
  // Invalid UTF-8 is never an address.
  EXPECT_FALSE(parse_path("FROM:<j\xff@b.test>", "FROM", true, true).ok());
}

TEST(SmtpPath, Parameters) {
  const PathArgs p =
      parse_path("FROM:<a@b.c> size=1000 BODY=8BITMIME SMTPUTF8", "FROM", true, true);
  ASSERT_TRUE(p.ok());
  ASSERT_EQ(p.params.size(), 3u);
  EXPECT_EQ(p.params[0].keyword, "SIZE");
  EXPECT_EQ(p.params[0].value, "1000");
  EXPECT_EQ(p.params[1].keyword, "BODY");
  EXPECT_EQ(p.params[1].value, "8BITMIME");
  EXPECT_EQ(p.params[2].keyword, "SMTPUTF8");
  EXPECT_FALSE(p.params[2].value.has_value());
  EXPECT_EQ(parse_path("FROM:<a@b.c> =1", "FROM", true, false).error, PathArgs::Error::bad_param);
  EXPECT_EQ(parse_path("FROM:<a@b.c> SIZE=", "FROM", true, false).error,
            PathArgs::Error::bad_param);
  EXPECT_EQ(parse_path("FROM:<a@b.c> SI_ZE=1", "FROM", true, false).error,
            PathArgs::Error::bad_param);
}

TEST(SmtpDecimal, DigitsWithoutOverflow) {
  EXPECT_EQ(parse_decimal("0"), 0u);
  EXPECT_EQ(parse_decimal("18446744073709551615"), UINT64_MAX);
  EXPECT_FALSE(parse_decimal("18446744073709551616"));
  EXPECT_FALSE(parse_decimal(""));
  EXPECT_FALSE(parse_decimal("-1"));
  EXPECT_FALSE(parse_decimal("1e3"));
}

TEST(SmtpBdat, Arguments) {
  auto a = parse_bdat("1000");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->size, 1000u);
  EXPECT_FALSE(a->last);
  a = parse_bdat("0 last");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->size, 0u);
  EXPECT_TRUE(a->last);
  EXPECT_FALSE(parse_bdat(""));
  EXPECT_FALSE(parse_bdat("LAST"));
  EXPECT_FALSE(parse_bdat("10 FIRST"));
  EXPECT_FALSE(parse_bdat("10  LAST"));
  EXPECT_FALSE(parse_bdat("x"));
}

// --- DATA
// ------------------------------------------------------------------------------------------

// The DATA body is a dot-terminated block (tests/unit/multiline_test.cpp); what SMTP adds is
// which end line the scenario's end_of_data accepts, and its 1000-octet line limit.
TEST(SmtpData, EndOfDataModes) {
  const std::string smuggled = "a\n.\nMAIL FROM:<x@y.z>\r\n.\r\n";
  DataDecoder strict(EndOfData::strict, UINT64_MAX);
  EXPECT_EQ(strict.feed(smuggled), smuggled.size());
  EXPECT_TRUE(strict.done());
  EXPECT_EQ(strict.content(), "a\n.\nMAIL FROM:<x@y.z>\r\n");
  EXPECT_EQ(strict.bare_lf_lines(), 2u);
  DataDecoder lenient(EndOfData::lenient, UINT64_MAX);
  EXPECT_EQ(lenient.feed(smuggled), 4u);
  EXPECT_TRUE(lenient.done());
  EXPECT_EQ(lenient.content(), "a\n");
}

TEST(SmtpData, CountsLinesOver1000Octets) {
  // RFC 5321 4.5.3.1.6: 998 octets and CRLF are allowed, one more is not.
  DataDecoder d(EndOfData::strict, UINT64_MAX);
  d.feed(std::string(998, 'x') + "\r\n" + std::string(999, 'y') + "\r\n.\r\n");
  EXPECT_TRUE(d.done());
  EXPECT_EQ(d.long_lines(), 1u);
}

// --- determinism
// ----------------------------------------------------------------------------------

TEST(SmtpIds, QueueIdsDependOnlyOnTheirInputs) {
  const std::string a = queue_id(0, "mail", 1, 1);
  EXPECT_EQ(a.size(), 12u);
  EXPECT_EQ(a, queue_id(0, "mail", 1, 1));
  EXPECT_NE(a, queue_id(1, "mail", 1, 1));
  EXPECT_NE(a, queue_id(0, "mx", 1, 1));
  EXPECT_NE(a, queue_id(0, "mail", 2, 1));
  EXPECT_NE(a, queue_id(0, "mail", 1, 2));
  for (char c : a) EXPECT_TRUE((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'));
}

TEST(SmtpIds, CramChallengeUsesTheClock) {
  const auto t = std::chrono::system_clock::time_point(std::chrono::seconds(1767225600));
  const std::string c = cram_challenge(7, "mail", 3, t, "mx.test");
  EXPECT_EQ(c, cram_challenge(7, "mail", 3, t, "mx.test"));
  EXPECT_EQ(c.front(), '<');
  EXPECT_NE(c.find(".1767225600@mx.test>"), std::string::npos);
}

}  // namespace
}  // namespace protofarm::smtp
