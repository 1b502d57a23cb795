#include "fakes/pop3/pop3_codec.hpp"

#include "fakes/common/bytes.hpp"

namespace protofarm::pop3 {

namespace {

// Larger than any maildrop the fake can hold; keeps the arithmetic away from overflow.
constexpr std::size_t kMaxNumber = 1'000'000'000;

std::optional<std::size_t> parse_decimal(std::string_view word) {
  if (word.empty() || word.size() > 10) return std::nullopt;
  std::size_t n = 0;
  for (char c : word) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + static_cast<std::size_t>(c - '0');
  }
  if (n > kMaxNumber) return std::nullopt;
  return n;
}

}  // namespace

Command parse_command(std::string_view line) {
  Command cmd;
  for (char c : line) {
    if (c == '\0') cmd.has_nul = true;
    if (static_cast<unsigned char>(c) >= 0x80) cmd.eight_bit = true;
  }
  cmd.bare_lf =
      !line.empty() && line.back() == '\n' && (line.size() < 2 || line[line.size() - 2] != '\r');
  const std::string_view body = strip_line_end(line);
  // RFC 1939 3: a keyword, then arguments separated by single spaces. Clients that pad with
  // extra spaces are tolerated: the words below are split on runs of spaces.
  const std::size_t space = body.find(' ');
  const std::string_view keyword = body.substr(0, space);
  cmd.verb = to_upper(keyword);
  if (space != std::string_view::npos) cmd.args = std::string(body.substr(space + 1));
  std::size_t i = 0;
  const std::string_view args = cmd.args;
  while (i < args.size()) {
    while (i < args.size() && args[i] == ' ') ++i;
    std::size_t j = i;
    while (j < args.size() && args[j] != ' ') ++j;
    if (j > i) cmd.words.emplace_back(args.substr(i, j - i));
    i = j;
  }
  return cmd;
}

std::optional<std::size_t> parse_message_number(std::string_view word) {
  auto n = parse_decimal(word);
  if (!n || *n == 0) return std::nullopt;
  return n;
}

std::optional<std::size_t> parse_line_count(std::string_view word) { return parse_decimal(word); }

std::string ok(std::string_view text) {
  std::string out = "+OK";
  if (!text.empty()) {
    out += ' ';
    out += text;
  }
  out += "\r\n";
  return out;
}

std::string err(std::string_view text) {
  std::string out = "-ERR ";
  out += text;
  out += "\r\n";
  return out;
}

std::string multiline(std::string_view first, const std::vector<std::string>& lines) {
  return ok(first) + dot_stuff_lines(lines);
}

std::string message_top(std::string_view normalized, std::size_t lines) {
  // The header ends at the first empty line ("\r\n" at a line start).
  std::size_t pos = 0;
  std::size_t body = std::string_view::npos;
  while (pos < normalized.size()) {
    const std::size_t lf = normalized.find('\n', pos);
    const std::size_t end = lf == std::string_view::npos ? normalized.size() : lf + 1;
    const std::string_view line = normalized.substr(pos, end - pos);
    pos = end;
    if (line == "\r\n" || line == "\n") {
      body = pos;
      break;
    }
  }
  if (body == std::string_view::npos) return std::string(normalized);
  std::size_t end = body;
  for (std::size_t n = 0; n < lines && end < normalized.size(); ++n) {
    const std::size_t lf = normalized.find('\n', end);
    end = lf == std::string_view::npos ? normalized.size() : lf + 1;
  }
  return std::string(normalized.substr(0, end));
}

bool valid_unique_id(std::string_view uid) {
  if (uid.empty() || uid.size() > 70) return false;
  for (char c : uid)
    if (c < 0x21 || c > 0x7e) return false;
  return true;
}

}  // namespace protofarm::pop3
