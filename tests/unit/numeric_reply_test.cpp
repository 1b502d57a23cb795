// Numeric replies (RFC 959 4.2, RFC 5321 4.2.1) byte by byte, and the code a scripted text
// starts with.
#include "fakes/common/numeric_reply.hpp"

#include <gtest/gtest.h>

namespace protofarm {
namespace {

TEST(NumericReply, OneLine) {
  EXPECT_EQ(render_numeric_reply(NumericReply{250, {"Ok"}}), "250 Ok\r\n");
  EXPECT_EQ(render_numeric_reply(NumericReply{421, {"mx.test closing"}}),
            "421 mx.test closing\r\n");
}

TEST(NumericReply, SeveralLinesRepeatTheCodeWithDashes) {
  EXPECT_EQ(render_numeric_reply(NumericReply{250, {"mx.test", "PIPELINING", "SIZE 100"}}),
            "250-mx.test\r\n250-PIPELINING\r\n250 SIZE 100\r\n");
  EXPECT_EQ(render_numeric_reply(NumericReply{214, {"a", "b"}}), "214-a\r\n214 b\r\n");
}

TEST(NumericReply, EmptyTextKeepsTheSpace) {
  // RFC 4954 4: "334 " with an empty challenge; the separator is there even without text.
  EXPECT_EQ(render_numeric_reply(NumericReply{334, {""}}), "334 \r\n");
  EXPECT_EQ(render_numeric_reply(NumericReply{334, {}}), "334 \r\n");
  EXPECT_EQ(render_numeric_reply(NumericReply{250, {"a", "", "b"}}), "250-a\r\n250-\r\n250 b\r\n");
}

TEST(NumericReply, LinePrefixGoesBeforeEveryLinesText) {
  EXPECT_EQ(render_numeric_reply(NumericReply{550, {"no such user"}}, "5.1.1 "),
            "550 5.1.1 no such user\r\n");
  EXPECT_EQ(render_numeric_reply(NumericReply{214, {"a", "b"}}, "2.0.0 "),
            "214-2.0.0 a\r\n214 2.0.0 b\r\n");
  EXPECT_EQ(render_numeric_reply(NumericReply{235, {""}}, "2.7.0 "), "235 2.7.0 \r\n");
}

TEST(NumericReply, TakesLinesWithoutCopying) {
  const std::vector<std::string> lines = {"first", "last"};
  EXPECT_EQ(render_numeric_reply(221, lines), "221-first\r\n221 last\r\n");
  EXPECT_EQ(render_numeric_reply(221, lines, "x "), "221-x first\r\n221 x last\r\n");
}

TEST(NumericReply, CodeOfAText) {
  EXPECT_EQ(reply_code_of("451 4.7.1 x"), 451);
  EXPECT_EQ(reply_code_of("451 4.7.1 greylisted"), 451);
  EXPECT_EQ(reply_code_of("250-x"), 250);
  EXPECT_EQ(reply_code_of("250"), 250);
  EXPECT_EQ(reply_code_of("000 zero"), 0);
  EXPECT_EQ(reply_code_of("25"), 0);
  EXPECT_EQ(reply_code_of("2500 x"), 0);
  EXPECT_EQ(reply_code_of("abc"), 0);
  EXPECT_EQ(reply_code_of("2x0 x"), 0);
  EXPECT_EQ(reply_code_of(""), 0);
}

}  // namespace
}  // namespace protofarm
