#include "fakes/nntp/nntp_protocol.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <memory>
#include <set>

#include "fakes/common/bytes.hpp"
#include "fakes/common/multiline.hpp"
#include "fakes/common/numeric_reply.hpp"

namespace protofarm::nntp {

namespace {

constexpr std::size_t kAny = static_cast<std::size_t>(-1);
// Lines per piece of a streamed listing (about 200 KiB of overview data).
constexpr std::size_t kPieceLines = 1024;
// How much of a client's text an error reply quotes (INN's MaxLength does the same).
constexpr std::size_t kQuoteLimit = 100;

// Header fields an article has at most once (RFC 5536 3; INN refuses a second one).
constexpr std::array<const char*, 16> kSingleFields = {
    "Approved", "Control",    "Date",       "Distribution", "Expires", "Followup-To",
    "From",     "Message-ID", "Newsgroups", "Organization", "Path",    "References",
    "Reply-To", "Sender",     "Subject",    "Supersedes"};
constexpr std::array<const char*, 3> kRequiredFields = {"From", "Newsgroups", "Subject"};

Reply say(int code, std::string_view text, Effect effect = Effect::none) {
  Reply r;
  r.bytes = reply(code, text);
  r.effect = effect;
  return r;
}

Reply block(int code, std::string_view text, const std::vector<std::string>& lines) {
  Reply r;
  r.bytes = multiline(code, text, lines);
  return r;
}

Json event_with(std::initializer_list<std::pair<const char*, Json>> fields) {
  Json e = Json::object();
  for (const auto& [k, v] : fields) e[k] = v;
  return e;
}

std::string quote_text(std::string_view text) {
  std::string s = overview_text(text);
  if (s.size() > kQuoteLimit) s = s.substr(0, kQuoteLimit) + "...";
  return "\"" + s + "\"";
}

std::string number(std::uint64_t n) { return std::to_string(n); }

bool is_metadata(std::string_view field) {
  return iequals(field, ":bytes") || iequals(field, ":lines");
}

// A header's content as HDR and XHDR show it, or a metadata item; nullopt for a missing header.
std::optional<std::string> field_value(const StoredArticle& a, std::string_view field) {
  if (iequals(field, ":bytes")) return number(a.article.size());
  if (iequals(field, ":lines")) return number(a.article.body_lines());
  if (const Header* h = a.article.find(field)) return overview_text(h->value);
  // The Xref of a scenario article is where the store put it, as OVER shows it.
  if (iequals(field, "Xref")) return a.xref();
  return std::nullopt;
}

bool is_field_name(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(),
                                      [](char c) { return c > 0x20 && c < 0x7f && c != ':'; });
}

// RFC 3977 9.4.1 (keyword = ALPHA 2*(ALPHA / DIGIT / "." / "-")), as CAPABILITIES checks it.
bool is_keyword(std::string_view word) {
  if (word.size() < 3 || !std::isalpha(static_cast<unsigned char>(word[0]))) return false;
  return std::all_of(word.begin(), word.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-';
  });
}

// What ends an overview-like listing that has nothing in it.
Reply empty_block(int code, std::string_view text) {
  Reply r = say(code, text);
  r.bytes += ".\r\n";
  return r;
}

}  // namespace

std::string drain(Reply& reply) {
  std::string out = reply.bytes;
  if (reply.more)
    while (reply.more(out)) {
    }
  return out;
}

const std::vector<Protocol::VerbSpec>& Protocol::verbs() {
  // RFC 3977, RFC 2980 (XHDR, XOVER), RFC 4642, RFC 4643. Whether a command waits for AUTHINFO
  // under require_auth follows nnrpd's command table.
  static const std::vector<VerbSpec> table = {
      {"ARTICLE", &Protocol::on_article, true, 0, 1, "[message-ID|number]"},
      {"AUTHINFO", &Protocol::on_authinfo, false, 1, kAny,
       "USER name|PASS password|SASL mechanism [initial-response]"},
      {"BODY", &Protocol::on_body, true, 0, 1, "[message-ID|number]"},
      {"CAPABILITIES", &Protocol::on_capabilities, false, 0, 1, "[keyword]"},
      {"DATE", &Protocol::on_date, false, 0, 0, ""},
      {"GROUP", &Protocol::on_group, true, 1, 1, "newsgroup"},
      {"HDR", &Protocol::on_hdr, true, 1, 2, "header [message-ID|range]"},
      {"HEAD", &Protocol::on_head, true, 0, 1, "[message-ID|number]"},
      {"HELP", &Protocol::on_help, false, 0, 0, ""},
      {"IHAVE", &Protocol::on_ihave, true, 1, 1, "message-ID"},
      {"LAST", &Protocol::on_last, true, 0, 0, ""},
      {"LIST", &Protocol::on_list, true, 0, 2,
       "[ACTIVE [wildmat]|ACTIVE.TIMES [wildmat]|COUNTS [wildmat]|DISTRIB.PATS|DISTRIBUTIONS"
       "|HEADERS [MSGID|RANGE]|MODERATORS|MOTD|NEWSGROUPS [wildmat]|OVERVIEW.FMT"
       "|SUBSCRIPTIONS [wildmat]]"},
      {"LISTGROUP", &Protocol::on_listgroup, true, 0, 2, "[newsgroup [range]]"},
      {"MODE", &Protocol::on_mode, false, 1, 1, "READER"},
      {"NEWGROUPS", &Protocol::on_newgroups, true, 2, 3, "[yy]yymmdd hhmmss [GMT]"},
      {"NEWNEWS", &Protocol::on_newnews, true, 3, 4, "wildmat [yy]yymmdd hhmmss [GMT]"},
      {"NEXT", &Protocol::on_next, true, 0, 0, ""},
      {"OVER", &Protocol::on_over, true, 0, 1, "[range|message-ID]"},
      {"POST", &Protocol::on_post, true, 0, 0, ""},
      {"QUIT", &Protocol::on_quit, false, 0, 0, ""},
      {"STARTTLS", &Protocol::on_starttls, false, 0, 0, ""},
      {"STAT", &Protocol::on_stat, true, 0, 1, "[message-ID|number]"},
      {"XHDR", &Protocol::on_hdr, true, 1, 2, "header [message-ID|range]"},
      {"XOVER", &Protocol::on_over, true, 0, 1, "[range|message-ID]"},
  };
  return table;
}

