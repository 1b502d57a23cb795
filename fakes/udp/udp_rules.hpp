// The pure part of the udp fake: its scenario keys, and how one datagram is answered.
//
// A datagram is a request: `on` compares with its first word (so text protocols read like the
// tcp fake's rules mode), `match` searches the whole datagram as received, and the udp key
// `hex_prefix` requires the datagram to start with given bytes. The common RuleEngine does the
// counting (times, after) and the states; the udp keys are registered as rule keys
// (rule_syntax()), hex_prefix as a predicate, so a rule whose prefix does not match is not
// counted, and duplicate, truncate and gap as data the answer reads back from the rule.
//
// plan_answer() turns the rule that fired (or the built-in echo) into the list of datagrams to
// send, with `reply` lines (one datagram each, nothing added), `raw` bytes, `truncate` and
// `duplicate` applied, and the timing (`delay`, `gap`) the fake must respect. It touches no
// socket, so it is unit-tested on its own (tests/unit/udp_rules_test.cpp).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fakes/common/recorder.hpp"
#include "fakes/common/rules.hpp"

namespace protofarm::udp {

// Bounds that keep a scenario's traffic finite.
inline constexpr unsigned kMaxDuplicate = 100;
// The largest datagram read; a datagram longer than the server's max_line is cut to it anyway.
inline constexpr std::size_t kMaxDatagram = std::size_t{256} * 1024;

// The udp keys of a rule, parsed (each key is its own RuleExtension).
struct HexPrefix : RuleExtension {
  std::string bytes;  // decoded: the datagram must start with these bytes
  bool accept(const Request& request) const override { return request.args.starts_with(bytes); }
};
struct Duplicate : RuleExtension {
  unsigned copies = 0;  // extra copies of every reply datagram
};
struct Truncate : RuleExtension {
  std::size_t length = 0;  // cut every reply datagram to its first N bytes
};
struct Gap : RuleExtension {
  Duration gap{0};  // pause between the datagrams of one answer
};

// The udp rule syntax: any `on`, the keys above, and the checks that report, at their own line
// and column, the rule keys that mean nothing for datagrams (on: connect, then: reset, pace,
// fragment).
RuleSyntax rule_syntax();

struct Config {
  bool echo = false;             // built-in behaviour: send the datagram back
  std::size_t max_datagram = 0;  // longer datagrams are recorded cut, and not answered
};

// Parses the udp keys of one server (`echo`) and reports the fault keys that mean nothing for
// datagrams (reset_after, pace, fragment, gap).
Config parse_config(const Cfg& server, std::size_t max_line);

// One datagram to send.
struct Outgoing {
  std::string bytes;
  Duration before{0};                   // wait this long after the previous datagram of the answer
  unsigned copy = 0;                    // 0 for the datagram itself, 1.. for duplicates
  std::optional<std::size_t> cut_from;  // the length before `truncate`, when it cut
};

struct Answer {
  std::optional<RuleMatch> match;  // the rule that fired, if any
  Duration delay{0};               // before the first datagram
  std::vector<Outgoing> datagrams;
  Then then = Then::none;  // close: end the peer's session; hang: stop answering this peer
  bool silent() const { return datagrams.empty(); }
};

// Decides how to answer one datagram. Applies the fired rule's set_state (through the engine).
Answer plan_answer(RuleEngine& rules, const Config& config, std::string_view datagram);

}  // namespace protofarm::udp
