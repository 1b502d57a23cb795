// The POP3 codec, byte by byte: command parsing, replies, TOP, unique-ids. The shared parts are
// tested on their own: multiline_test (octet counts, dot-stuffing), digest_test (APOP's MD5),
// sasl_test.
#include <gtest/gtest.h>

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

TEST(Pop3Codec, TopReturnsHeaderBlankLineAndNLines) {
  const std::string m = "A: 1\r\nB: 2\r\n\r\nl1\r\nl2\r\nl3\r\n";
  EXPECT_EQ(message_top(m, 0), "A: 1\r\nB: 2\r\n\r\n");
  EXPECT_EQ(message_top(m, 2), "A: 1\r\nB: 2\r\n\r\nl1\r\nl2\r\n");
  EXPECT_EQ(message_top(m, 10), m);
  EXPECT_EQ(message_top("A: 1\r\n", 3), "A: 1\r\n");  // no body at all
  EXPECT_EQ(message_top("\r\nbody\r\n", 0), "\r\n");  // an empty header
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