std::vector<std::string> Protocol::verb_names() {
  std::vector<std::string> names;
  for (const auto& v : verbs()) names.emplace_back(v.name);
  return names;
}

Protocol::Protocol(const Config& config, ArticleStore& store, SessionInfo info)
    : config_(config),
      store_(store),
      info_(std::move(info)),
      tls_active_(info_.tls_active),
      // RFC 4643 2.4: strict base64; logins check the scenario's users.
      sasl_([&config](const std::string& user) -> std::optional<std::string> {
        const auto it = config.users.find(user);
        if (it == config.users.end()) return std::nullopt;
        return it->second;
      }) {}

std::string Protocol::greeting() const { return config_.greeting + "\r\n"; }

bool Protocol::greeting_closes() const {
  const int code = reply_code_of(config_.greeting);
  return code == 400 || code == 502;
}

Reply Protocol::handle(const Command& c) {
  // nnrpd reads past a blank line without a word.
  if (c.verb.empty() && !c.has_nul) return Reply{};
  const auto& table = verbs();
  const auto it =
      std::find_if(table.begin(), table.end(), [&](const VerbSpec& v) { return v.name == c.verb; });
  if (it == table.end()) return say(500, "What?");
  if (c.has_nul) return say(501, "Syntax error: NUL byte in the command line");
  for (const auto& w : c.words)
    if (w.size() > kMaxArgument) return say(501, "Argument too long");
  if (c.words.size() < it->min_args || (it->max_args != kAny && c.words.size() > it->max_args))
    return say(501, "Syntax is: " + std::string(it->name) + " " +
                        std::string(it->usage.empty() ? "(no argument allowed)" : it->usage));
  if (it->needs_auth && needs_login()) return say(480, "Authentication required for command");
  return (this->*(it->handler))(c);
}

// --- session ------------------------------------------------------------------------------------

Reply Protocol::on_capabilities(const Command& c) {
  if (c.words.size() == 1 && !is_keyword(c.words[0])) return say(501, "Syntax error in keyword");
  capabilities_sent_ = true;
  // RFC 3977 5.2, RFC 4642 2.1, RFC 4643 2.1, in nnrpd's order; AUTHINFO and STARTTLS only
  // while they can be used.
  std::vector<std::string> lines = {"VERSION 2", "IMPLEMENTATION protofarm"};
  if (!authenticated_ && !config_.users.empty()) lines.emplace_back("AUTHINFO USER SASL");
  lines.emplace_back("HDR");
  if (config_.posting) lines.emplace_back("IHAVE");
  lines.emplace_back(
      "LIST ACTIVE ACTIVE.TIMES COUNTS DISTRIB.PATS DISTRIBUTIONS HEADERS MODERATORS NEWSGROUPS "
      "OVERVIEW.FMT SUBSCRIPTIONS");
  lines.emplace_back("NEWNEWS");
  lines.emplace_back("OVER MSGID");
  if (config_.posting) lines.emplace_back("POST");
  lines.emplace_back("READER");
  if (!config_.users.empty()) lines.emplace_back("SASL PLAIN");
  if (config_.offer_starttls && !tls_active_ && !authenticated_) lines.emplace_back("STARTTLS");
  return block(101, "Capability list:", lines);
}

Reply Protocol::on_mode(const Command& c) {
  // RFC 3977 5.3: a server that is not mode-switching answers MODE READER as its greeting does.
  if (!iequals(c.words[0], "READER")) return say(501, "Unknown MODE variant");
  return config_.posting ? say(200, "Posting allowed") : say(201, "Posting prohibited");
}

Reply Protocol::on_quit(const Command&) { return say(205, "Bye!", Effect::close); }

Reply Protocol::on_help(const Command&) {
  std::vector<std::string> lines;
  for (const auto& v : verbs())
    lines.push_back("  " + std::string(v.name) + (v.usage.empty() ? "" : " ") +
                    std::string(v.usage));
  return block(100, "Legal commands", lines);
}

Reply Protocol::on_date(const Command&) { return say(111, date_stamp(now())); }

Reply Protocol::on_starttls(const Command&) {
  // RFC 4642 2.2.2: 502 once TLS is active or the client has authenticated; 580 when the server
  // cannot start it (here: no `tls: starttls`).
  if (tls_active_) return say(502, "Already using a security layer");
  if (!config_.offer_starttls) return say(580, "Can not initiate TLS negotiation");
  if (authenticated_) return say(502, "Already authenticated without the use of a security layer");
  return say(382, "Begin TLS negotiation now", Effect::start_tls);
}

