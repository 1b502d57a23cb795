// The nntp server's own scenario keys (scenarios/README.md#nntp), parsed at load time.
//
// parse_config() reads the keys of one `protocol: nntp` server, fills the server's ArticleStore
// with its groups and articles (inline headers and body, or files beside the scenario, and the
// `generate` runs), and reports every problem into cfg.errors() at its line and column; it never
// throws and never opens a socket.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "fakes/common/config.hpp"
#include "fakes/common/rules.hpp"
#include "fakes/common/tls.hpp"
#include "fakes/nntp/article_store.hpp"
#include "fakes/nntp/nntp_codec.hpp"

namespace protofarm::nntp {

// The moment a posted (POST) or offered (IHAVE) article has been read, before the server answers
// it: `on: posted` rules see the article (`match` searches its text) and may refuse or accept it.
inline constexpr const char* kPostedMoment = "POSTED";

struct Config {
  // The whole first line, code included (RFC 3977 5.1.1: 200 posting allowed, 201 not).
  std::string greeting = "200 protofarm news server ready, posting allowed";
  bool posting = true;                                    // false: 201, POST gets 440
  std::map<std::string, std::string, std::less<>> users;  // AUTHINFO: user -> password
  bool require_auth = false;  // 480 for every command that reads or posts until AUTHINFO
  bool offer_starttls = false;
  std::size_t max_command = kMaxCommandLine;
  // The largest article POST and IHAVE take (INN's localmaxartsize default); 441/437 beyond.
  std::uint64_t max_article = 1000000;
};

// What parse_config needs to know about the rest of the scenario.
struct ConfigContext {
  std::string scenario_file;  // article files are relative to its folder
  TlsMode tls = TlsMode::none;
  std::optional<std::size_t> max_line;  // the server's `max_line` when given
};

Config parse_config(const Cfg& cfg, const ConfigContext& context, ArticleStore& store);

// The rule syntax: the commands, and the `posted` moment.
RuleSyntax rule_syntax();

}  // namespace protofarm::nntp
