#include "fakes/smtp/smtp_fake.hpp"

#include <algorithm>
#include <set>

#include "fakes/common/bytes.hpp"
#include "fakes/common/session.hpp"
#include "fakes/smtp/smtp_session.hpp"

namespace protofarm::smtp {

namespace {

// Every verb a rule's `on` may name, besides `connect` (RFC 5321 4.1.1 and the extensions),
// and `message`: the moment the whole message has arrived, before the reply to it.
const std::vector<std::string>& rule_verbs() {
  static const std::vector<std::string> verbs = {
      "EHLO", "HELO", "MAIL", "RCPT",     "DATA", "BDAT", "RSET", "NOOP", "VRFY",
      "EXPN", "HELP", "QUIT", "STARTTLS", "AUTH", "ETRN", "TURN", "ATRN", "MESSAGE"};
  return verbs;
}

const std::vector<std::string> kMechanisms = {"PLAIN", "LOGIN", "CRAM-MD5"};

class SmtpFake final : public StreamFake {
 public:
  explicit SmtpFake(Options options) : options_(std::move(options)) {}

  Task<void> serve(Session& session) override { return serve_session(session, options_); }

  void describe(Json& ready_entry) const override { ready_entry["hostname"] = options_.hostname; }

 private:
  Options options_;
};

void parse_extensions(const Cfg& list, Options& o) {
  if (!list.is_seq()) {
    list.error("expected a list of EHLO keywords, like [PIPELINING, SIZE, STARTTLS]");
    return;
  }
  std::set<std::string> seen;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const Cfg item = list.at(i);
    const std::string text = item.str();
    const std::string keyword = to_upper(text.substr(0, text.find(' ')));
    if (keyword.empty()) {
      item.error("an extension needs a keyword");
      continue;
    }
    const auto& known = known_extensions();
    const bool is_known = std::find(known.begin(), known.end(), keyword) != known.end();
    if (!is_known) {
      // Anything else is advertised as written (a client's parser may need an odd line), but
      // a near miss of a keyword the fake implements is surely a typo.
      const std::string close = closest_match(keyword, known);
      if (!close.empty()) {
        item.error("unknown extension '" + keyword + "'; did you mean '" + close + "'?");
        continue;
      }
    }
    if ((keyword == "SIZE" || keyword == "AUTH") && text.find(' ') != std::string::npos) {
      item.error(keyword == "SIZE" ? "give the limit in size_limit, not here"
                                   : "give the mechanisms in auth_mechanisms, not here");
      continue;
    }
    if (!seen.insert(keyword).second) {
      item.error("extension '" + keyword + "' is listed twice");
      continue;
    }
    o.extensions.push_back(is_known ? keyword : text);
  }
}

std::unique_ptr<Fake> create(Server& server, const Cfg& cfg) {
  const ServerConfig& sc = server.config();
  Options o;
  o.server = sc.name;
  o.seed = sc.scenario ? sc.scenario->seed : 0;
  o.tls_configured = sc.tls.mode == TlsMode::starttls;
  o.hostname = cfg.str_or("hostname", o.hostname);
  if (o.hostname.empty() || o.hostname.find_first_of(" \t\r\n") != std::string::npos)
    cfg["hostname"].error("expected a host name without spaces, like mx.example.test");
  if (cfg.has("greeting")) {
    o.greeting = cfg["greeting"].str_list();
    for (const auto& line : o.greeting)
      if (line.find_first_of("\r\n") != std::string::npos)
        cfg["greeting"].error("a greeting line cannot contain line breaks; give a list of lines");
  }
  if (cfg.has("size_limit")) o.size_limit = cfg["size_limit"].size_bytes(o.size_limit);
  if (cfg.has("auth_mechanisms")) {
    o.auth_mechanisms.clear();
    const Cfg list = cfg["auth_mechanisms"];
    for (std::size_t i = 0; list.is_seq() && i < list.size(); ++i) {
      const std::string m = to_upper(list.at(i).str());
      if (std::find(kMechanisms.begin(), kMechanisms.end(), m) == kMechanisms.end())
        list.at(i).error("unknown mechanism '" + m + "'; expected PLAIN, LOGIN or CRAM-MD5" +
                         did_you_mean(m, kMechanisms));
      else
        o.auth_mechanisms.push_back(m);
    }
    if (!list.is_seq()) list.error("expected a list of mechanisms, like [PLAIN, LOGIN]");
  }
  cfg["users"].for_each_entry(
      [&](const std::string& user, const Cfg& password) { o.users[user] = password.str(); });
  if (cfg.has("users") && !cfg["users"].is_map())
    cfg["users"].error("expected a map of user names to passwords, like {alice: secret}");
  o.require_auth = cfg.bool_or("require_auth", false);
  o.require_tls = cfg.bool_or("require_tls", false);
  if (o.require_auth && o.users.empty())
    cfg["require_auth"].error("require_auth needs `users:` to log in with");
  if (o.require_tls && sc.tls.mode == TlsMode::none)
    cfg["require_tls"].error("require_tls needs `tls: starttls` or `tls: implicit`");
  const std::string eod = cfg.str_or("end_of_data", "strict");
  if (eod == "lenient")
    o.end_of_data = EndOfData::lenient;
  else if (eod != "strict")
    cfg["end_of_data"].error("expected strict or lenient, got '" + eod + "'" +
                             did_you_mean(eod, {"strict", "lenient"}));
  if (cfg.has("max_recipients")) {
    const auto n = cfg["max_recipients"].integer(100);
    if (n < 1) cfg["max_recipients"].error("expected at least 1");
    o.max_recipients = static_cast<std::size_t>(std::max<std::int64_t>(1, n));
  }
  if (cfg.has("extensions"))
    parse_extensions(cfg["extensions"], o);
  else
    o.extensions = default_extensions(o.tls_configured, !o.users.empty());
  return std::make_unique<SmtpFake>(std::move(o));
}

}  // namespace

FakeFactory factory() {
  FakeFactory f;
  f.protocol = "smtp";
  f.transport = Transport::stream;
  f.rules.on = rule_verbs();
  f.rules.moments = {"MESSAGE"};
  f.schema = smtp_schema_fragment();
  f.contract_greeting = "220";  // RFC 5321 4.2: the server speaks first
  f.create = create;
  return f;
}

}  // namespace protofarm::smtp
