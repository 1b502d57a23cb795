// The rule engine (DESIGN.md, "Scenario files"), one for every fake, and it knows no protocol.
//
// A fake turns what it reads into a Request: `on` (the command, method, or a moment such as
// `connect`), `args` (what `match` searches: the rest of the line, the path, the datagram) and
// named fields (HTTP headers and body, ...). RuleEngine::match() returns the first rule whose
// predicates all accept it. The fake never walks the rule list; it carries the match out through
// Session::answer() (session.hpp), which falls back to the fake's built-in behaviour when the
// rule has neither `reply` nor `raw`.
//
// The keys every rule has (on, match, times, after, when_state, set_state, delay, reply, raw,
// pace, fragment, gap, then) are parsed here. A protocol adds its own keys through its
// RuleSyntax (registered with its fake, fake.hpp): each key has a parser that turns the value
// into a RuleExtension, which may be a predicate (udp's hex_prefix, HTTP's when_headers) and
// carries whatever the protocol's action needs (udp's duplicate, FTP's data:). The engine asks
// every extension of a rule to accept() the request, exactly like `match`, and the protocol
// reads its extension back from the RuleMatch.
//
// Counting: every rule counts the requests its predicates (on, match, when_state, extensions)
// accepted, over all sessions of its server. With `after: A` and `times: T` the rule fires on
// the predicate matches numbered A+1 .. A+T; outside that window it is skipped and the next rule
// is tried.
#pragma once

#include <boost/regex.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fakes/common/config.hpp"
#include "fakes/common/faults.hpp"

namespace protofarm {

enum class Then { none, close, reset, hang };
const char* to_string(Then then);

// What a fake asks the rules about. Views: valid for the duration of the match() call.
struct Request {
  struct Field {
    std::string_view name;
    std::string_view value;
  };
  std::string_view on;    // compared case-insensitively with a rule's `on`
  std::string_view args;  // what `match` searches
  // Named parts of the request for protocol rule keys; a name may repeat (HTTP headers are
  // "header:<lower-case name>", the body "body").
  std::vector<Field> fields;

  // The first field of that name, if any.
  std::optional<std::string_view> field(std::string_view name) const;
};

// A protocol's own rule key, parsed. accept() is a predicate on the request (true when the key
// only shapes the action).
class RuleExtension {
 public:
  virtual ~RuleExtension() = default;
  virtual bool accept(const Request&) const { return true; }
  // True for a key that shapes the built-in behaviour rather than standing in for it (FTP's
  // `data:`): the built-in runs even when the rule has `reply`, and the reply replaces only the
  // built-in's final answer (Session::scripted_text()).
  virtual bool keeps_builtin() const { return false; }
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
  std::string on;    // upper case; empty matches any request (but moments)
  std::string match_source;
  std::shared_ptr<const boost::regex> match;
  std::optional<std::uint64_t> times;
  std::uint64_t after = 0;
  std::vector<std::pair<std::string, std::string>> when_state;
  std::vector<std::pair<std::string, std::string>> set_state;
  RuleAction action;
  // The protocol's own keys, by key name.
  std::map<std::string, std::shared_ptr<const RuleExtension>, std::less<>> extensions;
  YAML::Mark mark;

  // The protocol's parsed key, or nullptr when the rule does not have it.
  template <typename T>
  const T* extension(std::string_view key) const {
    const auto it = extensions.find(key);
    return it == extensions.end() ? nullptr : dynamic_cast<const T*>(it->second.get());
  }
};

// How a protocol extends the rule syntax (registered with its fake, see fake.hpp).
struct RuleKey {
  // The YAML key. A protocol may name `reply` to parse it its own way (HTTP's status, headers
  // and body); the engine then leaves RuleAction::reply unset, and the protocol's built-in
  // behaviour sends the reply it finds in its extension.
  std::string name;
  // Parses the key's value; `rule` is the whole rule, for keys that depend on others. Reports
  // problems through value.error() and may return nullptr then.
  std::function<std::shared_ptr<const RuleExtension>(const Cfg& value, const Cfg& rule)> parse;
};

struct RuleSyntax {
  // The `on` values besides `connect` (upper case); empty accepts any.
  std::vector<std::string> on;
  // `on` values that are moments rather than requests (besides `connect`, which always is):
  // a catch-all rule (no `on`) never answers them (smtp's `message`).
  std::vector<std::string> moments;
  std::vector<RuleKey> keys;
  // A last check of one parsed rule against the protocol (udp: no `on: connect`).
  std::function<void(const Cfg& rule_cfg, const Rule& rule)> check;
};

// Named states shared by the servers of one scenario. A state never set reads as "".
class StateStore {
 public:
  std::string get(const std::string& name) const;
  void set(const std::string& name, std::string value);
  // A value the scenario starts with (`states:`): reset() comes back to these.
  void set_initial(const std::string& name, std::string value);
  void reset() { values_ = initial_; }
  const std::map<std::string, std::string>& all() const { return values_; }

