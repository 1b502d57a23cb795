// The POP3 codec, byte by byte: command parsing, replies, octet counts, dot-stuffing, TOP,
// APOP and SASL decoding.
#include <gtest/gtest.h>

#include "fakes/common/bytes.hpp"
#include "fakes/pop3/pop3_codec.hpp"

namespace protofarm::pop3 {
namespace {

using namespace std::string_literals;

TEST(Pop3Codec, ParsesVerbAndArguments) {
  const Command c = parse_command("retr 12\r\n");
  EXPECT_EQ(c.verb, "RETR");
  EXPECT_EQ(c.args, "12");
  EXPECT_EQ(c.words, (std::vector<std::string>{"12"}));
  EXPECT_FALSE(c.bare_lf);
  EXPECT_FALSE(c.has_nul);
  EXPECT_FALSE(c.eight_bit);
}

TEST(Pop3Codec, KeepsTheRestOfTheLineAsArgs) {
  // RFC 1939 7: a password may contain spaces; args is the line after the first space.
  const Command c = parse_command("PASS  two  words \r\n");
  EXPECT_EQ(c.verb, "PASS");
  EXPECT_EQ(c.args, " two  words ");
  EXPECT_EQ(c.words, (std::vector<std::string>{"two", "words"}));
}

TEST(Pop3Codec, FlagsOddInput) {
  EXPECT_TRUE(parse_command("STAT\n").bare_lf);
  EXPECT_TRUE(parse_command("\n").bare_lf);
  EXPECT_TRUE(parse_command("ST\0AT\r\n"s).has_nul);
  EXPECT_TRUE(parse_command("USER j\xc3\xb6rg\r\n").eight_bit);
  const Command empty = parse_command("\r\n");
  EXPECT_EQ(empty.verb, "");
  EXPECT_TRUE(empty.words.empty());
  const Command no_end = parse_command("NOOP");
  EXPECT_EQ(no_end.verb, "NOOP");
  EXPECT_FALSE(no_end.bare_lf);
}

TEST(Pop3Codec, MessageNumbers) {
  EXPECT_EQ(parse_message_number("1"), 1u);
  EXPECT_EQ(parse_message_number("007"), 7u);
  EXPECT_EQ(parse_message_number("0"), std::nullopt);
  EXPECT_EQ(parse_message_number("-1"), std::nullopt);
  EXPECT_EQ(parse_message_number("+1"), std::nullopt);
  EXPECT_EQ(parse_message_number("1a"), std::nullopt);
  EXPECT_EQ(parse_message_number(""), std::nullopt);
  EXPECT_EQ(parse_message_number("99999999999999999999"), std::nullopt);
  EXPECT_EQ(parse_line_count("0"), 0u);
  EXPECT_EQ(parse_line_count("x"), std::nullopt);
}

TEST(Pop3Codec, Replies) {
  EXPECT_EQ(ok(), "+OK\r\n");
  EXPECT_EQ(ok("2 320"), "+OK 2 320\r\n");
  EXPECT_EQ(err("no such message"), "-ERR no such message\r\n");
  EXPECT_EQ(multiline("2 messages", {"1 120", "2 200"}),
            "+OK 2 messages\r\n1 120\r\n2 200\r\n.\r\n");
  EXPECT_EQ(multiline("", {}), "+OK\r\n.\r\n");
}

TEST(Pop3Codec, NormalizesLineEndsAndCountsOctetsAsSent) {
  EXPECT_EQ(normalize_message("a\nb\n"), "a\r\nb\r\n");
  EXPECT_EQ(normalize_message("a\r\nb\r\n"), "a\r\nb\r\n");
  EXPECT_EQ(normalize_message("a\r\nb"), "a\r\nb\r\n");  // a final line end is added
  EXPECT_EQ(normalize_message("a\r"), "a\r\n");
  EXPECT_EQ(normalize_message("a\rb\n"), "a\rb\r\n");  // a lone CR inside a line stays
  EXPECT_EQ(normalize_message("\n\n"), "\r\n\r\n");
  EXPECT_EQ(normalize_message(""), "");
  EXPECT_EQ(normalize_message("Subject: x\n\nhi\n").size(), 18u);
}

TEST(Pop3Codec, DotStuffsLinesThatBeginWithADot) {
  EXPECT_EQ(dot_stuff(".\r\n"), "..\r\n.\r\n");
  EXPECT_EQ(dot_stuff("a\r\n.b\r\n..c\r\nd.\r\n"), "a\r\n..b\r\n...c\r\nd.\r\n.\r\n");
  EXPECT_EQ(dot_stuff(""), ".\r\n");
  EXPECT_EQ(dot_stuff("no end"), "no end\r\n.\r\n");
}

TEST(Pop3Codec, TopReturnsHeaderBlankLineAndNLines) {
  const std::string m = "A: 1\r\nB: 2\r\n\r\nl1\r\nl2\r\nl3\r\n";
  EXPECT_EQ(message_top(m, 0), "A: 1\r\nB: 2\r\n\r\n");
  EXPECT_EQ(message_top(m, 2), "A: 1\r\nB: 2\r\n\r\nl1\r\nl2\r\n");
  EXPECT_EQ(message_top(m, 10), m);
  EXPECT_EQ(message_top("A: 1\r\n", 3), "A: 1\r\n");  // no body at all
  EXPECT_EQ(message_top("\r\nbody\r\n", 0), "\r\n");  // an empty header
}

TEST(Pop3Codec, ApopDigestMatchesRfc1939Example) {
  // RFC 1939 7, the APOP example.
  EXPECT_EQ(apop_digest("<1896.697170952@dbc.mtview.ca.us>", "tanstaaf"),
            "c4c9334bac560ecc979e58001b3e22fb");
  EXPECT_TRUE(digest_equal("C4C9334BAC560ECC979E58001B3E22FB", "c4c9334bac560ecc979e58001b3e22fb"));
  EXPECT_FALSE(digest_equal("c4c9", "c4c9334bac560ecc979e58001b3e22fb"));
}

TEST(Pop3Codec, SaslPlain) {
  auto c = decode_sasl_plain(base64_encode("\0alice\0secret"s));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->authzid, "");
  EXPECT_EQ(c->authcid, "alice");
  EXPECT_EQ(c->password, "secret");
  c = decode_sasl_plain(base64_encode("admin\0alice\0pass word"s));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->authzid, "admin");
  EXPECT_EQ(c->password, "pass word");
  EXPECT_FALSE(decode_sasl_plain(base64_encode("alice secret")));
  EXPECT_FALSE(decode_sasl_plain(base64_encode("\0\0secret"s)));  // empty authcid
  EXPECT_FALSE(decode_sasl_plain(base64_encode("a\0b\0c\0d"s)));
  EXPECT_FALSE(decode_sasl_plain("not base64!"));
}

TEST(Pop3Codec, SaslLines) {
  EXPECT_TRUE(is_sasl_cancel("*\r\n"));
  EXPECT_FALSE(is_sasl_cancel("**\r\n"));
  EXPECT_EQ(decode_sasl_line("YWxpY2U=\r\n"), "alice");
  EXPECT_EQ(decode_sasl_line("=\r\n"), "");
  EXPECT_EQ(decode_sasl_line("YW xp\r\n"), std::nullopt);
  EXPECT_EQ(decode_sasl_line("%%%\r\n"), std::nullopt);
}

TEST(Pop3Codec, UniqueIds) {
  EXPECT_TRUE(valid_unique_id("whqtswO00WBw418f9t5JxYwZ"));
  EXPECT_FALSE(valid_unique_id(""));
  EXPECT_FALSE(valid_unique_id("with space"));
  EXPECT_FALSE(valid_unique_id(std::string(71, 'a')));
  EXPECT_TRUE(valid_unique_id(std::string(70, 'a')));
}

}  // namespace
}  // namespace protofarm::pop3
