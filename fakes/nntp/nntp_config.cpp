#include "fakes/nntp/nntp_config.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "fakes/common/bytes.hpp"
#include "fakes/common/content.hpp"
#include "fakes/common/multiline.hpp"
#include "fakes/common/numeric_reply.hpp"
#include "fakes/nntp/nntp_protocol.hpp"

namespace protofarm::nntp {

namespace fs = std::filesystem;

namespace {

bool single_line(std::string_view s) { return s.find_first_of("\r\n") == std::string_view::npos; }

// An article given as `headers` (a map, in file order) and `body`.
std::optional<Article> inline_article(const Cfg& item) {
  Article a;
  const Cfg headers = item["headers"];
  if (headers.defined() && !headers.is_map()) {
    headers.error("expected a map of header fields, like {From: a@example.test, Subject: hi}");
    return std::nullopt;
  }
  bool ok = true;
  headers.for_each_entry([&](const std::string& name, const Cfg& value) {
    const std::string text = value.str();
    const bool good_name = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
      return c > 0x20 && c < 0x7f && c != ':';
    });
    if (!good_name) {
      value.error("'" + name + "' is not a header field name (printable ASCII, no colon)");
      ok = false;
    } else if (!single_line(text)) {
      value.error("a header value is one line (the fake writes it as one field)");
      ok = false;
    }
    a.add(name, text);
  });
  const std::string body = item["body"].str();
  // The body as sent: CRLF line ends, ending with one (RFC 5536 3 by way of RFC 5322 2.3).
  a.body = normalize_message(body);
  if (!ok) return std::nullopt;
  return a;
}

// An article from a file beside the scenario.
std::optional<Article> file_article(const Cfg& file, const ConfigContext& context,
                                    std::string& origin) {
  fs::path path = file.str();
  if (path.is_relative()) path = fs::path(context.scenario_file).parent_path() / path;
  std::string why;
  const std::optional<std::string> text = read_regular_file(path.string(), kMaxLoadedFile, why);
  if (!text) {
    file.error("cannot read article file " + path.string() + ": " + why);
    return std::nullopt;
  }
  ParsedArticle p = parse_article(*text);
  if (!p.bad_header.empty()) {
    file.error("article file " + path.string() + ": not a header field: '" +
               escape_bytes(p.bad_header.substr(0, 80)) + "'");
    return std::nullopt;
  }
  origin = "file:" + file.str();
  return std::move(p.article);
}

void parse_article_item(const Cfg& item, const ConfigContext& context, ArticleStore& store,
                        Group& group) {
  if (!item.is_map()) {
    item.error("expected an article: a map with number, headers and body, or number and file");
    return;
  }
  std::uint64_t number = group.high() + 1;
  if (item.has("number")) {
    const std::int64_t n = item["number"].integer(0);
    if (n < 1 || static_cast<std::uint64_t>(n) > kMaxArticleNumber) {
      item["number"].error("an article number is 1 to 2147483647 (RFC 3977 6)");
      return;
    }
    number = static_cast<std::uint64_t>(n);
  }
  if (item.has("file") && (item.has("headers") || item.has("body"))) {
    item.error("an article has headers and body, or file, not both");
    return;
  }
  if (!item.has("file") && !item.has("headers")) {
    item.error("an article needs headers (and a body) or a file");
    return;
  }
  std::string origin = "scenario";
  const std::optional<Article> a =
      item.has("file") ? file_article(item["file"], context, origin) : inline_article(item);
  if (!a) return;
  const std::string id(a->value("Message-ID"));
  if (!id.empty() && !is_article_message_id(id)) {
    item.error("Message-ID '" + id + "' is not <left@right> (RFC 5536 3.1.3)");
    return;
  }
  if (std::string why = store.place(group, number, *a, origin); !why.empty()) item.error(why);
}

void parse_generate(const Cfg& gen, ArticleStore& store, Group& group) {
  if (!gen.is_map()) {
    gen.error("expected {count: N, first: N}");
    return;
  }
  const std::int64_t count = gen.int_or("count", -1);
  const std::int64_t first = gen.int_or("first", 1);
  if (count < 0) {
    gen.error("generate needs a count of articles (0 or more)");
    return;
  }
  if (first < 1 || static_cast<std::uint64_t>(first) + static_cast<std::uint64_t>(count) - 1 >
                       kMaxArticleNumber) {
    gen.error("generated numbers run from first (1 or more) to first+count-1, at most 2147483647");
    return;
  }
  store.set_generate(
      group, Generate{static_cast<std::uint64_t>(first), static_cast<std::uint64_t>(count)});
}

