#include "fakes/udp/udp_rules.hpp"

#include <algorithm>

#include "fakes/common/bytes.hpp"

namespace protofarm::udp {

namespace {

RuleExtras parse_extras(const Cfg& cfg, const Rule& rule) {
  RuleExtras x;
  if (cfg.has("hex_prefix")) {
    const Cfg p = cfg["hex_prefix"];
    x.hex_prefix = hex_decode(p.str());
    if (!x.hex_prefix)
      p.error("not valid hex: expected pairs of hex digits like \"ff 00 1a\"");
    else if (x.hex_prefix->empty())
      p.error("expected at least one byte");
  }
  if (cfg.has("duplicate")) {
    const Cfg d = cfg["duplicate"];
    const auto n = d.integer(0);
    if (n < 0 || n > static_cast<std::int64_t>(kMaxDuplicate))
      d.error("expected a number of extra copies from 0 to " + std::to_string(kMaxDuplicate));
    else
      x.duplicate = static_cast<unsigned>(n);
  }
  if (cfg.has("truncate")) {
    const Cfg t = cfg["truncate"];
    x.truncate = static_cast<std::size_t>(t.size_bytes(0));
  }
  if (cfg.has("gap")) x.gap = cfg["gap"].duration();
  if (cfg.has("pace") || cfg.has("fragment"))
    cfg[cfg.has("pace") ? "pace" : "fragment"].error(
        "udp answers are whole datagrams: pace and fragment do not apply (use delay, gap, "
        "duplicate or truncate)");
  if (rule.on == "CONNECT")
    cfg["on"].error("udp has no connections: `on: connect` never happens (rules see datagrams)");
  if (rule.action.then == Then::reset)
    cfg["then"].error("udp has no connection to reset; use close (end the peer's session) or hang");
  return x;
}

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

}  // namespace

Config parse_config(const Cfg& server, const std::vector<Rule>& rules, std::size_t max_line) {
  Config config;
  config.echo = server.bool_or("echo", false);
  config.max_datagram = std::min(max_line, kMaxDatagram);
  const Cfg list = server["rules"];
  config.extras.reserve(rules.size());
  // parse_rules skipped items that are not maps (and reported them): walk the list the same way
  // so that extras[i] belongs to rules[i].
  std::size_t next = 0;
  list.for_each_item([&](const Cfg& item) {
    if (!item.is_map() || next >= rules.size()) return;
    config.extras.push_back(parse_extras(item, rules[next]));
    ++next;
  });
  config.extras.resize(rules.size());
  reject_fault_keys(server["faults"]);
  return config;
}

Answer plan_answer(RuleEngine& rules, const Config& config, std::string_view datagram) {
  Answer answer;
  const auto accept = [&](std::size_t index, const Rule&) {
    if (index >= config.extras.size()) return true;
    const auto& prefix = config.extras[index].hex_prefix;
    return !prefix || datagram.substr(0, prefix->size()) == *prefix;
  };
  answer.match = rules.match(first_word(datagram), datagram, accept);

  std::vector<std::string> payloads;
  RuleExtras none;
  const RuleExtras* extras = &none;
  if (answer.match) {
    const auto index = static_cast<std::size_t>(answer.match->rule - rules.rules().data());
    if (index < config.extras.size()) extras = &config.extras[index];
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
    for (unsigned copy = 0; copy <= extras->duplicate; ++copy) {
      Outgoing out;
      out.bytes = payload;
      out.copy = copy;
      if (extras->truncate && payload.size() > *extras->truncate) {
        out.cut_from = payload.size();
        out.bytes.resize(*extras->truncate);
      }
      if (!answer.datagrams.empty()) out.before = extras->gap;
      answer.datagrams.push_back(std::move(out));
    }
  }
  return answer;
}

}  // namespace protofarm::udp
