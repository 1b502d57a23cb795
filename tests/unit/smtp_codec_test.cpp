// The SMTP codec, byte by byte: command lines, paths and parameters, reply rendering, the DATA
// decoder in every end-of-data mode and every split of its input, BDAT arguments, SASL.
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

TEST(SmtpReply, CodeOfScriptedText) {
  EXPECT_EQ(reply_code_of("451 4.7.1 greylisted"), 451);
  EXPECT_EQ(reply_code_of("250"), 250);
  EXPECT_EQ(reply_code_of("250-first"), 250);
  EXPECT_EQ(reply_code_of("25"), 0);
  EXPECT_EQ(reply_code_of("2500 x"), 0);
  EXPECT_EQ(reply_code_of("hello"), 0);
  EXPECT_EQ(reply_code_of(""), 0);
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

struct Decoded {
  bool done = false;
  std::size_t consumed = 0;
  std::string content;
  std::uint64_t size = 0, long_lines = 0, bare_lf = 0;
};

// Feeds `input` in pieces of `piece` bytes (0: all at once).
Decoded decode(std::string_view input, EndOfData mode, std::size_t piece = 0,
               std::uint64_t keep = UINT64_MAX) {
  DataDecoder d(mode, keep);
  Decoded out;
  if (piece == 0) piece = input.size() ? input.size() : 1;
  for (std::size_t i = 0; i < input.size() && !d.done(); i += piece) {
    const std::string_view part = input.substr(i, piece);
    const std::size_t n = d.feed(part);
    out.consumed += n;
    if (!d.done()) EXPECT_EQ(n, part.size());
  }
  out.done = d.done();
  out.content = d.content();
  out.size = d.size();
  out.long_lines = d.long_lines();
  out.bare_lf = d.bare_lf_lines();
  return out;
}

// Every split of the input, byte by byte included, must decode the same way.
void expect_decodes(std::string_view input, EndOfData mode, bool done, std::string_view content,
                    std::size_t consumed) {
  for (std::size_t piece :
       {std::size_t{0}, std::size_t{1}, std::size_t{2}, std::size_t{3}, std::size_t{7}}) {
    const Decoded d = decode(input, mode, piece);
    EXPECT_EQ(d.done, done) << "piece " << piece;
    EXPECT_EQ(d.content, content) << "piece " << piece;
    if (done) EXPECT_EQ(d.consumed, consumed) << "piece " << piece;
  }
}

TEST(SmtpData, EndsAtCrLfDotCrLf) {
  const std::string in = "Subject: hi\r\n\r\nbody\r\n.\r\nQUIT\r\n";
  expect_decodes(in, EndOfData::strict, true, "Subject: hi\r\n\r\nbody\r\n", in.size() - 6);
}

TEST(SmtpData, EmptyMessage) { expect_decodes(".\r\n", EndOfData::strict, true, "", 3); }

TEST(SmtpData, RemovesDotStuffing) {
  expect_decodes("..\r\n..hidden\r\n.x\r\n.\r\n", EndOfData::strict, true, ".\r\n.hidden\r\nx\r\n",
                 21);
}

TEST(SmtpData, DotInsideALineIsData) {
  expect_decodes("a.\r\nb .\r\n.\r\n", EndOfData::strict, true, "a.\r\nb .\r\n", 12);
}

TEST(SmtpData, StrictIgnoresBareLfForms) {
  // The SMTP smuggling forms: none of them ends the body in strict mode.
  const std::string in = "a\n.\nMAIL FROM:<x@y.z>\r\nb\r\n.\n\r\nc\n.\r\nd\r\n.\r\n";
  const Decoded d = decode(in, EndOfData::strict);
  EXPECT_TRUE(d.done);
  EXPECT_EQ(d.consumed, in.size());
  EXPECT_EQ(d.content, "a\n.\nMAIL FROM:<x@y.z>\r\nb\r\n.\n\r\nc\n.\r\nd\r\n");
  EXPECT_EQ(d.bare_lf, 4u);
  expect_decodes(in, EndOfData::strict, true, d.content, in.size());
}

TEST(SmtpData, LenientEndsAtLfDotLf) {
  expect_decodes("a\n.\nMAIL FROM:<x@y.z>\r\n", EndOfData::lenient, true, "a\n", 4);
}

TEST(SmtpData, LenientEndsAtCrLfDotLf) {
  expect_decodes("a\r\n.\nrest", EndOfData::lenient, true, "a\r\n", 5);
}

TEST(SmtpData, LenientEndsAtLfDotCrLf) {
  expect_decodes("a\n.\r\nrest", EndOfData::lenient, true, "a\n", 5);
}

TEST(SmtpData, LenientStillUnstuffs) {
  expect_decodes("..\n.\n", EndOfData::lenient, true, ".\n", 5);
}

TEST(SmtpData, UnfinishedBodyIsNotDone) {
  const Decoded d = decode("partial line\r\nno end", EndOfData::strict);
  EXPECT_FALSE(d.done);
  EXPECT_EQ(d.content, "partial line\r\nno end");
  const Decoded held = decode("line\r\n.", EndOfData::strict);
  EXPECT_FALSE(held.done);
  EXPECT_EQ(held.content, "line\r\n");  // the "." waits for what follows
}

TEST(SmtpData, CountsLongLines) {
  const std::string ok_line(998, 'x');  // 998 + CRLF = 1000 octets: allowed
  const std::string long_line(999, 'y');
  const std::string in = ok_line + "\r\n" + long_line + "\r\n.\r\n";
  for (std::size_t piece : {0, 1, 100}) {
    const Decoded d = decode(in, EndOfData::strict, piece);
    EXPECT_TRUE(d.done);
    EXPECT_EQ(d.long_lines, 1u) << piece;
  }
}

TEST(SmtpData, KeepsOnlyTheLimitButCountsAll) {
  const Decoded d = decode("0123456789\r\n.\r\n", EndOfData::strict, 0, 4);
  EXPECT_TRUE(d.done);
  EXPECT_EQ(d.content, "0123");
  EXPECT_EQ(d.size, 12u);
}

TEST(SmtpData, BinaryBytesPassThrough) {
  const std::string in = std::string("a\0b\xff\r\n.\r\n", 9);
  const Decoded d = decode(in, EndOfData::strict, 1);
  EXPECT_TRUE(d.done);
  EXPECT_EQ(d.content, std::string("a\0b\xff\r\n", 6));
}

// --- SASL
// ------------------------------------------------------------------------------------------

TEST(SmtpSasl, StrictBase64) {
  EXPECT_EQ(decode_sasl_base64("AGFsaWNlAHNlY3JldA=="), std::string("\0alice\0secret", 13));
  EXPECT_EQ(decode_sasl_base64("="), "");
  EXPECT_FALSE(decode_sasl_base64("AGFsaWNl AHNl"));
  EXPECT_FALSE(decode_sasl_base64("abc"));
  EXPECT_FALSE(decode_sasl_base64("ab=c"));
  EXPECT_FALSE(decode_sasl_base64("a-_b"));
  EXPECT_FALSE(decode_sasl_base64("*"));
}

TEST(SmtpSasl, Plain) {
  auto c = parse_plain(std::string("\0alice\0secret", 13));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->authzid, "");
  EXPECT_EQ(c->authcid, "alice");
  EXPECT_EQ(c->password, "secret");
  c = parse_plain(std::string("admin\0alice\0pw", 14));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->authzid, "admin");
  EXPECT_FALSE(parse_plain("alice"));
  EXPECT_FALSE(parse_plain(std::string("\0\0pw", 4)));  // no user
  EXPECT_FALSE(parse_plain(std::string("a\0b\0c\0d", 7)));
}

TEST(SmtpSasl, CramMd5) {
  // RFC 2195 2's example.
  EXPECT_EQ(cram_md5_digest("tanstaaftanstaaf", "<1896.697170952@postoffice.reston.mci.net>"),
            "b913a602c7eda7a495b4e6e7334d3890");
  const auto r = parse_cram_response("tim b913a602c7eda7a495b4e6e7334d3890");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->user, "tim");
  EXPECT_EQ(r->digest, "b913a602c7eda7a495b4e6e7334d3890");
  EXPECT_EQ(parse_cram_response("tim B913A602C7EDA7A495B4E6E7334D3890")->digest,
            "b913a602c7eda7a495b4e6e7334d3890");
  EXPECT_FALSE(parse_cram_response("tim"));
  EXPECT_FALSE(parse_cram_response("tim abc"));
  EXPECT_FALSE(parse_cram_response("tim zz13a602c7eda7a495b4e6e7334d3890"));
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
