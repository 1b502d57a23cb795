// Numeric replies as RFC 959 4.2 defines them and later line protocols reuse them (RFC 5321
// 4.2, RFC 3977 3.2): a three-digit code, then text. A reply of several lines repeats the code
// on every line, with "-" after it on all lines but the last, which has a space:
//
//   250-first\r\n
//   250 last\r\n
//
// (RFC 959 also lets the lines between the first and the last start any way they like; RFC
// 5321 4.2.1 narrows that to the form above, which every client reads, so it is the only one
// rendered here.) Pure functions, unit-tested byte by byte (tests/unit/numeric_reply_test.cpp).
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace protofarm {

// One reply: its code and its lines of text.
struct NumericReply {
  int code = 0;
  std::vector<std::string> lines;  // at least one; an empty list renders as one empty line
};

// Renders code, "-" or " ", `line_prefix`, the text and CRLF for each line. `line_prefix` goes
// in front of every line's text, such as an enhanced status code and its space ("5.1.1 ",
// RFC 2034 3). An empty `lines` gives one line without text ("334 \r\n").
std::string render_numeric_reply(int code, std::span<const std::string> lines,
                                 std::string_view line_prefix = {});
std::string render_numeric_reply(const NumericReply& reply, std::string_view line_prefix = {});

// The code a reply's text starts with ("451 4.7.1 ..." -> 451, "250-x" -> 250), or 0 when it
// does not start with exactly three digits.
int reply_code_of(std::string_view text);

}  // namespace protofarm
