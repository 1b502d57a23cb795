#include "fakes/smtp/smtp_codec.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstring>

#include "fakes/common/bytes.hpp"

namespace protofarm::smtp {

namespace {

bool is_alpha(unsigned char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
bool is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
bool is_blank(char c) { return c == ' ' || c == '\t'; }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    unsigned char x = static_cast<unsigned char>(a[i]), y = static_cast<unsigned char>(b[i]);
    if (x >= 'a' && x <= 'z') x = static_cast<unsigned char>(x - 32);
    if (y >= 'a' && y <= 'z') y = static_cast<unsigned char>(y - 32);
    if (x != y) return false;
  }
  return true;
}

std::string upper_ascii(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
  return out;
}

// RFC 5321 4.1.2 atext (RFC 5322 3.2.3), plus UTF-8 bytes under SMTPUTF8 (RFC 6531 3.3).
bool is_atext(unsigned char c, bool utf8) {
  if (is_alpha(c) || is_digit(c)) return true;
  if (c >= 0x80) return utf8;
  return std::strchr("!#$%&'*+-/=?^_`{|}~", c) != nullptr && c != 0;
}

bool valid_dot_string(std::string_view s, bool utf8) {
  if (s.empty() || s.front() == '.' || s.back() == '.') return false;
  char prev = 0;
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '.') {
      if (prev == '.') return false;
    } else if (!is_atext(c, utf8)) {
      return false;
    }
    prev = ch;
  }
  return true;
}

// Quoted-string = DQUOTE *QcontentSMTP DQUOTE; returns the length consumed, or 0.
std::size_t quoted_string_length(std::string_view s, bool utf8) {
  if (s.empty() || s.front() != '"') return 0;
  for (std::size_t i = 1; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == '"') return i + 1;
    if (c == '\\') {
      if (i + 1 >= s.size()) return 0;
      const auto q = static_cast<unsigned char>(s[i + 1]);
      if (q < 32 || q > 126) return 0;
      ++i;
      continue;
    }
    const bool qtext = c == 32 || c == 33 || (c >= 35 && c <= 91) || (c >= 93 && c <= 126);
    if (!qtext && !(utf8 && c >= 0x80)) return 0;
  }
  return 0;
}

bool valid_domain(std::string_view d, bool utf8) {
  if (d.empty()) return false;
  if (d.front() == '[') {
    // address-literal: "[" ( IPv4 / "IPv6:" IPv6 / General ) "]"; dcontent is %d33-90 / %d94-126.
    if (d.size() < 3 || d.back() != ']') return false;
    for (char ch : d.substr(1, d.size() - 2)) {
      const auto c = static_cast<unsigned char>(ch);
      if (!((c >= 33 && c <= 90) || (c >= 94 && c <= 126))) return false;
    }
    return true;
  }
  if (d.size() > 255) return false;
  std::size_t start = 0;
  while (start <= d.size()) {
    std::size_t dot = d.find('.', start);
    if (dot == std::string_view::npos) dot = d.size();
    const std::string_view label = d.substr(start, dot - start);
    if (label.empty() || label.size() > 63) return false;
    auto let_dig = [&](unsigned char c) {
      return is_alpha(c) || is_digit(c) || (utf8 && c >= 0x80);
    };
    if (!let_dig(static_cast<unsigned char>(label.front())) ||
        !let_dig(static_cast<unsigned char>(label.back())))
      return false;
    for (char ch : label) {
      const auto c = static_cast<unsigned char>(ch);
      if (!let_dig(c) && c != '-') return false;
    }
    start = dot + 1;
    if (dot == d.size()) break;
  }
  return true;
}

bool valid_keyword(std::string_view k) {
  if (k.empty() ||
      !(is_alpha(static_cast<unsigned char>(k[0])) || is_digit(static_cast<unsigned char>(k[0]))))
    return false;
  for (char ch : k) {
    const auto c = static_cast<unsigned char>(ch);
    if (!is_alpha(c) && !is_digit(c) && c != '-') return false;
  }
  return true;
}

// esmtp-value = 1*(%d33-60 / %d62-126), plus UTF-8 under SMTPUTF8 (RFC 6531 3.3).
bool valid_param_value(std::string_view v, bool utf8) {
  if (v.empty()) return false;
  for (char ch : v) {
    const auto c = static_cast<unsigned char>(ch);
    const bool ok = (c >= 33 && c <= 60) || (c >= 62 && c <= 126) || (utf8 && c >= 0x80);
    if (!ok) return false;
  }
  return true;
}