void Protocol::tls_started() {
  tls_active_ = true;
  group_ = nullptr;
  current_.reset();
  pending_user_.reset();
  sasl_.cancel();
}

Reply Protocol::on_authinfo(const Command& c) {
  const std::string sub = to_upper(c.words[0]);
  if (sub != "USER" && sub != "PASS" && sub != "SASL") return say(501, "Bad AUTHINFO param");
  if (c.words.size() < 2)
    return say(501,
               "Syntax is: AUTHINFO USER name|PASS password|SASL mechanism "
               "[initial-response]");
  // RFC 4643 2.2: no AUTHINFO once authenticated; nnrpd says the same when nobody can log in.
  if (authenticated_) return say(502, "Already authenticated");
  if (config_.users.empty()) return say(502, "Authentication will fail");
  if (sub == "SASL") return authinfo_sasl(c);
  // RFC 4643 2.3.2: the rest of the line is the user name or the password, spaces and all.
  const std::string value = rest_after_first_word(c.args);
  if (sub == "PASS") return authinfo_pass(value);
  pending_user_ = value;
  return say(381, "Enter password");
}

Reply Protocol::authinfo_pass(const std::string& password) {
  if (!pending_user_) return say(482, "Authentication commands issued out of sequence");
  const auto it = config_.users.find(*pending_user_);
  if (it == config_.users.end() || it->second != password)
    return auth_failed(*pending_user_, "USER", "credentials");
  return login(*pending_user_, "USER");
}

Reply Protocol::authinfo_sasl(const Command& c) {
  if (c.words.size() > 3) return say(501, "Too many arguments");
  // RFC 4643 2.4.2: 503 for a mechanism the server does not offer.
  if (sasl_mechanism(c.words[1]) != SaslMechanism::plain)
    return say(503, "Mechanism not recognized");
  std::optional<std::string_view> initial;
  if (c.words.size() == 3) initial = c.words[2];
  return sasl_reply(sasl_.start(SaslMechanism::plain, initial));
}

Reply Protocol::handle_sasl(std::string_view line) {
  if (!sasl_.active()) return say(482, "Authentication commands issued out of sequence");
  return sasl_reply(sasl_.respond(line));
}

Reply Protocol::sasl_reply(const SaslStep& step) {
  // RFC 4643 2.4.1: an empty challenge is sent as "=".
  if (!step.finished()) return say(383, step.challenge.empty() ? "=" : step.challenge);
  const SaslResult& r = *step.result;
  switch (r.why) {
    case SaslFailure::none:
      return login(r.user, "PLAIN");
    case SaslFailure::cancelled:
      return auth_failed(r.user, "PLAIN", "cancelled", 481, "Client cancelled authentication");
    case SaslFailure::bad_base64:
      return auth_failed(r.user, "PLAIN", "base64", 504, "Invalid base64-encoded response");
    case SaslFailure::malformed:
    case SaslFailure::initial_response_not_allowed:
      return auth_failed(r.user, "PLAIN", "malformed");
    case SaslFailure::authzid:
      return auth_failed(r.user, "PLAIN", "authzid");
    case SaslFailure::bad_credentials:
      break;
  }
  return auth_failed(r.user, "PLAIN", "credentials");
}

Reply Protocol::login(std::string user, const std::string& method) {
  authenticated_ = true;
  user_ = user;
  pending_user_.reset();  // (the name may have been this one: `user` is a copy)
  Reply r = say(281, "Authentication succeeded");
  r.events.emplace_back("login", event_with({{"user", user}, {"method", method}}));
  return r;
}

Reply Protocol::auth_failed(const std::string& user, const std::string& method,
                            std::string_view why, int code, std::string_view text) {
  Reply r = say(code, text);
  r.events.emplace_back(
      "login_failed",
      event_with({{"user", user}, {"method", method}, {"reason", std::string(why)}}));
  return r;
}

// --- groups and the current article -------------------------------------------------------------

void Protocol::select(const Group& g) {
  group_ = &g;
  // RFC 3977 6.1.1.2: the current article is the group's first, or invalid when it is empty.
  current_.reset();
  if (g.count() > 0) current_ = g.low();
}

Reply Protocol::group_reply(const Group& g) const {
  // RFC 3977 6.1.1.2: an empty group has its high-water mark one below its low one.
  const std::uint64_t count = g.count();
  const std::uint64_t high = count > 0 ? g.high() : g.low() - 1;
  return say(211, number(count) + " " + number(g.low()) + " " + number(high) + " " + g.name);
}

Reply Protocol::on_group(const Command& c) {
  const Group* g = store_.find(c.words[0]);
  if (!g) return say(411, "No such group " + c.words[0]);
  select(*g);
  return group_reply(*g);
}

Reply Protocol::on_listgroup(const Command& c) {
  if (c.words.empty() && !group_) return say(412, "No group specified");
  std::optional<Range> range;
  if (c.words.size() == 2) {
    range = parse_range(c.words[1]);
    if (!range) return say(501, "Syntax error in range");
  }
  const Group* g = c.words.empty() ? group_ : store_.find(c.words[0]);
  if (!g) return say(411, "No such group " + c.words[0]);
  select(*g);
  Reply r = group_reply(*g);
  // RFC 3977 6.1.2.2: the current article is the group's first whatever the range says.
  const std::uint64_t from = std::max(range ? range->low : 0, g->low());
  const std::uint64_t to = std::min(range && range->high ? *range->high : g->high(), g->high());
  if (!any_in(*g, from, to)) {
    r.bytes += ".\r\n";
    return r;
  }
  r.more = lines_for(*g, from, to, [](std::uint64_t n) { return std::optional(number(n)); });
  return r;
}

