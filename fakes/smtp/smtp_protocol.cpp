#include "fakes/smtp/smtp_protocol.hpp"

#include <algorithm>

#include "fakes/common/bytes.hpp"

namespace protofarm::smtp {

namespace {

std::string first_word_upper(std::string_view s) { return to_upper(s.substr(0, s.find(' '))); }

// AUTH checks passwords against the scenario's users (the Options outlive every session).
SaslExchange::PasswordLookup password_of(const std::map<std::string, std::string>& users) {
  return [&users](const std::string& user) -> std::optional<std::string> {
    const auto it = users.find(user);
    if (it == users.end()) return std::nullopt;
    return it->second;
  };
}

bool has_eight_bit(std::string_view s) {
  return std::any_of(s.begin(), s.end(),
                     [](char c) { return static_cast<unsigned char>(c) >= 0x80; });
}

Outcome reply(Code code, std::string status, std::string text, Effect effect = Effect::none) {
  Outcome o;
  o.reply = make_reply(code, std::move(status), std::move(text));
  o.effect = effect;
  return o;
}

Outcome bad_sequence(std::string text) {
  return reply(Code::kBadSequence, "5.5.1", std::move(text));
}

Outcome syntax(std::string usage) {
  return reply(Code::kSyntaxErrorInParameters, "5.5.4", "Syntax: " + std::move(usage));
}

bool is_2xx(int code) { return code >= 200 && code < 300; }

}  // namespace

std::vector<std::string> default_extensions(bool starttls, bool auth) {
  std::vector<std::string> out = {"PIPELINING", "SIZE"};
  if (starttls) out.emplace_back("STARTTLS");
  if (auth) out.emplace_back("AUTH");
  for (const char* k : {"ENHANCEDSTATUSCODES", "8BITMIME", "SMTPUTF8", "CHUNKING"})
    out.emplace_back(k);
  return out;
}

const std::vector<std::string>& known_extensions() {
  static const std::vector<std::string> known = {
      "PIPELINING", "SIZE",       "STARTTLS", "AUTH", "ENHANCEDSTATUSCODES", "8BITMIME", "SMTPUTF8",
      "CHUNKING",   "BINARYMIME", "DSN",      "HELP"};
  return known;
}

Protocol::Protocol(const Options& options, std::uint64_t session, bool tls_active,
                   std::chrono::system_clock::time_point now)
    : options_(options),
      session_(session),
      now_(now),
      tls_(tls_active),
      auth_(password_of(options.users)) {
  for (const auto& e : options_.extensions) keywords_.push_back(first_word_upper(e));
}

bool Protocol::advertises(std::string_view keyword) const {
  if (std::find(keywords_.begin(), keywords_.end(), keyword) == keywords_.end()) return false;
  if (keyword == "STARTTLS") return !tls_;
  // RFC 3207 and common practice (Postfix's smtpd_tls_auth_only): no AUTH before TLS when the
  // server insists on TLS.
  if (keyword == "AUTH")
    return !options_.auth_mechanisms.empty() && (tls_ || !options_.require_tls);
  return true;
}

Reply Protocol::greeting() const {
  Reply r;
  r.code = Code::kServiceReady;
  r.lines = options_.greeting;
  if (r.lines.empty()) r.lines.push_back(options_.hostname + " ESMTP protofarm");
  return r;  // RFC 2034 3: no enhanced status code in the greeting
}

std::string Protocol::render(const Reply& r) const {
  return smtp::render(r, advertises("ENHANCEDSTATUSCODES"));
}

std::vector<std::string> Protocol::ehlo_lines() const {
  std::vector<std::string> lines = {options_.hostname};
  for (std::size_t i = 0; i < options_.extensions.size(); ++i) {
    const std::string& k = keywords_[i];
    if (!advertises(k)) continue;
    if (k == "SIZE") {
      lines.push_back(options_.size_limit ? "SIZE " + std::to_string(options_.size_limit)
                                          : std::string("SIZE"));
    } else if (k == "AUTH") {
      std::string line = "AUTH";
      for (const auto& m : options_.auth_mechanisms) line += " " + m;
      lines.push_back(line);
    } else {
      lines.push_back(options_.extensions[i]);
    }
  }
  return lines;
}

void Protocol::reset_transaction() {
  in_tx_ = false;
  tx_ = Envelope{};
  chunks_.clear();
  chunk_total_ = 0;
}

Outcome Protocol::handle(const Command& cmd) {
  if (no_service_ && cmd.verb != "QUIT") return bad_sequence("Error: no SMTP service here");
  if (cmd.has_nul) return reply(Code::kSyntaxError, "5.5.2", "Error: NUL character in command");
  if (cmd.verb.empty()) return reply(Code::kSyntaxError, "5.5.2", "Error: bad syntax");
  if (cmd.eight_bit) {
    // RFC 6531 3.3: UTF-8 may appear in the addresses of MAIL and RCPT only.
    const bool path = cmd.verb == "MAIL" || cmd.verb == "RCPT";
    if (!path || !is_utf8(cmd.args) || has_eight_bit(cmd.verb))
      return reply(Code::kSyntaxError, "5.5.2",
                   path ? "Error: invalid UTF-8 in command" : "Error: 8-bit character in command");
  }
  const std::string& v = cmd.verb;
  if (v == "EHLO") return on_ehlo(cmd);
  if (v == "HELO") return on_helo(cmd);
  if (v == "MAIL") return on_mail(cmd);
  if (v == "RCPT") return on_rcpt(cmd);
  if (v == "DATA") return on_data(cmd);
  if (v == "BDAT") return bdat(cmd, {}, 0);
  if (v == "RSET") return on_rset(cmd);
  if (v == "NOOP") return on_noop(cmd);
  if (v == "VRFY") return on_vrfy(cmd);
  if (v == "EXPN") return on_expn(cmd);
  if (v == "HELP") return on_help(cmd);
  if (v == "QUIT") return on_quit(cmd);
  if (v == "STARTTLS") return on_starttls(cmd);
  if (v == "AUTH") return on_auth(cmd);
  // RFC 5321 4.2.4: 502 for commands a server recognises but does not implement.
  for (const char* known : {"TURN", "ETRN", "ATRN", "SEND", "SOML", "SAML"})
    if (v == known) return reply(Code::kNotImplemented, "5.5.1", "Error: command not implemented");
  return reply(Code::kSyntaxError, "5.5.2", "Error: command not recognized");
}

// --- session commands -----------------------------------------------------------------------

Outcome Protocol::on_ehlo(const Command& cmd) {
  if (cmd.args.empty()) return syntax("EHLO hostname");
  // RFC 5321 4.1.4: EHLO in the middle of a session resets it like RSET.
  reset_transaction();
  greeted_ = esmtp_ = true;
  Outcome o;
  o.reply = Reply{Code::kOk, "", ehlo_lines()};  // RFC 2034 3: no status code here
  return o;
}

Outcome Protocol::on_helo(const Command& cmd) {
  if (cmd.args.empty()) return syntax("HELO hostname");
  reset_transaction();
  greeted_ = true;
  esmtp_ = false;
  return reply(Code::kOk, "", options_.hostname);
}

Outcome Protocol::on_rset(const Command& cmd) {
  if (!cmd.args.empty()) return syntax("RSET");
  reset_transaction();
  return reply(Code::kOk, "2.0.0", "Ok");
}

Outcome Protocol::on_noop(const Command&) { return reply(Code::kOk, "2.0.0", "Ok"); }

Outcome Protocol::on_vrfy(const Command& cmd) {
  if (cmd.args.empty()) return syntax("VRFY address");
  std::string who = cmd.args;
  if (who.size() >= 2 && who.front() == '<' && who.back() == '>')
    who = who.substr(1, who.size() - 2);
  const std::string local = who.substr(0, who.find('@'));
  for (const auto& [user, password] : options_.users) {
    if (user == who || user == local)
      return reply(Code::kOk, "2.1.5", "<" + user + "@" + options_.hostname + ">");
  }
  // RFC 5321 3.5.3: 252 when the server will not say.
  return reply(Code::kCannotVerify, "2.0.0",
               "Cannot VRFY user, but will accept message and attempt delivery");
}

Outcome Protocol::on_expn(const Command&) {
  return reply(Code::kNotImplemented, "5.5.1", "Error: EXPN not available");
}

Outcome Protocol::on_help(const Command&) {
  std::string verbs = "HELO EHLO MAIL RCPT DATA";
  if (advertises("CHUNKING")) verbs += " BDAT";
  verbs += " RSET NOOP VRFY HELP QUIT";
  if (advertises("STARTTLS")) verbs += " STARTTLS";
  if (advertises("AUTH")) verbs += " AUTH";
  Outcome o;
  o.reply = Reply{Code::kHelp, "2.0.0", {"Commands: " + verbs, "End of HELP info"}};
  return o;
}

Outcome Protocol::on_quit(const Command&) {
  return reply(Code::kClosing, "2.0.0", "Bye", Effect::close);
}

// --- the mail transaction -------------------------------------------------------------------

std::optional<Reply> Protocol::check_mail_params(const std::vector<Param>& params) {
  auto unsupported = [](const Param& p) {
    return make_reply(Code::kParametersNotRecognized, "5.5.4", "Unsupported option: " + p.keyword);
  };
  for (const auto& p : params) {
    // RFC 5321 4.1.1.11: parameters need the extension, and extensions need EHLO.
    if (!esmtp_) return unsupported(p);
    if (p.keyword == "SIZE" && advertises("SIZE")) {
      const auto n = p.value ? parse_decimal(*p.value) : std::nullopt;
      if (!n) return make_reply(Code::kSyntaxErrorInParameters, "5.5.4", "Bad message size syntax");
      // RFC 1870 6.1: refuse at once a message declared larger than the limit.
      if (options_.size_limit && *n > options_.size_limit)
        return make_reply(Code::kExceededStorage, "5.3.4", "Message size exceeds fixed limit");
      tx_.declared_size = *n;
    } else if (p.keyword == "BODY" && (advertises("8BITMIME") || advertises("BINARYMIME"))) {
      const std::string body = to_upper(p.value.value_or(""));
      const bool ok = body == "7BIT" || (body == "8BITMIME" && advertises("8BITMIME")) ||
                      (body == "BINARYMIME" && advertises("BINARYMIME"));
      if (!ok) return make_reply(Code::kSyntaxErrorInParameters, "5.5.4", "Bad BODY keyword value");
      tx_.body = body;
    } else if (p.keyword == "SMTPUTF8" && advertises("SMTPUTF8")) {
      if (p.value)
        return make_reply(Code::kSyntaxErrorInParameters, "5.5.4", "Bad SMTPUTF8 syntax");
      tx_.smtputf8 = true;
    } else if (p.keyword == "AUTH" && advertises("AUTH")) {
      // RFC 4954 5: AUTH=<mailbox> or AUTH=<>, accepted and otherwise ignored.
      if (!p.value) return make_reply(Code::kSyntaxErrorInParameters, "5.5.4", "Bad AUTH syntax");
    } else if ((p.keyword == "RET" || p.keyword == "ENVID") && advertises("DSN")) {
      if (!p.value)
        return make_reply(Code::kSyntaxErrorInParameters, "5.5.4", "Bad " + p.keyword + " syntax");
    } else {
      return unsupported(p);
    }
  }
  return std::nullopt;
}

std::optional<Reply> Protocol::check_rcpt_params(const std::vector<Param>& params) const {
  for (const auto& p : params) {
    if (esmtp_ && (p.keyword == "NOTIFY" || p.keyword == "ORCPT") && advertises("DSN")) {
      if (!p.value)
        return make_reply(Code::kSyntaxErrorInParameters, "5.5.4", "Bad " + p.keyword + " syntax");
      continue;
    }
    return make_reply(Code::kParametersNotRecognized, "5.5.4", "Unsupported option: " + p.keyword);
  }
  return std::nullopt;
}

Outcome Protocol::on_mail(const Command& cmd) {
  if (!greeted_) return bad_sequence("Error: send HELO/EHLO first");
  if (in_tx_) return bad_sequence("Error: nested MAIL command");
  if (options_.require_tls && !tls_)
    return reply(Code::kAccessDenied, "5.7.0", "Must issue a STARTTLS command first");
  if (options_.require_auth && !authenticated_)
    return reply(Code::kAccessDenied, "5.7.0", "Authentication required");
  const PathArgs path = parse_path(cmd.args, "FROM", true, advertises("SMTPUTF8"));
  switch (path.error) {
    case PathArgs::Error::none:
      break;
    case PathArgs::Error::syntax:
      return syntax("MAIL FROM:<address>");
    case PathArgs::Error::bad_address:
      return reply(Code::kSyntaxErrorInParameters, "5.1.7", "Bad sender address syntax");
    case PathArgs::Error::bad_param:
      return reply(Code::kSyntaxErrorInParameters, "5.5.4", "Bad parameter syntax");
  }
  tx_ = Envelope{};
  if (auto bad = check_mail_params(path.params)) {
    tx_ = Envelope{};
    Outcome o;
    o.reply = std::move(*bad);
    return o;
  }
  // RFC 6531 3.4: a UTF-8 address needs the SMTPUTF8 parameter.
  if (has_eight_bit(path.address) && !tx_.smtputf8) {
    tx_ = Envelope{};
    return reply(Code::kMailboxNameNotAllowed, "5.6.7",
                 "Must declare SMTPUTF8 to send a UTF-8 address");
  }
  tx_.mail_from = path.address;
  in_tx_ = true;
  return reply(Code::kOk, "2.1.0", "Ok");
}

Outcome Protocol::on_rcpt(const Command& cmd) {
  if (!in_tx_) return bad_sequence("Error: need MAIL command");
  ++tx_.rcpt_attempts;
  const PathArgs path = parse_path(cmd.args, "TO", false, advertises("SMTPUTF8"));
  switch (path.error) {
    case PathArgs::Error::none:
      break;
    case PathArgs::Error::syntax:
      return syntax("RCPT TO:<address>");
    case PathArgs::Error::bad_address:
      return reply(Code::kSyntaxErrorInParameters, "5.1.3", "Bad recipient address syntax");
    case PathArgs::Error::bad_param:
      return reply(Code::kSyntaxErrorInParameters, "5.5.4", "Bad parameter syntax");
  }
  if (auto bad = check_rcpt_params(path.params)) {
    Outcome o;
    o.reply = std::move(*bad);
    return o;
  }
  if (has_eight_bit(path.address) && !tx_.smtputf8)
    return reply(Code::kMailboxNameNotAllowed, "5.6.7",
                 "Must declare SMTPUTF8 to send a UTF-8 address");
  // RFC 5321 4.5.3.1.10: 452 for too many recipients.
  if (tx_.recipients.size() >= options_.max_recipients)
    return reply(Code::kInsufficientStorage, "4.5.3", "Error: too many recipients");
  tx_.recipients.push_back(path.address);
  return reply(Code::kOk, "2.1.5", "Ok");
}

Outcome Protocol::on_data(const Command& cmd) {
  if (!cmd.args.empty()) return syntax("DATA");
  if (!in_tx_) return bad_sequence("Error: need MAIL command");
  // RFC 3030 2: DATA after BDAT in one transaction is a bad sequence; BINARYMIME needs BDAT.
  if (tx_.chunking) return bad_sequence("Error: DATA after BDAT");
  if (tx_.recipients.empty()) {
    // RFC 5321 3.3: 554 when every RCPT was refused, 503 when there was none.
    if (tx_.rcpt_attempts)
      return reply(Code::kTransactionFailed, "5.5.1", "Error: no valid recipients");
    return bad_sequence("Error: need RCPT command");
  }
  if (tx_.body == "BINARYMIME") return bad_sequence("Error: BINARYMIME requires BDAT");
  return reply(Code::kStartMailInput, "", "End data with <CR><LF>.<CR><LF>", Effect::read_data);
}

std::optional<BdatArgs> Protocol::bdat_args(const Command& cmd) const {
  if (!advertises("CHUNKING") || cmd.has_nul || cmd.eight_bit) return std::nullopt;
  return parse_bdat(cmd.args);
}

std::uint64_t Protocol::chunk_room() const {
  if (!in_tx_ || tx_.recipients.empty()) return 0;
  const std::uint64_t cap = options_.size_limit ? options_.size_limit + 1 : UINT64_MAX;
  return chunks_.size() >= cap ? 0 : cap - chunks_.size();
}

Outcome Protocol::bdat(const Command& cmd, std::string_view kept, std::uint64_t size) {
  if (!advertises("CHUNKING"))
    return reply(Code::kNotImplemented, "5.5.1", "Error: command not implemented");
  const auto args = parse_bdat(cmd.args);
  if (!args || cmd.has_nul || cmd.eight_bit) return syntax("BDAT count [LAST]");
  if (!in_tx_) return bad_sequence("Error: need MAIL command");
  if (tx_.recipients.empty()) {
    if (tx_.rcpt_attempts)
      return reply(Code::kTransactionFailed, "5.5.1", "Error: no valid recipients");
    return bad_sequence("Error: need RCPT command");
  }
  tx_.chunking = true;
  chunks_.append(kept);
  chunk_total_ += size;
  if (options_.size_limit && chunk_total_ > options_.size_limit) {
    // RFC 3030 2: after an error the transaction is over; the client must start again.
    Outcome o = reply(Code::kExceededStorage, "5.3.4", "Message size exceeds fixed limit");
    Json e = Json::object();
    e["reason"] = "size";
    e["size"] = chunk_total_;
    o.events.emplace_back("message_aborted", std::move(e));
    reset_transaction();
    return o;
  }
  if (args->last) {
    Outcome o;
    o.effect = Effect::message;
    return o;
  }
  return reply(Code::kOk, "2.0.0", "Ok: " + std::to_string(size) + " octets received");
}

Outcome Protocol::end_of_message(const Body& body, std::uint64_t number) {
  const bool chunked = tx_.chunking;
  const std::uint64_t size = chunked ? chunk_total_ : body.size;
  reset_transaction();
  Outcome o;
  if (options_.size_limit && size > options_.size_limit) {
    o = reply(Code::kExceededStorage, "5.3.4", "Message size exceeds fixed limit");
    o.reason = "size";
  } else if (body.long_lines) {
    // RFC 5321 4.5.3.1.6 and 4.5.3.1.10: "500 Line too long".
    o = reply(Code::kSyntaxError, "5.5.2", "Error: line too long");
    o.reason = "line_too_long";
  } else {
    const std::string id = queue_id(options_.seed, options_.server, session_, number);
    o = reply(Code::kOk, "2.0.0", "Ok: queued as " + id);
    o.queue_id = id;
    o.accepted = true;
  }
  return o;
}

Outcome Protocol::not_saved() {
  Outcome o = reply(Code::kInsufficientStorage, "4.3.1", "Insufficient system storage");
  o.reason = "not_saved";
  return o;
}

// --- STARTTLS (RFC 3207) ----------------------------------------------------------------------

Outcome Protocol::on_starttls(const Command& cmd) {
  if (!cmd.args.empty()) return syntax("STARTTLS");
  if (tls_) return bad_sequence("Error: TLS already active");
  if (!advertises("STARTTLS"))
    return reply(Code::kNotImplemented, "5.5.1", "Error: command not implemented");
  if (!options_.tls_configured)
    return reply(Code::kTlsNotAvailable, "4.7.0", "TLS not available due to temporary reason");
  return reply(Code::kServiceReady, "2.0.0", "Ready to start TLS", Effect::start_tls);
}

void Protocol::tls_started() {
  tls_ = true;
  greeted_ = esmtp_ = false;
  authenticated_ = false;
  user_.clear();
  auth_.cancel();
  reset_transaction();
}

// --- AUTH (RFC 4954) --------------------------------------------------------------------------

Outcome Protocol::on_auth(const Command& cmd) {
  if (std::find(keywords_.begin(), keywords_.end(), "AUTH") == keywords_.end() ||
      options_.auth_mechanisms.empty())
    return reply(Code::kNotImplemented, "5.5.1", "Error: authentication not enabled");
  if (!esmtp_) return bad_sequence("Error: send EHLO first");
  if (options_.require_tls && !tls_)
    return reply(Code::kAccessDenied, "5.7.0", "Must issue a STARTTLS command first");
  if (authenticated_) return bad_sequence("Error: already authenticated");
  if (in_tx_) return bad_sequence("Error: MAIL transaction in progress");
  const std::size_t sp = cmd.args.find(' ');
  const std::string name = first_word_upper(cmd.args);
  if (name.empty()) return syntax("AUTH mechanism");
  const auto mechanism = sasl_mechanism(name);
  if (!mechanism || std::find(options_.auth_mechanisms.begin(), options_.auth_mechanisms.end(),
                              name) == options_.auth_mechanisms.end())
    return reply(Code::kParameterNotImplemented, "5.5.4", "Unrecognized authentication type");
  std::optional<std::string_view> initial;
  if (sp != std::string::npos) initial = std::string_view(cmd.args).substr(sp + 1);
  // RFC 2195 2: CRAM-MD5 starts with the server's challenge, which follows from seed and clock.
  std::string challenge;
  if (*mechanism == SaslMechanism::cram_md5)
    challenge = cram_challenge(options_.seed, options_.server, session_, now_, options_.hostname);
  return auth_outcome(auth_.start(*mechanism, initial, std::move(challenge)));
}

Outcome Protocol::auth_outcome(const SaslStep& step) {
  // RFC 4954 4: each challenge is a 334 reply; the client answers on a line of its own.
  if (!step.finished()) return reply(Code::kAuthContinue, "", step.challenge, Effect::auth);
  const SaslResult& r = *step.result;
  switch (r.why) {
    case SaslFailure::cancelled:
      return reply(Code::kSyntaxErrorInParameters, "5.7.0", "Authentication aborted");
    case SaslFailure::bad_base64:
      return reply(Code::kSyntaxErrorInParameters, "5.5.2", "Cannot decode response");
    case SaslFailure::initial_response_not_allowed:
      return reply(Code::kSyntaxErrorInParameters, "5.5.2", "Initial response not allowed");
    case SaslFailure::none:
    case SaslFailure::malformed:
    case SaslFailure::bad_credentials:
    case SaslFailure::authzid:
      break;
  }
  // RFC 4954 6: any other end is 235 or 535, whatever was wrong with the credentials.
  Json e = Json::object();
  e["mechanism"] = std::string(sasl_mechanism_name(auth_.mechanism()));
  e["user"] = r.user;
  e["success"] = r.authenticated;
  Outcome o = r.authenticated
                  ? reply(Code::kAuthSucceeded, "2.7.0", "Authentication successful")
                  : reply(Code::kAuthFailed, "5.7.8", "Authentication credentials invalid");
  o.events.emplace_back("auth", std::move(e));
  if (r.authenticated) {
    authenticated_ = true;
    user_ = r.user;
  }
  return o;
}

Outcome Protocol::auth_line_too_long() {
  auth_.cancel();
  return reply(Code::kSyntaxError, "5.5.6", "Authentication exchange line is too long");
}

Outcome Protocol::auth_response(std::string_view line) {
  if (!auth_.active()) return bad_sequence("Error: no authentication in progress");
  return auth_outcome(auth_.respond(line));
}

// --- scripted replies ---------------------------------------------------------------------------

Effect Protocol::follow_reply(const Command& cmd, int code, std::string_view chunk,
                              std::uint64_t chunk_size) {
  const std::string& v = cmd.verb;
  if (v == "CONNECT") {
    if (code == 421) return Effect::close;
    // RFC 5321 3.1: after a 554 greeting the server waits for QUIT, refusing everything else.
    if (code == 554) no_service_ = true;
    return Effect::none;
  }
  if (v == "MESSAGE") {
    reset_transaction();
    return Effect::none;
  }
  if (v == "QUIT" || code == 421) return Effect::close;  // RFC 5321 3.8: 421 closes
  if (v == "BDAT") {
    if (!is_2xx(code)) {
      // A refused chunk ends the transaction (RFC 3030 2).
      if (in_tx_ && tx_.chunking) reset_transaction();
      return Effect::none;
    }
    if (!in_tx_) return Effect::none;
    const auto args = parse_bdat(cmd.args);
    tx_.chunking = true;
    chunks_.append(chunk);
    chunk_total_ += chunk_size;
    return args && args->last ? Effect::accept_message : Effect::none;
  }
  if (v == "RCPT" && in_tx_) ++tx_.rcpt_attempts;
  if (v == "DATA" && code == 354) return Effect::read_data;
  if (v == "STARTTLS" && code == 220) return Effect::start_tls;
  if (!is_2xx(code)) return Effect::none;
  if (v == "EHLO" || v == "HELO") {
    reset_transaction();
    greeted_ = true;
    esmtp_ = v == "EHLO";
  } else if (v == "RSET") {
    reset_transaction();
  } else if (v == "MAIL" && !in_tx_) {
    tx_ = Envelope{};
    const PathArgs p = parse_path(cmd.args, "FROM", true, true);
    tx_.mail_from = p.ok() ? p.address : cmd.args;
    in_tx_ = true;
  } else if (v == "RCPT" && in_tx_) {
    const PathArgs p = parse_path(cmd.args, "TO", false, true);
    tx_.recipients.push_back(p.ok() ? p.address : cmd.args);
  } else if (v == "AUTH" && code == 235) {
    authenticated_ = true;
  }
  return Effect::none;
}

}  // namespace protofarm::smtp