void parse_group(const std::string& name, const Cfg& spec, const ConfigContext& context,
                 ArticleStore& store) {
  if (!is_newsgroup_name(name)) {
    spec.error("'" + name +
               "' is not a newsgroup name: dot-separated parts of letters, digits, +, - and _ "
               "(RFC 5536 3.1.4)");
    return;
  }
  Group& group = store.add_group(name);
  if (!spec.defined()) return;
  if (!spec.is_map()) {
    spec.error("expected a group: a map with description, status, created, articles, generate");
    return;
  }
  group.description = spec.str_or("description", "");
  if (!single_line(group.description) || group.description.find('\t') != std::string::npos)
    spec["description"].error("a description is one line without tabs (LIST NEWSGROUPS)");
  if (spec.has("status")) {
    const std::string s = spec["status"].str();
    if (s != "y" && s != "n" && s != "m")
      spec["status"].error("expected y (posting), n (no posting) or m (moderated)");
    else
      group.status = s[0];
  }
  if (spec.has("created")) {
    if (const auto t = parse_iso_time(spec["created"].str()))
      group.created = *t;
    else
      spec["created"].error("expected a UTC time like \"2020-01-01T00:00:00Z\"");
  }
  // The generated run first, so that articles without a number come after it.
  if (spec.has("generate")) parse_generate(spec["generate"], store, group);
  const Cfg articles = spec["articles"];
  if (articles.defined() && !articles.is_seq()) articles.error("expected a list of articles");
  articles.for_each_item([&](const Cfg& item) { parse_article_item(item, context, store, group); });
}

void parse_users(const Cfg& users, Config& config) {
  if (users.defined() && !users.is_map()) {
    users.error("expected a map from user names to passwords, like {alice: secret}");
    return;
  }
  users.for_each_entry([&](const std::string& name, const Cfg& password) {
    if (name.empty() || !single_line(name)) password.error("a user name is one line");
    if (!password.is_scalar()) {
      password.error("expected the user's password");
      return;
    }
    config.users.emplace(name, password.str());
  });
}

}  // namespace

RuleSyntax rule_syntax() {
  RuleSyntax syntax;
  syntax.on = Protocol::verb_names();
  syntax.on.emplace_back(kPostedMoment);
  syntax.moments = {kPostedMoment};
  return syntax;
}

Config parse_config(const Cfg& cfg, const ConfigContext& context, ArticleStore& store) {
  Config config;
  config.posting = cfg.bool_or("posting", true);
  // RFC 3977 5.1.1: 200 when posting is allowed, 201 when not.
  const int code = config.posting ? 200 : 201;
  config.greeting = std::to_string(code) + " protofarm news server ready, " +
                    (config.posting ? "posting allowed" : "no posting");
  if (cfg.has("greeting")) {
    const std::string g = cfg["greeting"].str();
    if (!single_line(g))
      cfg["greeting"].error("the greeting is one line (use a rule on connect for more)");
    // A greeting written without its code gets the one `posting` implies.
    config.greeting = reply_code_of(g) != 0 ? g : std::to_string(code) + " " + g;
  }
  parse_users(cfg["users"], config);
  config.require_auth = cfg.bool_or("require_auth", false);
  if (config.require_auth && config.users.empty())
    cfg["require_auth"].error("require_auth needs users: nobody could log in");
  config.offer_starttls = context.tls == TlsMode::starttls;
  if (context.max_line) config.max_command = *context.max_line;
  if (cfg.has("max_article"))
    config.max_article = cfg["max_article"].size_bytes(config.max_article);

  const Cfg groups = cfg["groups"];
  if (groups.defined() && !groups.is_map())
    groups.error("expected a map from newsgroup names to groups");
  groups.for_each_entry(
      [&](const std::string& name, const Cfg& spec) { parse_group(name, spec, context, store); });
  return config;
}

}  // namespace protofarm::nntp