std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

std::uint64_t fnv1a(std::string_view s) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return h;
}

std::uint64_t mix(std::uint64_t seed, std::string_view server, std::uint64_t a, std::uint64_t b) {
  return splitmix64(splitmix64(splitmix64(seed ^ fnv1a(server)) ^ a) ^ b);
}

}  // namespace

// --- replies ------------------------------------------------------------------------------------

Reply make_reply(Code code, std::string status, std::string text) {
  return Reply{code, std::move(status), {std::move(text)}};
}

std::string render(const Reply& reply, bool enhanced) {
  std::string out;
  const std::string code = std::to_string(reply.number());
  const bool with_status = enhanced && !reply.status.empty();
  const std::size_t n = reply.lines.empty() ? 1 : reply.lines.size();
  for (std::size_t i = 0; i < n; ++i) {
    out += code;
    out += i + 1 < n ? '-' : ' ';
    if (with_status) {
      out += reply.status;
      out += ' ';
    }
    if (!reply.lines.empty()) out += reply.lines[i];
    out += "\r\n";
  }
  return out;
}

int reply_code_of(std::string_view text) {
  if (text.size() < 3) return 0;
  for (std::size_t i = 0; i < 3; ++i)
    if (!is_digit(static_cast<unsigned char>(text[i]))) return 0;
  if (text.size() > 3 && is_digit(static_cast<unsigned char>(text[3]))) return 0;
  return (text[0] - '0') * 100 + (text[1] - '0') * 10 + (text[2] - '0');
}

// --- commands -----------------------------------------------------------------------------------

Command parse_command(std::string_view line) {
  Command cmd;
  if (line.size() >= 2 && line.substr(line.size() - 2) == "\r\n") {
    line.remove_suffix(2);
  } else if (!line.empty() && line.back() == '\n') {
    line.remove_suffix(1);
    cmd.bare_lf = true;
  }
  for (char ch : line) {
    if (ch == '\0') cmd.has_nul = true;
    if (static_cast<unsigned char>(ch) >= 0x80) cmd.eight_bit = true;
  }
  std::size_t end = 0;
  while (end < line.size() && !is_blank(line[end])) ++end;
  cmd.verb = upper_ascii(line.substr(0, end));
  std::string_view rest = line.substr(end);
  while (!rest.empty() && is_blank(rest.front())) rest.remove_prefix(1);
  while (!rest.empty() && is_blank(rest.back())) rest.remove_suffix(1);
  cmd.args = std::string(rest);
  return cmd;
}

bool is_valid_mailbox(std::string_view mailbox, bool utf8) {
  if (mailbox.empty()) return false;
  if (!utf8) {
    for (char ch : mailbox)
      if (static_cast<unsigned char>(ch) >= 0x80) return false;
  } else if (!is_utf8(mailbox)) {
    return false;
  }
  std::size_t at;
  if (mailbox.front() == '"') {
    const std::size_t q = quoted_string_length(mailbox, utf8);
    if (q == 0 || q >= mailbox.size() || mailbox[q] != '@') return false;
    at = q;
  } else {
    at = mailbox.rfind('@');
    if (at == std::string_view::npos || !valid_dot_string(mailbox.substr(0, at), utf8))
      return false;
  }
  return valid_domain(mailbox.substr(at + 1), utf8);
}