Reply Protocol::on_next(const Command&) { return step(true); }
Reply Protocol::on_last(const Command&) { return step(false); }

Reply Protocol::step(bool forward) {
  if (!group_) return say(412, "Not in a newsgroup");
  if (!current_) return say(420, "Current article number 0 is invalid");
  // RFC 3977 6.1.3, 6.1.4: the nearest existing article; gaps are skipped.
  std::optional<std::uint64_t> n;
  if (forward)
    n = store_.next_at_or_after(*group_, *current_ + 1);
  else if (*current_ > 0)
    n = store_.prev_at_or_before(*group_, *current_ - 1);
  if (!n)
    return forward ? say(421, "No next article to retrieve")
                   : say(422, "No previous article to retrieve");
  current_ = *n;
  const ArticlePtr a = store_.article(*group_, *n);
  return say(223, number(*n) + " " + a->message_id + " Article retrieved; request text separately");
}

// --- articles -----------------------------------------------------------------------------------

std::optional<Protocol::Target> Protocol::target(const Command& c, Reply& error) {
  if (c.words.size() == 1) {
    const std::string& w = c.words[0];
    if (const auto n = parse_article_number(w)) {
      if (!group_) {
        error = say(412, "Not in a newsgroup");
        return std::nullopt;
      }
      const ArticlePtr a = store_.article(*group_, *n);
      if (!a) {
        error = say(423, "No such article number " + number(*n));
        return std::nullopt;
      }
      // RFC 3977 6.2.1.2: an article chosen by number becomes the current one.
      current_ = *n;
      return Target{a, *n};
    }
    // As nnrpd: a digit first means a bad number, anything else a bad message-id.
    if (std::isdigit(static_cast<unsigned char>(w[0]))) {
      error = say(501, "Syntax error in article number");
      return std::nullopt;
    }
    if (!is_message_id(w)) {
      error = say(501, "Syntax error in Message-ID");
      return std::nullopt;
    }
    // By message-id the current article stays as it is, and the number shown is 0.
    const ArticlePtr a = store_.by_message_id(w);
    if (!a) {
      error = say(430, "No such article");
      return std::nullopt;
    }
    return Target{a, 0};
  }
  if (!group_) {
    error = say(412, "Not in a newsgroup");
    return std::nullopt;
  }
  const ArticlePtr a = current_ ? store_.article(*group_, *current_) : nullptr;
  if (!a) {
    error = say(420, "Current article number " + number(current_.value_or(0)) + " is invalid");
    return std::nullopt;
  }
  return Target{a, *current_};
}

Reply Protocol::fetch(const Command& c, int code, std::string_view item) {
  Reply error;
  const std::optional<Target> t = target(c, error);
  if (!t) return error;
  const Article& a = t->article->article;
  Reply r = say(code, number(t->number) + " " + t->article->message_id + " " + std::string(item));
  // RFC 3977 6.2: the article, its headers or its body as a dot-stuffed block.
  if (code == 220) r.bytes += dot_stuff(a.render());
  if (code == 221) r.bytes += dot_stuff(a.head());
  if (code == 222) r.bytes += dot_stuff(a.body);
  return r;
}

Reply Protocol::on_article(const Command& c) { return fetch(c, 220, "article"); }
Reply Protocol::on_head(const Command& c) { return fetch(c, 221, "head"); }
Reply Protocol::on_body(const Command& c) { return fetch(c, 222, "body"); }
Reply Protocol::on_stat(const Command& c) { return fetch(c, 223, "status"); }

// --- posting ------------------------------------------------------------------------------------

Reply Protocol::on_post(const Command&) {
  if (!config_.posting) return say(440, "Posting not allowed");
  // As nnrpd: the reply recommends the Message-ID the article gets when it brings none.
  transfer_ = Transfer{false, new_message_id()};
  return say(340, "Ok, recommended Message-ID " + transfer_->message_id, Effect::read_article);
}

Reply Protocol::on_ihave(const Command& c) {
  const std::string& id = c.words[0];
  if (!is_message_id(id)) return say(501, "Syntax error in Message-ID");
  if (!config_.posting) return say(502, "IHAVE command disabled by administrator");
  // RFC 3977 6.3.2.2: 435 for an article the server has.
  if (store_.has_message_id(id)) return say(435, "Duplicate");
  transfer_ = Transfer{true, id};
  return say(335, "Send it; end with <CR-LF>.<CR-LF>", Effect::read_article);
}

std::string Protocol::new_message_id() {
  for (;;) {
    const std::uint64_t h = splitmix64(
        fnv1a(number(info_.number) + "." + number(++ids_made_), splitmix64(store_.seed())));
    char hex[16];
    std::snprintf(hex, sizeof hex, "%012llx", static_cast<unsigned long long>(h >> 16));
    std::string id = "<" + date_stamp(now()) + "." + hex + "@protofarm.invalid>";
    if (!store_.has_message_id(id)) return id;
  }
}

PostOutcome Protocol::refuse(PostOutcome out, bool ihave, std::string why) {
  // RFC 3977 6.3.1.2, 6.3.2.2: 441 for a refused post, 437 for a refused transfer.
  out.reply = say(ihave ? 437 : 441, why);
  out.reason = std::move(why);
  return out;
}

