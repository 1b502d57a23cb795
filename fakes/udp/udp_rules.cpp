#include "fakes/udp/udp_rules.hpp"

#include <algorithm>

#include "fakes/common/bytes.hpp"

namespace protofarm::udp {

namespace {

void reject_fault_keys(const Cfg& faults) {
  if (!faults.is_map()) return;
  static const std::vector<std::pair<std::string, std::string>> kNot = {
      {"reset_after", "reset_after needs a connection; udp has none"},
      {"pace", "udp answers are whole datagrams: pace does not apply"},
      {"fragment", "udp answers are whole datagrams: fragment does not apply"},
      {"gap", "gap goes with fragment, which does not apply to udp"},
  };
  for (const auto& [key, why] : kNot)
    if (faults.has(key)) faults[key].error(why);
}

std::shared_ptr<const RuleExtension> parse_hex_prefix(const Cfg& p, const Cfg&) {
  auto x = std::make_shared<HexPrefix>();
  auto bytes = hex_decode(p.str());
  if (!bytes) {
    p.error("not valid hex: expected pairs of hex digits like \"ff 00 1a\"");
    return nullptr;
  }
  if (bytes->empty()) {
    p.error("expected at least one byte");
    return nullptr;
  }
  x->bytes = std::move(*bytes);
  return x;
}

std::shared_ptr<const RuleExtension> parse_duplicate(const Cfg& d, const Cfg&) {
  const auto n = d.integer(0);
  if (n < 0 || n > static_cast<std::int64_t>(kMaxDuplicate)) {
    d.error("expected a number of extra copies from 0 to " + std::to_string(kMaxDuplicate));
    return nullptr;
  }
  auto x = std::make_shared<Duplicate>();
  x->copies = static_cast<unsigned>(n);
  return x;
}

std::shared_ptr<const RuleExtension> parse_truncate(const Cfg& t, const Cfg&) {
  auto x = std::make_shared<Truncate>();
  x->length = static_cast<std::size_t>(t.size_bytes(0));
  return x;
}

std::shared_ptr<const RuleExtension> parse_gap(const Cfg& g, const Cfg&) {
  auto x = std::make_shared<Gap>();
  x->gap = g.duration();
  return x;
}

void check_rule(const Cfg& cfg, const Rule& rule) {
  if (cfg.has("pace") || cfg.has("fragment"))
    cfg[cfg.has("pace") ? "pace" : "fragment"].error(
        "udp answers are whole datagrams: pace and fragment do not apply (use delay, gap, "
        "duplicate or truncate)");
  if (rule.on == "CONNECT")
    cfg["on"].error("udp has no connections: `on: connect` never happens (rules see datagrams)");
  if (rule.action.then == Then::reset)
    cfg["then"].error("udp has no connection to reset; use close (end the peer's session) or hang");
}

}  // namespace

RuleSyntax rule_syntax() {
  RuleSyntax syntax;
  syntax.keys = {{"hex_prefix", parse_hex_prefix},
                 {"duplicate", parse_duplicate},
                 {"truncate", parse_truncate},
                 {"gap", parse_gap}};
  syntax.check = check_rule;
  return syntax;
}

Config parse_config(const Cfg& server, std::size_t max_line) {
  Config config;
  config.echo = server.bool_or("echo", false);
  config.max_datagram = std::min(max_line, kMaxDatagram);
  reject_fault_keys(server["faults"]);
  return config;
}

Answer plan_answer(RuleEngine& rules, const Config& config, std::string_view datagram) {
  Answer answer;
  const std::string verb = first_word(datagram);
  answer.match = rules.match(Request{verb, datagram, {}});

  std::vector<std::string> payloads;
  unsigned duplicate = 0;
  std::optional<std::size_t> truncate;
  Duration gap{0};
  if (answer.match) {
    const Rule& rule = *answer.match->rule;
    if (const auto* d = rule.extension<Duplicate>("duplicate")) duplicate = d->copies;
    if (const auto* t = rule.extension<Truncate>("truncate")) truncate = t->length;
    if (const auto* g = rule.extension<Gap>("gap")) gap = g->gap;
    const RuleAction& action = answer.match->action();
    answer.delay = action.delay;
    answer.then = action.then;
    if (action.reply) {
      for (const auto& line : *action.reply)
        payloads.push_back(substitute_captures(line, answer.match->captures));
    } else if (action.raw) {
      payloads.push_back(*action.raw);
    } else if (config.echo) {
      payloads.emplace_back(datagram);
    }
  } else if (config.echo) {
    payloads.emplace_back(datagram);
  }

  for (const auto& payload : payloads) {
    for (unsigned copy = 0; copy <= duplicate; ++copy) {
      Outgoing out;
      out.bytes = payload;
      out.copy = copy;
      if (truncate && payload.size() > *truncate) {
        out.cut_from = payload.size();
        out.bytes.resize(*truncate);
      }
      if (!answer.datagrams.empty()) out.before = gap;
      answer.datagrams.push_back(std::move(out));
    }
  }
  return answer;
}

}  // namespace protofarm::udp