PathArgs parse_path(std::string_view args, std::string_view keyword, bool allow_null, bool utf8) {
  PathArgs out;
  if (args.size() < keyword.size() + 1 || !iequals(args.substr(0, keyword.size()), keyword) ||
      args[keyword.size()] != ':') {
    out.error = PathArgs::Error::syntax;
    return out;
  }
  std::string_view rest = args.substr(keyword.size() + 1);
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  if (rest.empty() || rest.front() != '<') {
    out.error = PathArgs::Error::syntax;
    return out;
  }
  // Find the closing '>' outside a quoted local part.
  std::size_t close = std::string_view::npos;
  bool quoted = false;
  for (std::size_t i = 1; i < rest.size(); ++i) {
    const char c = rest[i];
    if (quoted && c == '\\') {
      ++i;
      continue;
    }
    if (c == '"') quoted = !quoted;
    if (!quoted && c == '>') {
      close = i;
      break;
    }
  }
  if (close == std::string_view::npos) {
    out.error = PathArgs::Error::syntax;
    return out;
  }
  std::string_view path = rest.substr(1, close - 1);
  std::string_view tail = rest.substr(close + 1);
  if (!tail.empty() && tail.front() != ' ') {
    out.error = PathArgs::Error::syntax;
    return out;
  }
  if (path.empty()) {
    if (!allow_null) out.error = PathArgs::Error::bad_address;
  } else {
    // RFC 5321 4.1.2: a source route ("@a,@b:") is accepted and ignored (Appendix C).
    if (path.front() == '@') {
      const std::size_t colon = path.find(':');
      if (colon == std::string_view::npos) {
        out.error = PathArgs::Error::bad_address;
        return out;
      }
      path.remove_prefix(colon + 1);
    }
    const bool postmaster = !allow_null && iequals(path, "postmaster");
    if (!postmaster && !is_valid_mailbox(path, utf8)) {
      out.error = PathArgs::Error::bad_address;
      return out;
    }
    out.address = std::string(path);
  }
  if (!out.ok()) return out;
  while (!tail.empty()) {
    while (!tail.empty() && tail.front() == ' ') tail.remove_prefix(1);
    if (tail.empty()) break;
    std::size_t end = tail.find(' ');
    if (end == std::string_view::npos) end = tail.size();
    const std::string_view word = tail.substr(0, end);
    tail.remove_prefix(end);
    Param p;
    const std::size_t eq = word.find('=');
    const std::string_view key = word.substr(0, eq);
    if (!valid_keyword(key)) {
      out.error = PathArgs::Error::bad_param;
      return out;
    }
    p.keyword = upper_ascii(key);
    if (eq != std::string_view::npos) {
      const std::string_view value = word.substr(eq + 1);
      if (!valid_param_value(value, utf8)) {
        out.error = PathArgs::Error::bad_param;
        return out;
      }
      p.value = std::string(value);
    }
    out.params.push_back(std::move(p));
  }
  return out;
}

std::optional<std::uint64_t> parse_decimal(std::string_view digits) {
  if (digits.empty() || digits.size() > 20) return std::nullopt;
  std::uint64_t v = 0;
  for (char ch : digits) {
    if (!is_digit(static_cast<unsigned char>(ch))) return std::nullopt;
    const std::uint64_t d = static_cast<std::uint64_t>(ch - '0');
    if (v > (UINT64_MAX - d) / 10) return std::nullopt;
    v = v * 10 + d;
  }
  return v;
}

std::optional<BdatArgs> parse_bdat(std::string_view args) {
  BdatArgs out;
  const std::size_t sp = args.find(' ');
  const auto size = parse_decimal(args.substr(0, sp));
  if (!size) return std::nullopt;
  out.size = *size;
  if (sp != std::string_view::npos) {
    if (!iequals(args.substr(sp + 1), "LAST")) return std::nullopt;
    out.last = true;
  }
  return out;
}

// --- DATA ---------------------------------------------------------------------------------------

DataDecoder::DataDecoder(EndOfData mode, std::uint64_t keep_limit)
    : mode_(mode), keep_limit_(keep_limit) {}

bool DataDecoder::may_end(std::string_view line) const {
  if (line == ".\r\n") return mode_ == EndOfData::lenient || previous_ != LineEnd::lf;
  if (line == ".\n") return mode_ == EndOfData::lenient;
  return false;
}

void DataDecoder::emit(std::string_view bytes) {
  size_ += bytes.size();
  if (content_.size() < keep_limit_) {
    const std::uint64_t room = keep_limit_ - content_.size();
    content_.append(
        bytes.substr(0, static_cast<std::size_t>(std::min<std::uint64_t>(room, bytes.size()))));
  }
}

void DataDecoder::end_line(char before_lf) {
  if (line_length_ > kMaxTextLine) ++long_lines_;
  if (before_lf == '\r') {
    previous_ = LineEnd::crlf;
  } else {
    previous_ = LineEnd::lf;
    ++bare_lf_lines_;
  }
  line_length_ = 0;
  at_line_start_ = true;
}

