// The http fake's scenario keys (scenarios/README.md#http) and its rule keys: `reply` in its
// HTTP form (status, headers, body), `fault`, `when_headers` and `when_body`.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "fakes/common/config.hpp"
#include "fakes/common/content.hpp"
#include "fakes/common/rules.hpp"
#include "fakes/http/http_codec.hpp"

namespace protofarm::http {

struct CgiConfig {
  std::filesystem::path dir;         // absolute
  std::string prefix = "/cgi-bin/";  // starts and ends with '/'
  Duration timeout = std::chrono::seconds(5);
};

struct Config {
  std::optional<std::filesystem::path> docroot;  // absolute
  bool listing = true;
  std::optional<CgiConfig> cgi;
  Limits limits;
};

struct ConfigContext {
  std::string scenario_file;  // docroot, cgi.dir and body_file are relative to its folder
  std::uint64_t seed = 0;
};

Config parse_config(const Cfg& cfg, const ConfigContext& context);

// `reply:` in a rule: the response the rule gives.
struct ReplySpec final : RuleExtension {
  unsigned status = 200;
  std::string reason;  // "" for the standard phrase
  Headers headers;     // values may hold ${1} captures
  // The body: `body` (text, ${N} captures substituted), `body_file` (relative to the scenario's
  // folder) or `body_size` (generated from the seed). The fake resolves the last two when it is
  // created (resolve_bodies()).
  std::string body;
  std::string body_file;
  std::optional<std::uint64_t> body_size;
};

// `fault:` in a rule: a response broken on purpose (WireMock's names, and more).
struct FaultSpec final : RuleExtension {
  enum class Kind {
    empty_response,          // close without a byte
    malformed_chunk,         // a 200 head, chunked, then a chunk that is not one; close
    random_data_then_close,  // bytes from the seed, then close
    connection_reset,        // RST at once
    body_cut_after,          // the head and `bytes` bytes of the body, then close
    content_length_short,    // Content-Length smaller than the body sent
    content_length_long,     // Content-Length larger than the body sent; then close
    headers_only_then_hang,  // the head, then nothing, the connection held open
    no_final_chunk,          // a chunked body without its last chunk, the connection held open
  };
  Kind kind = Kind::empty_response;
  std::uint64_t bytes = 0;  // body_cut_after
};

// `when_headers: {Name: regex}`: every named header is present and one of its values matches.
struct WhenHeaders final : RuleExtension {
  std::vector<std::pair<std::string, std::shared_ptr<const boost::regex>>> headers;  // lower-case
  bool accept(const Request& request) const override;
};

// `when_body: regex`: searched in the decoded request body.
struct WhenBody final : RuleExtension {
  std::shared_ptr<const boost::regex> regex;
  bool accept(const Request& request) const override;
};

// The rule keys of the http fake. A body_file is found relative to the scenario file's folder
// (the file the rule's errors are reported against).
std::vector<RuleKey> rule_keys();
// The contents of the rules' body_file and body_size bodies, by rule; problems (a missing
// file) go to `errors` at the rule.
std::map<const Rule*, Content> resolve_bodies(const std::vector<Rule>& rules,
                                              const ConfigContext& context, ConfigErrors& errors);
// The fault names, for error messages and the schema.
const std::vector<std::string>& fault_names();
// How a fault is named in the transcript ("body_cut_after", "content_length_short", ...).
std::string_view fault_name(FaultSpec::Kind kind);

}  // namespace protofarm::http