PostOutcome Protocol::finish_transfer(const ReceivedArticle& in, bool keepable) {
  PostOutcome out;
  if (!transfer_) return out;
  const Transfer t = *transfer_;
  transfer_.reset();
  out.via = t.ihave ? "IHAVE" : "POST";
  // A refused article is named too, when it can be: by IHAVE's argument, or its own header.
  if (t.ihave) out.message_id = t.message_id;
  if (!in.complete) {
    out.reason = "incomplete";
    return out;
  }
  if (in.size > config_.max_article)
    return refuse(
        std::move(out), t.ihave,
        "Article is bigger than local limit of " + number(config_.max_article) + " bytes");
  if (in.unstuffed_line != 0)
    return refuse(
        std::move(out), t.ihave,
        "Line " + number(in.unstuffed_line) + " without its initial dot doubled (dot-stuffing)");
  ParsedArticle p = parse_article(in.content);
  if (!t.ihave && is_message_id(p.article.value("Message-ID")))
    out.message_id = std::string(p.article.value("Message-ID"));
  if (!p.has_body) return refuse(std::move(out), t.ihave, "Article has no body -- just headers");
  if (!p.bad_header.empty()) {
    const std::string_view bad = p.bad_header;
    return refuse(std::move(out), t.ihave,
                  "Invalid syntax encountered in header field (unexpected byte, no colon-space, "
                  "or empty content line): " +
                      overview_text(bad.substr(0, std::min(bad.find(':'), kQuoteLimit))));
  }
  std::string id;
  std::vector<Group*> groups;
  if (std::string why = vet(p.article, t, id, groups); !why.empty())
    return refuse(std::move(out), t.ihave, std::move(why));
  if (!keepable) {
    out.reply = say(t.ihave ? 436 : 441, "Article not saved: insufficient storage");
    out.reason = "not_saved";
    return out;
  }
  const ArticlePtr stored =
      store_.add_posted(std::move(p.article), id, groups, now(),
                        std::string(t.ihave ? "ihave:" : "post:") + number(info_.number));
  out.accepted = true;
  out.message_id = id;
  out.numbers = stored->placements;
  out.reply = say(t.ihave ? 235 : 240, "Article received " + id);
  return out;
}

std::string Protocol::vet(Article& a, const Transfer& t, std::string& id,
                          std::vector<Group*>& groups) {
  for (const char* name : kSingleFields)
    if (a.count(name) > 1) return std::string("Duplicate ") + name + " header field";
  for (const char* name : kRequiredFields)
    if (overview_text(a.value(name)).find_first_not_of(' ') == std::string::npos)
      return std::string("Missing required ") + name + " header field";
  // Date and Message-ID: checked when given, added when not (from the clock and the seed).
  if (!a.value("Date").empty()) {
    if (!parse_article_date(a.value("Date"))) return "Can't parse Date header field body";
  } else {
    a.remove("Date");
    a.add("Date", article_date(now()));
  }
  if (!a.value("Message-ID").empty()) {
    id = std::string(a.value("Message-ID"));
    if (!is_article_message_id(id)) return "Can't parse Message-ID header field body";
    if (t.ihave && id != t.message_id)
      return "Message-ID header field body does not match the IHAVE argument";
  } else {
    id = t.message_id;
    a.remove("Message-ID");
    a.add("Message-ID", id);
  }
  // nnrpd hands a post to innd, whose "435 Duplicate" it passes on inside its 441.
  if (store_.has_message_id(id)) return t.ihave ? "Duplicate" : "435 Duplicate";
  if (std::string why = vet_newsgroups(a, t.ihave, groups); !why.empty()) return why;
  if (a.value("Path").empty()) {
    a.remove("Path");
    a.add("Path", std::string(kPathHost) + "!not-for-mail");
  }
  return {};
}

std::string Protocol::vet_newsgroups(const Article& a, bool ihave, std::vector<Group*>& groups) {
  const std::string value(a.value("Newsgroups"));
  std::string refused;
  const Group* moderated = nullptr;
  // Groups the server does not carry are left out, as INN does; at least one must be there.
  for (const std::string& name : split_newsgroups(value)) {
    Group* g = store_.find(name);
    if (!g) continue;
    if (std::find(groups.begin(), groups.end(), g) == groups.end()) groups.push_back(g);
    if (g->status == 'n' && !ihave && refused.empty())
      refused = "Postings to \"" + name + "\" are not allowed here";
    if (g->status == 'm' && !moderated) moderated = g;
  }
  if (groups.empty())
    return ihave ? "Unwanted newsgroup " + quote_text(value)
                 : "No valid newsgroups in " + quote_text(value);
  if (!refused.empty()) return refused;
  if (!moderated || !a.value("Approved").empty()) return {};
  // An unapproved post to a moderated group goes to its moderator by mail; the fake has no
  // moderator address, so it answers as INN does without one. A transfer must be approved.
  if (ihave) return "Unapproved for \"" + moderated->name + "\"";
  return "No mailing address for \"" + moderated->name +
         "\" -- ask your news administrator to fix this";
}

