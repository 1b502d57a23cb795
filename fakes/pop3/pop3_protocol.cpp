#include "fakes/pop3/pop3_protocol.hpp"

#include <algorithm>

#include "fakes/common/bytes.hpp"
#include "fakes/common/digest.hpp"

namespace protofarm::pop3 {

namespace {

constexpr std::size_t kAny = static_cast<std::size_t>(-1);

// How this fake has always read SASL responses, more forgiving than RFC 5034 4's grammar: the
// URL-safe base64 alphabet and missing padding pass, and "*" as the initial response cancels.
constexpr SaslOptions kSaslOptions{.strict_base64 = false, .cancel_in_initial_response = true};

// Logins check passwords against the store's mailboxes (the store outlives every session).
SaslExchange::PasswordLookup password_of(MailStore& store) {
  return [&store](const std::string& user) -> std::optional<std::string> {
    const Mailbox* box = store.find(user);
    if (!box) return std::nullopt;
    return box->password;
  };
}

std::string rtrim(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return std::string(s);
}

Reply reply(std::string bytes) {
  Reply r;
  r.bytes = std::move(bytes);
  return r;
}

std::string count_text(std::size_t messages, std::size_t octets) {
  return std::to_string(messages) + (messages == 1 ? " message (" : " messages (") +
         std::to_string(octets) + " octets)";
}

}  // namespace

const char* to_string(State state) {
  return state == State::authorization ? "AUTHORIZATION" : "TRANSACTION";
}

const std::vector<Protocol::VerbSpec>& Protocol::verbs() {
  // RFC 1939 4-7, RFC 2449 5, RFC 2595 4, RFC 5034 4: where each command is valid and how
  // many arguments it takes.
  static const std::vector<VerbSpec> table = {
      {"USER", &Protocol::on_user, true, false, 1, kAny, "USER name"},
      {"PASS", &Protocol::on_pass, true, false, 1, kAny, "PASS password"},
      {"APOP", &Protocol::on_apop, true, false, 2, 2, "APOP name digest"},
      {"AUTH", &Protocol::on_auth, true, false, 0, 2, "AUTH [mechanism [initial-response]]"},
      {"STLS", &Protocol::on_stls, true, false, 0, 0, "STLS"},
      {"CAPA", &Protocol::on_capa, true, true, 0, 0, "CAPA"},
      {"QUIT", &Protocol::on_quit, true, true, 0, 0, "QUIT"},
      {"STAT", &Protocol::on_stat, false, true, 0, 0, "STAT"},
      {"LIST", &Protocol::on_list, false, true, 0, 1, "LIST [msg]"},
      {"UIDL", &Protocol::on_uidl, false, true, 0, 1, "UIDL [msg]"},
      {"RETR", &Protocol::on_retr, false, true, 1, 1, "RETR msg"},
      {"TOP", &Protocol::on_top, false, true, 2, 2, "TOP msg n"},
      {"DELE", &Protocol::on_dele, false, true, 1, 1, "DELE msg"},
      {"RSET", &Protocol::on_rset, false, true, 0, 0, "RSET"},
      {"NOOP", &Protocol::on_noop, false, true, 0, 0, "NOOP"},
  };
  return table;
}

std::vector<std::string> Protocol::verb_names() {
  std::vector<std::string> names;
  for (const auto& v : verbs()) names.emplace_back(v.name);
  return names;
}

Protocol::Protocol(const Config& config, MailStore& store, std::string timestamp, bool tls_active)
    : config_(config),
      store_(store),
      timestamp_(std::move(timestamp)),
      tls_active_(tls_active),
      sasl_(password_of(store), kSaslOptions) {}

Protocol::~Protocol() {
  // RFC 1939 6: a session that ends without QUIT does not enter UPDATE; only the lock goes.
  if (mailbox_) store_.unlock(*mailbox_);
}

std::string Protocol::greeting() const {
  // RFC 1939 7: a server that supports APOP puts its timestamp in the greeting.
  if (config_.apop) return ok(config_.greeting + " " + timestamp_);
  return ok(config_.greeting);
}

void Protocol::tls_started() {
  tls_active_ = true;
  have_user_ = false;
  pending_user_.clear();
  sasl_.cancel();
}

Reply Protocol::handle(const Command& c) {
  if (c.has_nul) return reply(err("NUL bytes are not allowed in a command"));
  if (c.verb.empty()) return reply(err("empty command line"));
  const auto& table = verbs();
  const auto it =
      std::find_if(table.begin(), table.end(), [&](const VerbSpec& v) { return v.name == c.verb; });
  if (it == table.end()) return reply(err("unknown command"));
  const bool valid = state_ == State::authorization ? it->authorization : it->transaction;
  if (!valid)
    return reply(
        err(std::string(it->name) + " is not valid in the " + to_string(state_) + " state"));
  if (c.words.size() < it->min_words || (it->max_words != kAny && c.words.size() > it->max_words))
    return reply(err("syntax error, expected " + std::string(it->usage)));
  return (this->*(it->handler))(c);
}

// --- AUTHORIZATION ------------------------------------------------------------------------------

Reply Protocol::on_user(const Command& c) {
  if (!config_.user_login) return reply(err("USER/PASS login is not offered here"));
  if (tls_required()) return reply(err("[AUTH] plaintext login is disabled, use STLS first"));
  pending_user_ = rtrim(c.args);
  have_user_ = true;
  return reply(ok("send PASS"));
}

Reply Protocol::on_pass(const Command& c) {
  if (!have_user_) return reply(err("send USER first"));
  have_user_ = false;
  // RFC 1939 7: the password is the rest of the line and may contain spaces.
  return check_password(pending_user_, c.args, "USER");
}

Reply Protocol::on_apop(const Command& c) {
  if (!config_.apop) return reply(err("APOP is not offered here"));
  if (tls_required()) return reply(err("[AUTH] plaintext login is disabled, use STLS first"));
  have_user_ = false;
  const std::string& user = c.words[0];
  const Mailbox* box = store_.find(user);
  // RFC 1939 7: the digest is the MD5 of the timestamp followed by the shared secret, in hex.
  if (!box || !iequals(md5_hex(timestamp_ + box->password), c.words[1]))
    return auth_failed(user, "APOP", "credentials");
  return login(user, "APOP");
}

Reply Protocol::on_auth(const Command& c) {
  if (c.words.empty()) {
    // Not in RFC 5034, but widely sent by clients to learn the mechanisms (the pre-CAPA way).
    std::vector<std::string> mechanisms;
    if (config_.sasl_plain) mechanisms.emplace_back("PLAIN");
    if (config_.sasl_login) mechanisms.emplace_back("LOGIN");
    if (mechanisms.empty()) return reply(err("no SASL mechanisms are offered here"));
    return reply(multiline("", mechanisms));
  }
  if (tls_required()) return reply(err("[AUTH] plaintext login is disabled, use STLS first"));
  have_user_ = false;
  const auto mechanism = sasl_mechanism(c.words[0]);
  const bool offered = (mechanism == SaslMechanism::plain && config_.sasl_plain) ||
                       (mechanism == SaslMechanism::login && config_.sasl_login);
  if (!offered) return reply(err("unsupported SASL mechanism"));
  std::optional<std::string_view> initial;
  if (c.words.size() == 2) initial = c.words[1];
  return sasl_reply(sasl_.start(*mechanism, initial));
}

Reply Protocol::handle_sasl(std::string_view line) {
  if (!sasl_.active()) return reply(err("no authentication in progress"));
  return sasl_reply(sasl_.respond(line));
}

Reply Protocol::sasl_reply(const SaslStep& step) {
  // RFC 5034 4: a challenge is "+ " and base64; the client answers on a line of its own.
  if (!step.finished()) return reply("+ " + step.challenge + "\r\n");
  const SaslResult& r = *step.result;
  const std::string method(sasl_mechanism_name(sasl_.mechanism()));
  switch (r.why) {
    case SaslFailure::none:
      return login(r.user, method);
    case SaslFailure::cancelled:
      return reply(err("authentication cancelled"));
    case SaslFailure::bad_base64:
      return reply(err("invalid base64 in the SASL response"));
    case SaslFailure::malformed:
      // Only PLAIN can be malformed among the mechanisms offered here (LOGIN takes any text).
      return reply(err("malformed PLAIN response (RFC 4616)"));
    case SaslFailure::initial_response_not_allowed:
      // Only for server-first mechanisms, which this fake does not offer.
      return reply(err("initial response not allowed"));
    case SaslFailure::authzid:
      // Logging in as someone else (an authzid other than the authcid) is not supported.
      return auth_failed(r.user, method, "authzid");
    case SaslFailure::bad_credentials:
      break;
  }
  return auth_failed(r.user, method, "credentials");
}

Reply Protocol::on_stls(const Command&) {
  if (tls_active_) return reply(err("TLS is already active"));
  if (!config_.offer_stls) return reply(err("STLS is not offered here"));
  Reply r = reply(ok("Begin TLS negotiation"));
  r.effect = Effect::start_tls;
  return r;
}

Reply Protocol::check_password(const std::string& user, const std::string& password,
                               const std::string& method) {
  const Mailbox* box = store_.find(user);
  if (!box || box->password != password) return auth_failed(user, method, "credentials");
  return login(user, method);
}

Reply Protocol::auth_failed(const std::string& user, const std::string& method,
                            std::string_view why) {
  // RFC 3206 4: [AUTH] says the credentials were wrong (not a temporary problem).
  Reply r = reply(err("[AUTH] invalid user name or password"));
  Json e = Json::object();
  e["user"] = user;
  e["method"] = method;
  e["reason"] = std::string(why);
  r.events.emplace_back("login_failed", std::move(e));
  return r;
}

Reply Protocol::login(const std::string& user, const std::string& method) {
  Mailbox* box = store_.find(user);
  if (!box) return auth_failed(user, method, "credentials");
  if (!store_.lock(*box)) {
    // RFC 2449 8.1.1: [IN-USE], the maildrop is locked by another session.
    Reply r = reply(err("[IN-USE] mailbox is locked by another session"));
    Json e = Json::object();
    e["user"] = user;
    e["method"] = method;
    e["reason"] = "in-use";
    r.events.emplace_back("login_failed", std::move(e));
    return r;
  }
  mailbox_ = box;
  entries_.clear();
  for (const auto& m : box->messages) entries_.push_back(Entry{m, false});
  state_ = State::transaction;
  Reply r = reply(ok(user + "'s maildrop has " + count_text(live_count(), live_octets())));
  Json e = Json::object();
  e["user"] = user;
  e["method"] = method;
  e["messages"] = live_count();
  e["octets"] = live_octets();
  r.events.emplace_back("login", std::move(e));
  return r;
}

// --- either state ----------------------------------------------------------------------------

Reply Protocol::on_capa(const Command&) {
  // RFC 2449 6. The login capabilities are listed only while a login is possible.
  std::vector<std::string> lines = {"TOP", "UIDL", "RESP-CODES", "AUTH-RESP-CODE", "PIPELINING"};
  if (state_ == State::authorization) {
    if (!tls_required()) {
      if (config_.user_login) lines.emplace_back("USER");
      std::string sasl = "SASL";
      if (config_.sasl_plain) sasl += " PLAIN";
      if (config_.sasl_login) sasl += " LOGIN";
      if (sasl.size() > 4) lines.push_back(sasl);
    }
    if (config_.offer_stls && !tls_active_) lines.emplace_back("STLS");
  }
  if (!config_.implementation.empty()) lines.push_back("IMPLEMENTATION " + config_.implementation);
  return reply(multiline("Capability list follows", lines));
}

Reply Protocol::on_quit(const Command&) {
  std::string text = config_.hostname + " POP3 server signing off";
  Reply r;
  if (state_ == State::transaction && mailbox_) {
    // RFC 1939 6, the UPDATE state: the messages marked deleted are removed for good.
    std::set<const StoredMessage*> deleted;
    Json uids = Json::array();
    for (const auto& e : entries_) {
      if (!e.deleted) continue;
      deleted.insert(e.message.get());
      uids.push_back(e.message->uid);
    }
    store_.remove(*mailbox_, deleted);
    const std::size_t left = mailbox_->messages.size();
    text += left == 0
                ? " (maildrop empty)"
                : " (" + std::to_string(left) + (left == 1 ? " message" : " messages") + " left)";
    Json e = Json::object();
    e["user"] = mailbox_->user;
    e["deleted"] = std::move(uids);
    e["left"] = left;
    r.events.emplace_back("update", std::move(e));
    store_.unlock(*mailbox_);
    mailbox_ = nullptr;
    entries_.clear();
    state_ = State::authorization;
  }
  r.bytes = ok(text);
  r.effect = Effect::close;
  return r;
}

// --- TRANSACTION ---------------------------------------------------------------------------

std::size_t Protocol::live_count() const {
  return static_cast<std::size_t>(
      std::count_if(entries_.begin(), entries_.end(), [](const Entry& e) { return !e.deleted; }));
}

std::size_t Protocol::live_octets() const {
  std::size_t n = 0;
  for (const auto& e : entries_)
    if (!e.deleted) n += e.message->content.size();
  return n;
}

Protocol::Entry* Protocol::message(std::string_view word, Reply& error) {
  const auto n = parse_message_number(word);
  if (!n) {
    error = reply(err("invalid message number"));
    return nullptr;
  }
  if (*n > entries_.size()) {
    error = reply(err("no such message, only " + std::to_string(entries_.size()) +
                      (entries_.size() == 1 ? " message" : " messages") + " in maildrop"));
    return nullptr;
  }
  Entry& e = entries_[*n - 1];
  if (e.deleted) {
    error = reply(err("message " + std::to_string(*n) + " already deleted"));
    return nullptr;
  }
  return &e;
}

std::size_t Protocol::number_of(const Entry& e) const {
  return static_cast<std::size_t>(&e - entries_.data()) + 1;
}

Reply Protocol::on_stat(const Command&) {
  // RFC 1939 5: exactly "+OK nn mm", nothing after.
  return reply(ok(std::to_string(live_count()) + " " + std::to_string(live_octets())));
}

Reply Protocol::on_list(const Command& c) {
  if (c.words.size() == 1) {
    Reply error;
    Entry* e = message(c.words[0], error);
    if (!e) return error;
    return reply(
        ok(std::to_string(number_of(*e)) + " " + std::to_string(e->message->content.size())));
  }
  std::vector<std::string> lines;
  for (std::size_t i = 0; i < entries_.size(); ++i)
    if (!entries_[i].deleted)
      lines.push_back(std::to_string(i + 1) + " " +
                      std::to_string(entries_[i].message->content.size()));
  return reply(multiline(count_text(live_count(), live_octets()), lines));
}

Reply Protocol::on_uidl(const Command& c) {
  if (c.words.size() == 1) {
    Reply error;
    Entry* e = message(c.words[0], error);
    if (!e) return error;
    return reply(ok(std::to_string(number_of(*e)) + " " + e->message->uid));
  }
  std::vector<std::string> lines;
  for (std::size_t i = 0; i < entries_.size(); ++i)
    if (!entries_[i].deleted)
      lines.push_back(std::to_string(i + 1) + " " + entries_[i].message->uid);
  return reply(multiline("unique-id listing follows", lines));
}

Reply Protocol::on_retr(const Command& c) {
  Reply error;
  Entry* e = message(c.words[0], error);
  if (!e) return error;
  const std::string& content = e->message->content;
  return reply(ok(std::to_string(content.size()) + " octets") + dot_stuff(content));
}

Reply Protocol::on_top(const Command& c) {
  Reply error;
  Entry* e = message(c.words[0], error);
  if (!e) return error;
  const auto lines = parse_line_count(c.words[1]);
  if (!lines) return reply(err("invalid number of lines"));
  return reply(ok("top of message follows") + dot_stuff(message_top(e->message->content, *lines)));
}

Reply Protocol::on_dele(const Command& c) {
  Reply error;
  Entry* e = message(c.words[0], error);
  if (!e) return error;
  e->deleted = true;
  return reply(ok("message " + std::to_string(number_of(*e)) + " deleted"));
}

Reply Protocol::on_rset(const Command&) {
  for (auto& e : entries_) e.deleted = false;
  return reply(ok("maildrop has " + count_text(live_count(), live_octets())));
}

Reply Protocol::on_noop(const Command&) { return reply(ok()); }

// --- scripted replies ---------------------------------------------------------------------------

Reply Protocol::follow_reply(const Command& c, bool positive) {
  if (c.verb == "CONNECT") {
    // A -ERR greeting refuses the session (RFC 1939 4 knows no other).
    Reply r;
    if (!positive) r.effect = Effect::close;
    return r;
  }
  // QUIT ends the session whatever the reply; only a +OK in TRANSACTION enters UPDATE.
  if (c.verb == "QUIT") {
    if (positive) return on_quit(c);
    Reply r;
    r.effect = Effect::close;
    return r;
  }
  if (!positive) return Reply{};
  if (c.verb == "USER") {
    pending_user_ = rtrim(c.args);
    have_user_ = true;
  } else if ((c.verb == "PASS" && have_user_) || (c.verb == "APOP" && !c.words.empty())) {
    // The rule vouched for the credentials: log in without checking them.
    have_user_ = false;
    const std::string user = c.verb == "PASS" ? pending_user_ : c.words[0];
    if (state_ == State::authorization && store_.find(user)) return login(user, c.verb);
  } else if (c.verb == "STLS" && !tls_active_) {
    Reply r;
    r.effect = Effect::start_tls;
    return r;
  } else if ((c.verb == "DELE" || c.verb == "RSET") && state_ == State::transaction) {
    Reply r = handle(c);
    r.bytes.clear();
    return r;
  }
  return Reply{};
}

}  // namespace protofarm::pop3
