#include "fakes/pop3/pop3_codec.hpp"

#include <openssl/evp.h>

#include <cctype>

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

std::string_view strip_line_end(std::string_view line) {
  if (!line.empty() && line.back() == '\n') {
    line.remove_suffix(1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  }
  return line;
}

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
  cmd.verb.reserve(keyword.size());
  for (char c : keyword) cmd.verb += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
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
  std::string body;
  for (const auto& line : lines) {
    body += line;
    body += "\r\n";
  }
  return ok(first) + dot_stuff(body);
}

std::string normalize_message(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() + bytes.size() / 32 + 2);
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    const char c = bytes[i];
    if (c == '\n' && (i == 0 || bytes[i - 1] != '\r')) out += '\r';
    out += c;
  }
  if (!out.empty() && out.back() != '\n') out += out.back() == '\r' ? "\n" : "\r\n";
  return out;
}

std::string dot_stuff(std::string_view normalized) {
  std::string out;
  out.reserve(normalized.size() + normalized.size() / 64 + 8);
  bool line_start = true;
  for (char c : normalized) {
    // RFC 1939 3: a line that begins with the termination octet is byte-stuffed.
    if (line_start && c == '.') out += '.';
    out += c;
    line_start = c == '\n';
  }
  if (!line_start) out += "\r\n";  // only for input that was not normalized
  out += ".\r\n";
  return out;
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

std::string apop_digest(std::string_view timestamp, std::string_view secret) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_md5(), nullptr);
  EVP_DigestUpdate(ctx, timestamp.data(), timestamp.size());
  EVP_DigestUpdate(ctx, secret.data(), secret.size());
  EVP_DigestFinal_ex(ctx, md, &len);
  EVP_MD_CTX_free(ctx);
  return hex_encode(std::string_view(reinterpret_cast<const char*>(md), len), "");
}

bool digest_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

std::optional<PlainCredentials> parse_sasl_plain(std::string_view decoded) {
  const std::size_t first = decoded.find('\0');
  if (first == std::string_view::npos) return std::nullopt;
  const std::size_t second = decoded.find('\0', first + 1);
  if (second == std::string_view::npos) return std::nullopt;
  if (decoded.find('\0', second + 1) != std::string_view::npos) return std::nullopt;
  PlainCredentials c;
  c.authzid = std::string(decoded.substr(0, first));
  c.authcid = std::string(decoded.substr(first + 1, second - first - 1));
  c.password = std::string(decoded.substr(second + 1));
  if (c.authcid.empty()) return std::nullopt;
  return c;
}

std::optional<PlainCredentials> decode_sasl_plain(std::string_view base64) {
  const auto decoded = base64_decode(base64);
  if (!decoded) return std::nullopt;
  return parse_sasl_plain(*decoded);
}

bool is_sasl_cancel(std::string_view line) { return strip_line_end(line) == "*"; }

std::optional<std::string> decode_sasl_line(std::string_view line) {
  const std::string_view text = strip_line_end(line);
  if (text == "=") return std::string{};
  // base64_decode skips whitespace; a SASL line has none.
  if (text.find_first_of(" \t\r\n") != std::string_view::npos) return std::nullopt;
  return base64_decode(text);
}

bool valid_unique_id(std::string_view uid) {
  if (uid.empty() || uid.size() > 70) return false;
  for (char c : uid)
    if (c < 0x21 || c > 0x7e) return false;
  return true;
}

std::uint64_t fnv1a(std::string_view bytes, std::uint64_t seed) {
  std::uint64_t h = seed;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

}  // namespace protofarm::pop3