PostOutcome Protocol::follow_transfer(const ReceivedArticle& in, int code) {
  PostOutcome out;
  if (!transfer_) return out;
  const Transfer t = *transfer_;
  transfer_.reset();
  out.via = t.ihave ? "IHAVE" : "POST";
  if (t.ihave) out.message_id = t.message_id;
  if (code < 200 || code >= 300 || !in.complete) {
    out.reason = in.complete ? "refused by a rule" : "incomplete";
    return out;
  }
  // The rule vouched for the article: store it unchecked, with the headers the server adds.
  ParsedArticle p = parse_article(in.content);
  Article& a = p.article;
  std::string id(a.value("Message-ID"));
  if (!is_article_message_id(id) || store_.has_message_id(id)) {
    id = store_.has_message_id(t.message_id) ? new_message_id() : t.message_id;
    a.remove("Message-ID");
    a.add("Message-ID", id);
  }
  if (a.value("Date").empty()) {
    a.remove("Date");
    a.add("Date", article_date(now()));
  }
  std::vector<Group*> groups;
  for (const std::string& name : split_newsgroups(a.value("Newsgroups")))
    if (Group* g = store_.find(name);
        g && std::find(groups.begin(), groups.end(), g) == groups.end())
      groups.push_back(g);
  out.accepted = true;
  out.message_id = id;
  if (groups.empty()) return out;
  const ArticlePtr stored =
      store_.add_posted(std::move(a), id, groups, now(),
                        std::string(t.ihave ? "ihave:" : "post:") + number(info_.number));
  out.numbers = stored->placements;
  return out;
}

// --- information --------------------------------------------------------------------------------

std::vector<std::string> Protocol::overview_format() const {
  // RFC 3977 8.4.2 names the metadata ":bytes" and ":lines"; nnrpd does so only for a client
  // that sent CAPABILITIES, and says "Bytes:" and "Lines:" (RFC 2980) to older ones.
  return {"Subject:",
          "From:",
          "Date:",
          "Message-ID:",
          "References:",
          capabilities_sent_ ? ":bytes" : "Bytes:",
          capabilities_sent_ ? ":lines" : "Lines:",
          "Xref:full"};
}

Reply Protocol::list_groups(std::string_view keyword, const std::optional<Wildmat>& pattern) const {
  std::vector<std::string> lines;
  for (const auto& [name, g] : store_.groups()) {
    if (pattern && !pattern->matches(name)) continue;
    const std::uint64_t count = g.count();
    const std::uint64_t high = count > 0 ? g.high() : g.low() - 1;
    char buf[96];
    if (keyword == "ACTIVE") {
      // The active file's form, as nnrpd sends it: ten-digit water marks.
      std::snprintf(buf, sizeof buf, " %010llu %010llu %c", static_cast<unsigned long long>(high),
                    static_cast<unsigned long long>(g.low()), g.status);
      lines.push_back(name + buf);
    } else if (keyword == "COUNTS") {
      std::snprintf(buf, sizeof buf, " %llu %llu %llu %c", static_cast<unsigned long long>(high),
                    static_cast<unsigned long long>(g.low()),
                    static_cast<unsigned long long>(count), g.status);
      lines.push_back(name + buf);
    } else if (keyword == "ACTIVE.TIMES") {
      lines.push_back(name + " " + std::to_string(unix_seconds(g.created)) + " news");
    } else if (!g.description.empty()) {
      lines.push_back(name + "\t" + g.description);  // NEWSGROUPS
    }
  }
  if (keyword == "ACTIVE") return block(215, "Newsgroups in form \"group high low status\"", lines);
  if (keyword == "COUNTS")
    return block(215, "Newsgroups in form \"group high low count status\"", lines);
  if (keyword == "ACTIVE.TIMES")
    return block(215, "Newsgroup creation times in form \"group time who\"", lines);
  return block(215, "Newsgroup descriptions in form \"group description\"", lines);
}

Reply Protocol::on_list(const Command& c) {
  const std::string keyword = c.words.empty() ? "ACTIVE" : to_upper(c.words[0]);
  static const std::set<std::string, std::less<>> kKnown = {
      "ACTIVE",     "ACTIVE.TIMES", "COUNTS",     "DISTRIB.PATS", "DISTRIBUTIONS", "HEADERS",
      "MODERATORS", "MOTD",         "NEWSGROUPS", "OVERVIEW.FMT", "SUBSCRIPTIONS"};
  static const std::set<std::string, std::less<>> kWildmat = {"ACTIVE", "ACTIVE.TIMES", "COUNTS",
                                                              "NEWSGROUPS", "SUBSCRIPTIONS"};
  if (!kKnown.count(keyword)) return say(501, "Unknown LIST keyword");
  const bool has_arg = c.words.size() == 2;
  if (keyword == "HEADERS") {
    if (has_arg && !iequals(c.words[1], "MSGID") && !iequals(c.words[1], "RANGE"))
      return say(501, "Syntax error in arguments");
    // RFC 3977 8.6: ":" for any header; the metadata items work in both forms here.
    return block(215, "Headers and metadata items supported", {":", ":bytes", ":lines"});
  }
  if (has_arg && !kWildmat.count(keyword)) return say(501, "Unexpected wildmat or argument");
  std::optional<Wildmat> pattern;
  if (has_arg) {
    pattern = Wildmat::parse(c.words[1]);
    if (!pattern) return say(501, "Syntax error in wildmat");
  }
  if (keyword == "OVERVIEW.FMT")
    return block(215, "Order of fields in overview database", overview_format());
  // RFC 6048's lists that the fake keeps no data for: empty, as INN's stock files are; MOTD is
  // a file INN does not ship, so 503 (RFC 3977 7.6.1).
  if (keyword == "MOTD") return say(503, "No message of the day available");
  if (keyword == "DISTRIB.PATS")
    return block(215, "Default distributions in form \"weight:group-pattern:distribution\"", {});
  if (keyword == "DISTRIBUTIONS")
    return block(215, "Distributions in form \"distribution description\"", {});
  if (keyword == "MODERATORS")
    return block(215, "Newsgroup moderators in form \"group-pattern:submission-template\"", {});
  if (keyword == "SUBSCRIPTIONS")
    return block(215, "Recommended subscriptions in form \"group\"", {});
  return list_groups(keyword, pattern);
}