 private:
  std::map<std::string, std::string> values_;
  std::map<std::string, std::string> initial_;
};

struct RuleMatch {
  const Rule* rule = nullptr;
  std::vector<std::string> captures;  // [0] the whole match, then the groups
  std::uint64_t count = 0;            // which predicate match of this rule this was (1-based)
  const RuleAction& action() const { return rule->action; }
  // Whether an extension keeps the built-in behaviour running (RuleExtension::keeps_builtin).
  bool keeps_builtin() const;
};

// Narrows a match to some rules; the others are passed over as if absent (not counted).
using RuleFilter = std::function<bool(const Rule&)>;

class RuleEngine {
 public:
  RuleEngine() = default;
  // `moments`: upper-case `on` values only rules naming them answer (CONNECT always is one).
  RuleEngine(std::vector<Rule> rules, std::shared_ptr<StateStore> states,
             std::vector<std::string> moments = {});

  // The first rule that fires for this request, applying its set_state. `on` is compared
  // case-insensitively; a rule without `on` answers any request but the moments. A regex that
  // gives up (too complex for the input) counts as no match. With `eligible`, only the rules it
  // accepts are tried (HTTP matches a request with `Expect: 100-continue` on its headers, then
  // once more on its body with the rules that look at the body).
  std::optional<RuleMatch> match(const Request& request, const RuleFilter& eligible = {});
  std::optional<RuleMatch> match(std::string_view on, std::string_view args) {
    return match(Request{on, args, {}});
  }
  // Whether any rule could answer this `on`: lets a fake skip work for events nobody scripts.
  bool mentions(std::string_view on) const;
  const std::vector<Rule>& rules() const { return rules_; }
  StateStore& states() { return *states_; }
  // How often rule i answered (match() returned it) since the start or the last reset.
  std::uint64_t hits(std::size_t i) const { return i < hits_.size() ? hits_[i] : 0; }
  // Every rule's counters (times, after, hits) back to zero.
  void reset_counters();
  // The names of the rules whose regex gave up (too complex for its input) in match() since
  // the last call: the session records a `rule_error` event for each.
  std::vector<std::string> take_abandoned() { return std::exchange(abandoned_, {}); }

 private:
  bool is_moment(const std::string& upper_on) const;

  std::vector<Rule> rules_;
  std::vector<std::uint64_t> seen_;
  std::vector<std::uint64_t> hits_;
  std::shared_ptr<StateStore> states_;
  std::vector<std::string> moments_;
  std::vector<std::string> abandoned_;
};

// Parses a `rules:` list with the protocol's syntax. Errors go to rules.errors().
std::vector<Rule> parse_rules(const Cfg& rules, const RuleSyntax& syntax);
// Compiles a scenario regex (Perl syntax), recording an error when it is invalid.
std::shared_ptr<const boost::regex> compile_regex(const Cfg& cfg);

// Applies one regex search; fills captures when it matches. Never throws: a search that
// would take too long on this input (a pattern like `(a+)+$` against a long line) is given up
// as no match, and counted (regex_abandoned_count), so one client cannot stall the farm.
bool regex_search_captures(const boost::regex& re, std::string_view text,
                           std::vector<std::string>* captures);
// Searches given up on this thread so far.
std::uint64_t regex_abandoned_count();
// The text of a `rule_error` event's `error` for a search given up.
inline constexpr const char* kRegexAbandoned =
    "regex search abandoned: too complex for this input (counted as no match)";

}  // namespace protofarm
