#include "fakes/smtp/smtp_codec.hpp"

#include <cstring>

#include "fakes/common/bytes.hpp"

namespace protofarm::smtp {

namespace {

bool is_alpha(unsigned char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
bool is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
bool is_blank(char c) { return c == ' ' || c == '\t'; }

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

std::uint64_t mix(std::uint64_t seed, std::string_view server, std::uint64_t a, std::uint64_t b) {
  return splitmix64(splitmix64(splitmix64(seed ^ fnv1a(server)) ^ a) ^ b);
}

}  // namespace

// --- replies ------------------------------------------------------------------------------------

Reply make_reply(Code code, std::string status, std::string text) {
  return Reply{code, std::move(status), {std::move(text)}};
}

std::string render(const Reply& reply, bool enhanced) {
  // RFC 2034 3: the enhanced status code starts the text of every line of the reply.
  if (!enhanced || reply.status.empty()) return render_numeric_reply(reply.number(), reply.lines);
  return render_numeric_reply(reply.number(), reply.lines, reply.status + " ");
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
  cmd.verb = to_upper(line.substr(0, end));
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
    p.keyword = to_upper(key);
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