Reply Protocol::on_newgroups(const Command& c) {
  if (c.words.size() == 3 && !iequals(c.words[2], "GMT"))
    return say(501, "Syntax error for \"GMT\"");
  const auto since = parse_nntp_date(c.words[0], c.words[1], now());
  if (!since) return say(501, "Bad date");
  std::vector<std::string> lines;
  for (const auto& [name, g] : store_.groups()) {
    if (g.created < *since) continue;
    const std::uint64_t high = g.count() > 0 ? g.high() : g.low() - 1;
    lines.push_back(name + " " + number(high) + " " + number(g.low()) + " " + g.status);
  }
  return block(231, "New newsgroups follow", lines);
}

Reply Protocol::on_newnews(const Command& c) {
  if (c.words.size() == 4 && !iequals(c.words[3], "GMT"))
    return say(501, "Syntax error for \"GMT\"");
  const auto pattern = Wildmat::parse(c.words[0]);
  if (!pattern) return say(501, "Bad newsgroup specifier " + c.words[0]);
  const auto since = parse_nntp_date(c.words[1], c.words[2], now());
  if (!since) return say(501, "Bad date");
  // Stored articles first (a cross-post once), then each group's generated run, streamed.
  struct Cursor {
    std::vector<std::string> ids;
    std::size_t i = 0;
    std::vector<const Group*> groups;
    std::size_t g = 0;
    bool started = false;
    std::optional<std::uint64_t> n;
  };
  auto cur = std::make_shared<Cursor>();
  std::set<std::string> seen;
  for (const auto& [name, g] : store_.groups()) {
    if (!pattern->matches(name)) continue;
    cur->groups.push_back(&g);
    for (const auto& [n, a] : g.articles)
      if (a->arrived >= *since && seen.insert(a->message_id).second)
        cur->ids.push_back(a->message_id);
  }
  Reply r = say(230, "New news follows");
  r.more = [this, cur, since = *since](std::string& out) {
    for (std::size_t produced = 0; produced < kPieceLines;) {
      if (cur->i < cur->ids.size()) {
        append_block_line(out, cur->ids[cur->i++]);
        ++produced;
        continue;
      }
      if (cur->g >= cur->groups.size()) {
        out += ".\r\n";
        return false;
      }
      const Group& g = *cur->groups[cur->g];
      if (!cur->started) {
        cur->n = store_.first_generated_since(g, since);
        cur->started = true;
      }
      if (!cur->n || *cur->n > g.generate.last()) {
        ++cur->g;
        cur->started = false;
        continue;
      }
      const std::uint64_t n = (*cur->n)++;
      if (g.articles.count(n)) continue;  // a scenario article took it: listed above
      append_block_line(out, store_.generated_message_id(g, n));
      ++produced;
    }
    return true;
  };
  return r;
}

bool Protocol::any_in(const Group& g, std::uint64_t from, std::uint64_t to) const {
  if (from > to) return false;
  const auto n = store_.next_at_or_after(g, from);
  return n && *n <= to;
}

More Protocol::lines_for(const Group& g, std::uint64_t from, std::uint64_t to,
                         std::function<std::optional<std::string>(std::uint64_t)> line) const {
  return [this, &g, next = from, to, line = std::move(line)](std::string& out) mutable {
    for (std::size_t produced = 0; produced < kPieceLines; ++produced) {
      const auto n = store_.next_at_or_after(g, next);
      if (!n || *n > to) {
        out += ".\r\n";
        return false;
      }
      next = *n + 1;
      if (const auto text = line(*n)) append_block_line(out, *text);
    }
    return true;
  };
}

std::optional<Protocol::Span> Protocol::span(const Command& c, std::size_t arg,
                                             Reply& error) const {
  std::optional<Range> range;
  if (c.words.size() > arg) {
    range = parse_range(c.words[arg]);
    if (!range) {
      error = say(501, "Syntax error in range");
      return std::nullopt;
    }
  }
  if (!group_) {
    error = say(412, "Not in a newsgroup");
    return std::nullopt;
  }
  if (!range) {
    if (!current_) {
      error = say(420, "Current article number 0 is invalid");
      return std::nullopt;
    }
    return Span{*current_, *current_, number(*current_)};
  }
  // As nnrpd: the range is clamped to the group's water marks.
  const std::uint64_t from = std::max(range->low, group_->low());
  const std::uint64_t to = std::min(range->high.value_or(group_->high()), group_->high());
  return Span{from, to, c.words[arg]};
}

