#include "fakes/common/numeric_reply.hpp"

namespace protofarm {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

std::string render_numeric_reply(int code, std::span<const std::string> lines,
                                 std::string_view line_prefix) {
  const std::string number = std::to_string(code);
  const std::size_t n = lines.empty() ? 1 : lines.size();
  std::string out;
  for (std::size_t i = 0; i < n; ++i) {
    out += number;
    // RFC 5321 4.2.1: "-" after the code on every line but the last, a space on the last.
    out += i + 1 < n ? '-' : ' ';
    out += line_prefix;
    if (!lines.empty()) out += lines[i];
    out += "\r\n";
  }
  return out;
}

std::string render_numeric_reply(const NumericReply& reply, std::string_view line_prefix) {
  return render_numeric_reply(reply.code, reply.lines, line_prefix);
}

int reply_code_of(std::string_view text) {
  if (text.size() < 3) return 0;
  for (std::size_t i = 0; i < 3; ++i)
    if (!is_digit(text[i])) return 0;
  if (text.size() > 3 && is_digit(text[3])) return 0;
  return (text[0] - '0') * 100 + (text[1] - '0') * 10 + (text[2] - '0');
}

}  // namespace protofarm