std::size_t DataDecoder::feed(std::string_view bytes) {
  std::size_t i = 0;
  while (i < bytes.size() && !done_) {
    if (at_line_start_) {
      // The first bytes of a line decide whether it ends the body or is dot-stuffed: hold
      // back "." and ".\r" until the next byte tells.
      const char before = head_.empty() ? '\0' : head_.back();
      const char c = bytes[i++];
      head_ += c;
      ++line_length_;
      if (head_ == "." || head_ == ".\r") continue;
      if (c == '\n' && may_end(head_)) {
        done_ = true;
        head_.clear();
        line_length_ = 0;
        return i;
      }
      std::string_view line = head_;
      // RFC 5321 4.5.2: "If the first character is a period and there are other characters on
      // the line, the first character is deleted."
      if (line.size() >= 2 && line.front() == '.' && line != ".\r\n" && line != ".\n")
        line.remove_prefix(1);
      emit(line);
      head_.clear();
      if (c == '\n') {
        end_line(before);
      } else {
        at_line_start_ = false;
        last_in_line_ = c;
      }
      continue;
    }
    const void* lf = std::memchr(bytes.data() + i, '\n', bytes.size() - i);
    const std::size_t end =
        lf ? static_cast<std::size_t>(static_cast<const char*>(lf) - bytes.data()) + 1
           : bytes.size();
    emit(bytes.substr(i, end - i));
    line_length_ += end - i;
    if (lf) {
      const char before = end - 1 > i ? bytes[end - 2] : last_in_line_;
      end_line(before);
      last_in_line_ = '\0';
    } else {
      last_in_line_ = bytes[end - 1];
    }
    i = end;
  }
  return i;
}

// --- AUTH ---------------------------------------------------------------------------------------

std::optional<std::string> decode_sasl_base64(std::string_view text) {
  if (text == "=") return std::string{};
  if (text.size() % 4 != 0) return std::nullopt;
  std::size_t padding = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '=') {
      if (i + 2 < text.size()) return std::nullopt;  // only the last two may be padding
      ++padding;
      continue;
    }
    if (padding) return std::nullopt;
    if (!is_alpha(c) && !is_digit(c) && c != '+' && c != '/') return std::nullopt;
  }
  return base64_decode(text);
}

std::string encode_base64(std::string_view bytes) { return base64_encode(bytes); }

std::optional<PlainCredentials> parse_plain(std::string_view decoded) {
  const std::size_t a = decoded.find('\0');
  if (a == std::string_view::npos) return std::nullopt;
  const std::size_t b = decoded.find('\0', a + 1);
  if (b == std::string_view::npos || decoded.find('\0', b + 1) != std::string_view::npos)
    return std::nullopt;
  PlainCredentials c{std::string(decoded.substr(0, a)),
                     std::string(decoded.substr(a + 1, b - a - 1)),
                     std::string(decoded.substr(b + 1))};
  if (c.authcid.empty()) return std::nullopt;
  return c;
}

std::string cram_md5_digest(std::string_view password, std::string_view challenge) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_md5(), password.data(), static_cast<int>(password.size()),
       reinterpret_cast<const unsigned char*>(challenge.data()), challenge.size(), md, &len);
  return hex_encode(std::string_view(reinterpret_cast<const char*>(md), len), "");
}

std::optional<CramResponse> parse_cram_response(std::string_view decoded) {
  const std::size_t sp = decoded.rfind(' ');
  if (sp == std::string_view::npos || sp == 0) return std::nullopt;
  CramResponse r{std::string(decoded.substr(0, sp)), std::string(decoded.substr(sp + 1))};
  if (r.digest.size() != 32) return std::nullopt;
  for (auto& c : r.digest) {
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c + 32);
    if (!is_digit(static_cast<unsigned char>(c)) && !(c >= 'a' && c <= 'f')) return std::nullopt;
  }
  return r;
}

// --- determinism --------------------------------------------------------------------------------

std::string queue_id(std::uint64_t seed, std::string_view server, std::uint64_t session,
                     std::uint64_t message) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::uint64_t v = mix(seed, server, session, message);
  std::string out(12, '0');
  for (int i = 11; i >= 0; --i) {
    out[static_cast<std::size_t>(i)] = kHex[v & 15];
    v >>= 4;
  }
  return out;
}

std::string cram_challenge(std::uint64_t seed, std::string_view server, std::uint64_t session,
                           std::chrono::system_clock::time_point now, std::string_view hostname) {
  const std::uint64_t v = mix(seed, server, session, 0x43524d) % 10000000000ULL;
  const auto secs =
      std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  return "<" + std::to_string(v) + "." + std::to_string(secs) + "@" + std::string(hostname) + ">";
}

bool is_utf8(std::string_view bytes) { return is_valid_utf8(bytes); }

}  // namespace protofarm::smtp