Reply Protocol::on_over(const Command& c) {
  const bool xover = c.verb == "XOVER";
  if (c.words.size() == 1 && !parse_range(c.words[0])) {
    const std::string& w = c.words[0];
    if (std::isdigit(static_cast<unsigned char>(w[0])) || w[0] == '-')
      return say(501, "Syntax error in range");
    if (!is_message_id(w)) return say(501, "Syntax error in Message-ID");
    // RFC 3977 8.3.2: by message-id, the line's number is 0.
    const ArticlePtr a = store_.by_message_id(w);
    if (!a) return say(430, "No such article");
    Reply r = say(224, "Overview information follows");
    append_block_line(r.bytes, overview_line(0, a->article, a->xref()));
    r.bytes += ".\r\n";
    return r;
  }
  Reply error;
  const std::optional<Span> s = span(c, 0, error);
  if (!s) return error;
  if (!any_in(*group_, s->from, s->to)) {
    // nnrpd: XOVER says so with an empty 224 block, OVER with 423 (RFC 3977 8.3.2).
    if (xover) return empty_block(224, "No articles in " + s->label);
    return say(423, "No articles in " + s->label);
  }
  Reply r = say(224, "Overview information for " + s->label + " follows");
  const Group* g = group_;
  r.more = lines_for(*g, s->from, s->to, [this, g](std::uint64_t n) -> std::optional<std::string> {
    const ArticlePtr a = store_.article(*g, n);
    if (!a) return std::nullopt;
    return overview_line(n, a->article, a->xref());
  });
  return r;
}

Reply Protocol::on_hdr(const Command& c) {
  const bool hdr = c.verb == "HDR";
  const int ok = hdr ? 225 : 221;  // RFC 3977 8.5.2; RFC 2980 2.6 (XHDR answers 221)
  const std::string field = c.words[0];
  const bool by_id = c.words.size() == 2 && !parse_range(c.words[1]);
  if (by_id) {
    const std::string& w = c.words[1];
    if (std::isdigit(static_cast<unsigned char>(w[0])) || w[0] == '-')
      return say(501, "Syntax error in range");
    if (!is_message_id(w)) return say(501, "Syntax error in Message-ID");
  }
  if (field.starts_with(':') && !is_metadata(field))
    return say(503, "Unsupported metadata request");
  if (!field.starts_with(':') && !is_field_name(field))
    return say(501, "Syntax error in header field name");
  const std::string text = "Header information for " + field + " follows";
  if (by_id) {
    const ArticlePtr a = store_.by_message_id(c.words[1]);
    if (!a) return say(430, "No such article");
    Reply r = say(ok, text + " (from the article)");
    const std::optional<std::string> v = field_value(*a, field);
    // HDR always answers, with the number 0 (RFC 3977 8.5.2); XHDR names the message-id.
    if (hdr) append_block_line(r.bytes, "0 " + v.value_or(""));
    if (!hdr && v) append_block_line(r.bytes, c.words[1] + " " + *v);
    r.bytes += ".\r\n";
    return r;
  }
  Reply error;
  const std::optional<Span> s = span(c, 1, error);
  if (!s) return error;
  if (!any_in(*group_, s->from, s->to)) {
    if (!hdr) return empty_block(221, "No header information for " + field + " follows");
    return say(423, "No articles in " + s->label);
  }
  Reply r = say(ok, text + " (from articles)");
  const Group* g = group_;
  r.more = lines_for(*g, s->from, s->to,
                     [this, g, field, hdr](std::uint64_t n) -> std::optional<std::string> {
                       const ArticlePtr a = store_.article(*g, n);
                       if (!a) return std::nullopt;
                       const std::optional<std::string> v = field_value(*a, field);
                       if (!v && !hdr) return std::nullopt;  // XHDR leaves the article out
                       return number(n) + " " + v.value_or("");
                     });
  return r;
}

// --- scripted replies ---------------------------------------------------------------------------

Reply Protocol::follow_reply(const Command& c, int code) {
  Reply r;
  // RFC 3977 5.1.1 and 3.2.1: 400 (and 502 as a greeting) ends the session; so does QUIT.
  if (code == 400 || code == 205 || c.verb == "QUIT" || (c.verb == "CONNECT" && code == 502)) {
    r.effect = Effect::close;
    return r;
  }
  if (c.verb == "CONNECT" || code < 200 || code >= 400) return r;
  const std::string first = c.words.empty() ? std::string{} : c.words[0];
  if ((c.verb == "GROUP" || c.verb == "LISTGROUP") && code == 211) {
    const Group* g = first.empty() ? group_ : store_.find(first);
    if (g) select(*g);
  } else if ((c.verb == "ARTICLE" || c.verb == "HEAD" || c.verb == "BODY" || c.verb == "STAT") &&
             code >= 220 && code <= 223 && group_) {
    if (const auto n = parse_article_number(first); n && store_.article(*group_, *n)) current_ = *n;
  } else if ((c.verb == "NEXT" || c.verb == "LAST") && code == 223) {
    (void)step(c.verb == "NEXT");
  } else if (c.verb == "POST" && code == 340) {
    transfer_ = Transfer{false, new_message_id()};
    r.effect = Effect::read_article;
  } else if (c.verb == "IHAVE" && code == 335 && is_message_id(first)) {
    transfer_ = Transfer{true, first};
    r.effect = Effect::read_article;
  } else if (c.verb == "AUTHINFO") {
    const std::string sub = to_upper(first);
    const std::string value = rest_after_first_word(c.args);
    if (sub == "USER" && code == 381) pending_user_ = value;
    if (sub == "USER" && code == 281) r = login(value, "USER");
    if (sub == "PASS" && code == 281) r = login(pending_user_.value_or(""), "USER");
    if (sub == "SASL" && code == 281) r = login("", "PLAIN");
    if (sub == "SASL" && code == 383 && c.words.size() > 1 &&
        sasl_mechanism(c.words[1]) == SaslMechanism::plain)
      (void)sasl_.start(SaslMechanism::plain, std::nullopt);
    r.bytes.clear();
  } else if (c.verb == "STARTTLS" && code == 382 && !tls_active_) {
    r.effect = Effect::start_tls;
  }
  return r;
}

}  // namespace protofarm::nntp
