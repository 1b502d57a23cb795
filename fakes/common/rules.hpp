// The rule engine (DESIGN.md, "Scenario files"), one for every fake.
//
// A fake turns what it reads into a request (`on`: the command, method or event name; `args`:
// the rest of the line, the path, the datagram) and asks RuleEngine::match() for the first rule
// that answers it. The fake never sees the rule list; it gets back a RuleMatch with the action
// (reply lines or exact bytes, delay, pacing, fragmenting, then close/reset/hang) and carries it
// out through Session::answer() (session.hpp), which falls back to the fake's built-in behaviour
// when the rule has neither `reply` nor `raw`.
//
// Counting: every rule counts the requests its predicates (on, match, when_state) accepted, over
// all sessions of its server. With `after: A` and `times: T` the rule fires on the predicate
// matches numbered A+1 .. A+T; outside that window it is skipped and the next rule is tried.
#pragma once

#include <boost/regex.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fakes/common/config.hpp"

namespace protofarm {

enum class Then { none, close, reset, hang };
const char* to_string(Then then);

// How a write is put on the wire.
struct Shaping {
  std::optional<double> pace;  // bytes per second
  std::size_t fragment = 0;    // write N bytes at a time, each write separate
  Duration gap{5000};          // pause between fragments (5ms unless `gap:` says otherwise)
  bool any() const { return pace.has_value() || fragment > 0; }
};

struct RuleAction {
  std::optional<std::vector<std::string>> reply;  // lines; the protocol adds line ends
  std::optional<std::string> raw;                 // exact bytes, nothing added
  Duration delay{0};
  Shaping shaping;
  Then then = Then::none;
  bool answers() const { return reply.has_value() || raw.has_value(); }
};

struct Rule {
  std::string name;  // `name:` or "rules[N]"
  std::string on;    // upper case; empty matches any request
  std::string match_source;
  std::shared_ptr<const boost::regex> match;
  std::optional<std::uint64_t> times;
  std::uint64_t after = 0;
  std::vector<std::pair<std::string, std::string>> when_state;
  std::vector<std::pair<std::string, std::string>> set_state;
  RuleAction action;
  YAML::Node node;  // the rule as written, for keys a protocol adds
  YAML::Mark mark;
};

// Named states shared by the servers of one scenario. A state never set reads as "".
class StateStore {
 public:
  std::string get(const std::string& name) const;
  void set(const std::string& name, std::string value);
  const std::map<std::string, std::string>& all() const { return values_; }

 private:
  std::map<std::string, std::string> values_;
};

struct RuleMatch {
  const Rule* rule = nullptr;
  std::vector<std::string> captures;  // [0] the whole match, then the groups
  std::uint64_t count = 0;            // which predicate match of this rule this was (1-based)
  const RuleAction& action() const { return rule->action; }
};

class RuleEngine {
 public:
  RuleEngine() = default;
  RuleEngine(std::vector<Rule> rules, std::shared_ptr<StateStore> states);

  // The first rule that fires for this request, applying its set_state. `on` is compared
  // case-insensitively; a rule without `on` answers any request but the moments `connect`
  // and `message`, which only rules naming them answer. A regex that gives up (too complex for the
  // input) counts as no match.
  std::optional<RuleMatch> match(std::string_view on, std::string_view args);
  // The same, with a predicate a protocol adds to its own rule keys (the udp fake's
  // hex_prefix): a rule for which accept(index, rule) is false is skipped like one whose
  // `match` failed, so it is not counted.
  using Accept = std::function<bool(std::size_t index, const Rule& rule)>;
  std::optional<RuleMatch> match(std::string_view on, std::string_view args, const Accept& accept);
  // Whether any rule names this `on`: lets a fake skip work for events nobody scripts.
  bool mentions(std::string_view on) const;
  const std::vector<Rule>& rules() const { return rules_; }
  StateStore& states() { return *states_; }

 private:
  std::vector<Rule> rules_;
  std::vector<std::uint64_t> seen_;
  std::shared_ptr<StateStore> states_;
};

std::string to_upper(std::string_view s);

// Parses a `rules:` list. `known_on` is the protocol's list of `on` values ("connect" is always
// known); an empty list accepts any `on`. Errors go to rules.errors().
std::vector<Rule> parse_rules(const Cfg& rules, const std::vector<std::string>& known_on);
// Parses the shaping keys (pace, fragment, gap) of a rule or a fault section.
Shaping parse_shaping(const Cfg& cfg);
// Compiles a scenario regex (Perl syntax), recording an error when it is invalid.
std::shared_ptr<const boost::regex> compile_regex(const Cfg& cfg);

// Applies one regex search; fills captures when it matches. Never throws.
bool regex_search_captures(const boost::regex& re, std::string_view text,
                           std::vector<std::string>* captures);

}  // namespace protofarm
