#include "fakes/common/rules.hpp"

#include <algorithm>
#include <cctype>

#include "fakes/common/bytes.hpp"

namespace protofarm {

const char* to_string(Then then) {
  switch (then) {
    case Then::none:
      return "none";
    case Then::close:
      return "close";
    case Then::reset:
      return "reset";
    case Then::hang:
      return "hang";
  }
  return "none";
}

std::string StateStore::get(const std::string& name) const {
  const auto it = values_.find(name);
  return it == values_.end() ? std::string{} : it->second;
}

void StateStore::set(const std::string& name, std::string value) {
  values_[name] = std::move(value);
}

void StateStore::set_initial(const std::string& name, std::string value) {
  initial_[name] = value;
  values_[name] = std::move(value);
}

bool RuleMatch::keeps_builtin() const {
  for (const auto& [key, extension] : rule->extensions)
    if (extension && extension->keeps_builtin()) return true;
  return false;
}

std::optional<std::string_view> Request::field(std::string_view name) const {
  for (const Field& f : fields)
    if (f.name == name) return f.value;
  return std::nullopt;
}

RuleEngine::RuleEngine(std::vector<Rule> rules, std::shared_ptr<StateStore> states,
                       std::vector<std::string> moments)
    : rules_(std::move(rules)),
      seen_(rules_.size(), 0),
      hits_(rules_.size(), 0),
      states_(std::move(states)),
      moments_(std::move(moments)) {
  if (!states_) states_ = std::make_shared<StateStore>();
}

namespace {
// Searches given up on this thread; single-threaded fakes read it around one rule's tests.
thread_local std::uint64_t regex_abandoned = 0;
}  // namespace

std::uint64_t regex_abandoned_count() { return regex_abandoned; }

bool regex_search_captures(const boost::regex& re, std::string_view text,
                           std::vector<std::string>* captures) {
  try {
    boost::match_results<std::string_view::const_iterator> m;
    if (!boost::regex_search(text.begin(), text.end(), m, re)) return false;
    if (captures) {
      captures->clear();
      for (const auto& sub : m) captures->push_back(sub.str());  // $0, $1, ...
    }
    return true;
  } catch (const std::exception&) {
    // boost::regex throws when a search would take too long on this input (the project caps
    // its work: BOOST_REGEX_MAX_STATE_COUNT in CMakeLists.txt) or run out of stack.
    ++regex_abandoned;
    return false;
  }
}

// `connect` (and a protocol's other moments, like smtp's `message`) are not requests: a
// catch-all rule (no `on`), meant for any command, must not replace a greeting or judge every
// message.
bool RuleEngine::is_moment(const std::string& upper_on) const {
  return upper_on == "CONNECT" ||
         std::find(moments_.begin(), moments_.end(), upper_on) != moments_.end();
}

std::optional<RuleMatch> RuleEngine::match(const Request& request, const RuleFilter& eligible) {
  const std::string upper_on = to_upper(request.on);
  const bool named_only = is_moment(upper_on);
  for (std::size_t i = 0; i < rules_.size(); ++i) {
    const Rule& rule = rules_[i];
    if (rule.on.empty() ? named_only : rule.on != upper_on) continue;
    if (eligible && !eligible(rule)) continue;
    const std::uint64_t abandoned_before = regex_abandoned;
    const auto note_abandoned = [&] {
      if (regex_abandoned != abandoned_before) abandoned_.push_back(rule.name);
    };
    bool states_ok = true;
    for (const auto& [name, value] : rule.when_state) {
      if (states_->get(name) != value) {
        states_ok = false;
        break;
      }
    }
    if (!states_ok) continue;
    bool accepted = true;
    for (const auto& [key, extension] : rule.extensions) {
      if (!extension->accept(request)) {
        accepted = false;
        break;
      }
    }
    if (!accepted) {
      note_abandoned();
      continue;
    }
    std::vector<std::string> captures;
    if (rule.match) {
      if (!regex_search_captures(*rule.match, request.args, &captures)) {
        note_abandoned();
        continue;
      }
    } else {
      captures.emplace_back(request.args);
    }
    const std::uint64_t n = seen_[i]++;  // earlier predicate matches of this rule
    if (n < rule.after) continue;
    if (rule.times && n >= rule.after + *rule.times) continue;
    for (const auto& [name, value] : rule.set_state) states_->set(name, value);
    ++hits_[i];
    return RuleMatch{&rule, std::move(captures), n + 1};
  }
  return std::nullopt;
}

void RuleEngine::reset_counters() {
  std::fill(seen_.begin(), seen_.end(), 0);
  std::fill(hits_.begin(), hits_.end(), 0);
}

bool RuleEngine::mentions(std::string_view on) const {
  const std::string upper_on = to_upper(on);
  const bool named_only = is_moment(upper_on);
  return std::any_of(rules_.begin(), rules_.end(),
                     [&](const Rule& r) { return r.on.empty() ? !named_only : r.on == upper_on; });
}

std::shared_ptr<const boost::regex> compile_regex(const Cfg& cfg) {
  const std::string source = cfg.str();
  try {
    return std::make_shared<const boost::regex>(source, boost::regex::perl);
  } catch (const boost::regex_error& e) {
    cfg.error("invalid regular expression '" + source + "': " + e.what());
    return nullptr;
  }
}

namespace {

std::vector<std::pair<std::string, std::string>> parse_state_map(const Cfg& cfg) {
  std::vector<std::pair<std::string, std::string>> out;
  if (!cfg.defined()) return out;
  if (!cfg.is_map()) {
    cfg.error("expected a map of state names to values, like {greylist: seen}");
    return out;
  }
  cfg.for_each_entry([&](const std::string& key, const Cfg& value) {
    out.emplace_back(key, value.defined() ? value.str() : std::string{});
  });
  return out;
}

Rule parse_rule(const Cfg& cfg, std::size_t index, const RuleSyntax& syntax) {
  const std::vector<std::string>& known_on = syntax.on;
  Rule rule;
  rule.mark = cfg.mark();
  rule.name = cfg.has("name") ? cfg["name"].str() : "rules[" + std::to_string(index) + "]";
  if (cfg.has("on")) {
    rule.on = to_upper(cfg["on"].str());
    if (!known_on.empty() && rule.on != "CONNECT" &&
        std::find(known_on.begin(), known_on.end(), rule.on) == known_on.end()) {
      std::vector<std::string> options = known_on;
      options.emplace_back("CONNECT");
      cfg["on"].error("unknown command '" + cfg["on"].str() + "' for this protocol" +
                      did_you_mean(rule.on, options));
    }
  }
  if (cfg.has("match")) {
    rule.match_source = cfg["match"].str();
    rule.match = compile_regex(cfg["match"]);
  }
  if (cfg.has("times")) {
    const auto n = cfg["times"].integer(0);
    if (n < 0) cfg["times"].error("expected a count of 0 or more");
    rule.times = static_cast<std::uint64_t>(std::max<std::int64_t>(0, n));
  }
  if (cfg.has("after")) {
    const auto n = cfg["after"].integer(0);
    if (n < 0) cfg["after"].error("expected a count of 0 or more");
    rule.after = static_cast<std::uint64_t>(std::max<std::int64_t>(0, n));
  }
  rule.when_state = parse_state_map(cfg["when_state"]);
  rule.set_state = parse_state_map(cfg["set_state"]);
  if (cfg.has("delay")) rule.action.delay = cfg["delay"].duration();
  // A protocol whose replies are not lines (HTTP: status, headers, body) parses `reply` itself.
  const bool own_reply = std::any_of(syntax.keys.begin(), syntax.keys.end(),
                                     [](const RuleKey& key) { return key.name == "reply"; });
  if (cfg.has("reply") && !own_reply) {
    const Cfg reply = cfg["reply"];
    if (reply.is_seq() || reply.is_scalar())
      rule.action.reply = reply.str_list();
    else
      reply.error("expected a line or a list of lines");
  }
  if (cfg.has("raw")) rule.action.raw = parse_payload(cfg["raw"]);
  if (cfg.has("reply") && cfg.has("raw")) cfg.error("a rule has either reply or raw, not both");
  rule.action.shaping = parse_shaping(cfg);
  if (cfg.has("then")) {
    const std::string then = cfg["then"].str();
    if (then == "close")
      rule.action.then = Then::close;
    else if (then == "reset")
      rule.action.then = Then::reset;
    else if (then == "hang")
      rule.action.then = Then::hang;
    else
      cfg["then"].error("expected close, reset or hang, got '" + then + "'" +
                        did_you_mean(then, {"close", "reset", "hang"}));
  }
  for (const RuleKey& key : syntax.keys) {
    if (!cfg.has(key.name)) continue;
    if (auto extension = key.parse(cfg[key.name], cfg))
      rule.extensions.emplace(key.name, std::move(extension));
  }
  if (syntax.check) syntax.check(cfg, rule);
  return rule;
}

}  // namespace

std::vector<Rule> parse_rules(const Cfg& rules, const RuleSyntax& syntax) {
  std::vector<Rule> out;
  if (!rules.defined()) return out;
  if (!rules.is_seq()) {
    rules.error("expected a list of rules");
    return out;
  }
  for (std::size_t i = 0; i < rules.size(); ++i) {
    const Cfg item = rules.at(i);
    if (!item.is_map()) {
      item.error("expected a rule (a map with keys such as on, match, reply)");
      continue;
    }
    out.push_back(parse_rule(item, i, syntax));
  }
  return out;
}

}  // namespace protofarm
