#include "fakes/common/sasl.hpp"

#include <utility>

#include "fakes/common/bytes.hpp"
#include "fakes/common/digest.hpp"

namespace protofarm {

namespace {

bool is_hex_digit(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

bool is_base64_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/';
}

// The forgiving reading: what base64_decode() accepts (the URL-safe alphabet too, padding
// optional), except blanks and line ends, which a response line cannot hold.
std::optional<std::string> decode_lenient_base64(std::string_view text) {
  if (text == "=") return std::string{};
  if (text.find_first_of(" \t\r\n") != std::string_view::npos) return std::nullopt;
  return base64_decode(text);
}

// RFC 4616 2: message = [authzid] NUL authcid NUL passwd.
struct PlainMessage {
  std::string authzid, authcid, password;
};

std::optional<PlainMessage> parse_plain(std::string_view decoded) {
  const std::size_t a = decoded.find('\0');
  if (a == std::string_view::npos) return std::nullopt;
  const std::size_t b = decoded.find('\0', a + 1);
  if (b == std::string_view::npos || decoded.find('\0', b + 1) != std::string_view::npos)
    return std::nullopt;
  PlainMessage m{std::string(decoded.substr(0, a)), std::string(decoded.substr(a + 1, b - a - 1)),
                 std::string(decoded.substr(b + 1))};
  if (m.authcid.empty()) return std::nullopt;
  return m;
}

// RFC 2195 2: the response is the user name, a space, and the digest as 32 hex digits (the
// last space separates them: a user name may hold spaces).
struct CramMessage {
  std::string user, digest;
};

std::optional<CramMessage> parse_cram(std::string_view decoded) {
  const std::size_t sp = decoded.rfind(' ');
  if (sp == std::string_view::npos || sp == 0) return std::nullopt;
  CramMessage m{std::string(decoded.substr(0, sp)), std::string(decoded.substr(sp + 1))};
  if (m.digest.size() != 32) return std::nullopt;
  for (char c : m.digest)
    if (!is_hex_digit(c)) return std::nullopt;
  return m;
}

// draft-murchison-sasl-login-00 2.1: the LOGIN mechanism's prompts.
constexpr std::string_view kLoginUserPrompt = "Username:";
constexpr std::string_view kLoginPasswordPrompt = "Password:";

}  // namespace

std::optional<SaslMechanism> sasl_mechanism(std::string_view name) {
  if (iequals(name, "PLAIN")) return SaslMechanism::plain;
  if (iequals(name, "LOGIN")) return SaslMechanism::login;
  if (iequals(name, "CRAM-MD5")) return SaslMechanism::cram_md5;
  return std::nullopt;
}

std::string_view sasl_mechanism_name(SaslMechanism mechanism) {
  switch (mechanism) {
    case SaslMechanism::plain:
      return "PLAIN";
    case SaslMechanism::login:
      return "LOGIN";
    case SaslMechanism::cram_md5:
      return "CRAM-MD5";
  }
  return "";
}

std::optional<std::string> decode_sasl_base64(std::string_view text) {
  if (text == "=") return std::string{};
  if (text.size() % 4 != 0) return std::nullopt;
  std::size_t padding = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '=') {
      if (i + 2 < text.size()) return std::nullopt;  // only the last two may be padding
      ++padding;
      continue;
    }
    if (padding || !is_base64_char(text[i])) return std::nullopt;
  }
  return base64_decode(text);
}

SaslExchange::SaslExchange(PasswordLookup lookup, SaslOptions options)
    : lookup_(std::move(lookup)), options_(options) {}

std::optional<std::string> SaslExchange::decode(std::string_view text) const {
  return options_.strict_base64 ? decode_sasl_base64(text) : decode_lenient_base64(text);
}

SaslStep SaslExchange::start(SaslMechanism mechanism,
                             std::optional<std::string_view> initial_response,
                             std::string challenge) {
  mechanism_ = mechanism;
  step_ = Step::idle;
  login_user_.clear();
  challenge_ = std::move(challenge);
  const Step first = mechanism == SaslMechanism::plain   ? Step::plain
                     : mechanism == SaslMechanism::login ? Step::login_user
                                                         : Step::cram;
  if (initial_response) {
    if (options_.cancel_in_initial_response && *initial_response == "*")
      return finish(false, {}, SaslFailure::cancelled);
    const auto decoded = decode(*initial_response);
    if (!decoded) return finish(false, {}, SaslFailure::bad_base64);
    // RFC 4422 5 (2a): the client "MUST NOT send an initial client response" to a server-first
    // mechanism; RFC 4954 4 has the server refuse one.
    if (mechanism == SaslMechanism::cram_md5)
      return finish(false, {}, SaslFailure::initial_response_not_allowed);
    step_ = first;
    return proceed(*decoded);
  }
  step_ = first;
  switch (first) {
    case Step::plain:
      // RFC 4422 5 (2a): a client-first mechanism without an initial response gets an empty
      // first challenge.
      return ask("");
    case Step::login_user:
      return ask(kLoginUserPrompt);
    default:
      return ask(challenge_);
  }
}

SaslStep SaslExchange::respond(std::string_view line) {
  if (!active()) return finish(false, {}, SaslFailure::malformed);
  line = strip_line_end(line);
  // RFC 4422 3.5, RFC 4954 4: "*" aborts the exchange.
  if (line == "*") return finish(false, {}, SaslFailure::cancelled);
  const auto decoded = decode(line);
  if (!decoded) return finish(false, {}, SaslFailure::bad_base64);
  return proceed(*decoded);
}

SaslStep SaslExchange::proceed(const std::string& decoded) {
  switch (step_) {
    case Step::plain: {
      auto m = parse_plain(decoded);
      if (!m) return finish(false, {}, SaslFailure::malformed);
      // RFC 4616 2: an authorization identity other than the user's own is not granted here.
      if (!m->authzid.empty() && m->authzid != m->authcid)
        return finish(false, std::move(m->authcid), SaslFailure::authzid);
      return check(std::move(m->authcid), m->password);
    }
    case Step::login_user:
      login_user_ = decoded;
      step_ = Step::login_password;
      return ask(kLoginPasswordPrompt);
    case Step::login_password:
      return check(std::move(login_user_), decoded);
    case Step::cram: {
      auto m = parse_cram(decoded);
      if (!m) return finish(false, {}, SaslFailure::malformed);
      const auto password = lookup_(m->user);
      // RFC 2195 2: the digest is HMAC-MD5 keyed with the password over the challenge.
      const bool ok = password && iequals(hmac_md5_hex(*password, challenge_), m->digest);
      return finish(ok, std::move(m->user), ok ? SaslFailure::none : SaslFailure::bad_credentials);
    }
    case Step::idle:
      break;
  }
  return finish(false, {}, SaslFailure::malformed);
}

SaslStep SaslExchange::ask(std::string_view challenge) {
  SaslStep s;
  s.challenge = base64_encode(challenge);
  return s;
}

SaslStep SaslExchange::finish(bool authenticated, std::string user, SaslFailure why) {
  step_ = Step::idle;
  SaslStep s;
  s.result = SaslResult{authenticated, std::move(user), why};
  return s;
}

SaslStep SaslExchange::check(std::string user, std::string_view password) {
  const auto expected = lookup_(user);
  const bool ok = expected && *expected == password;
  return finish(ok, std::move(user), ok ? SaslFailure::none : SaslFailure::bad_credentials);
}

}  // namespace protofarm
