// The udp fake's rule matching and answer planning, without sockets.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "fakes/udp/udp_rules.hpp"

namespace protofarm::udp {
namespace {

// A udp server's rules and keys, parsed from YAML as the farm does.
struct Fixture {
  explicit Fixture(const std::string& yaml, std::size_t max_line = 64 * 1024)
      : node(YAML::Load(yaml)), errors("test.yaml") {
    const Cfg cfg(node, "servers.u", &errors);
    rules = parse_rules(cfg["rules"], rule_syntax());
    config = parse_config(cfg, max_line);
    engine = RuleEngine(rules, states);
  }
  Answer answer(std::string_view datagram) { return plan_answer(engine, config, datagram); }

  YAML::Node node;
  ConfigErrors errors;
  std::vector<Rule> rules;
  Config config;
  std::shared_ptr<StateStore> states = std::make_shared<StateStore>();
  RuleEngine engine;
};

std::vector<std::string> bytes_of(const Answer& a) {
  std::vector<std::string> out;
  for (const auto& d : a.datagrams) out.push_back(d.bytes);
  return out;
}

TEST(UdpRules, WithoutRulesOrEchoNothingIsSent) {
  Fixture f("{}");
  ASSERT_TRUE(f.errors.empty()) << f.errors.format();
  const Answer a = f.answer("hello");
  EXPECT_FALSE(a.match);
  EXPECT_TRUE(a.silent());
}

TEST(UdpRules, EchoIsTheBuiltInBehaviour) {
  Fixture f("echo: true");
  const Answer a = f.answer(std::string("a\0b", 3));
  EXPECT_FALSE(a.match);
  EXPECT_EQ(bytes_of(a), std::vector<std::string>{std::string("a\0b", 3)});
}

TEST(UdpRules, ReplyLinesAreOneDatagramEachWithNothingAdded) {
  Fixture f(R"(
rules:
  - on: ping
    match: 'PING (\d+)'
    reply: ["PONG ${1}", "again ${1}"]
)");
  ASSERT_TRUE(f.errors.empty()) << f.errors.format();
  const Answer a = f.answer("PING 42");
  ASSERT_TRUE(a.match);
  EXPECT_EQ(bytes_of(a), (std::vector<std::string>{"PONG 42", "again 42"}));
  EXPECT_TRUE(f.answer("PONG 1").silent());  // `on` is the first word
  EXPECT_TRUE(f.answer("PING x").silent());  // match failed
}

TEST(UdpRules, EmptyReplyListIsSilenceButStillARule) {
  Fixture f(R"(
echo: true
rules:
  - match: drop
    reply: []
)");
  const Answer dropped = f.answer("please drop me");
  EXPECT_TRUE(dropped.match);
  EXPECT_TRUE(dropped.silent());
  EXPECT_EQ(bytes_of(f.answer("keep")), std::vector<std::string>{"keep"});
}

TEST(UdpRules, RawIsExactBytesAndCanBeEmpty) {
  Fixture f(R"(
rules:
  - match: bin
    raw: {hex: "00 ff 0a"}
  - match: nothing
    raw: ""
)");
  ASSERT_TRUE(f.errors.empty()) << f.errors.format();
  EXPECT_EQ(bytes_of(f.answer("bin")), std::vector<std::string>{std::string("\0\xff\n", 3)});
  // An empty datagram is a datagram: it is sent.
  EXPECT_EQ(bytes_of(f.answer("nothing")), std::vector<std::string>{""});
}

TEST(UdpRules, HexPrefixMatchesTheFirstBytesOnly) {
  Fixture f(R"(
rules:
  - hex_prefix: "de ad"
    reply: dead
  - reply: other
)");
  ASSERT_TRUE(f.errors.empty()) << f.errors.format();
  EXPECT_EQ(bytes_of(f.answer("\xde\xad\xbe\xef")), std::vector<std::string>{"dead"});
  EXPECT_EQ(bytes_of(f.answer("\xbe\xde\xad")), std::vector<std::string>{"other"});
  EXPECT_EQ(bytes_of(f.answer("\xde")), std::vector<std::string>{"other"});  // too short
}

TEST(UdpRules, HexPrefixAndMatchMustBothHold) {
  Fixture f(R"(
rules:
  - hex_prefix: "01"
    match: 'x(\d)'
    reply: "got ${1}"
)");
  EXPECT_EQ(bytes_of(f.answer("\x01x7")), std::vector<std::string>{"got 7"});
  EXPECT_TRUE(f.answer("\x02x7").silent());
  EXPECT_TRUE(f.answer("\x01y7").silent());
}

TEST(UdpRules, APrefixThatDoesNotMatchIsNotCounted) {
  Fixture f(R"(
rules:
  - hex_prefix: "aa"
    times: 1
    reply: first
  - reply: later
)");
  EXPECT_EQ(bytes_of(f.answer("\xbb")), std::vector<std::string>{"later"});
  EXPECT_EQ(bytes_of(f.answer("\xaa")), std::vector<std::string>{"first"});
  EXPECT_EQ(bytes_of(f.answer("\xaa")), std::vector<std::string>{"later"});
}

TEST(UdpRules, DuplicateSendsExtraCopiesGapApart) {
  Fixture f(R"(
rules:
  - reply: [a, b]
    duplicate: 2
    gap: 10ms
)");
  ASSERT_TRUE(f.errors.empty()) << f.errors.format();
  const Answer a = f.answer("x");
  EXPECT_EQ(bytes_of(a), (std::vector<std::string>{"a", "a", "a", "b", "b", "b"}));
  ASSERT_EQ(a.datagrams.size(), 6u);
  EXPECT_EQ(a.datagrams[0].before, Duration{0});
  EXPECT_EQ(a.datagrams[1].before, std::chrono::milliseconds(10));
  EXPECT_EQ(a.datagrams[0].copy, 0u);
  EXPECT_EQ(a.datagrams[2].copy, 2u);
  EXPECT_EQ(a.datagrams[3].copy, 0u);
}

TEST(UdpRules, TruncateCutsEveryDatagram) {
  Fixture f(R"(
echo: true
rules:
  - match: long
    reply: ["0123456789", "abc"]
    truncate: 4
  - match: echo
    truncate: 2
)");
  ASSERT_TRUE(f.errors.empty()) << f.errors.format();
  const Answer a = f.answer("long");
  EXPECT_EQ(bytes_of(a), (std::vector<std::string>{"0123", "abc"}));
  EXPECT_EQ(a.datagrams[0].cut_from, 10u);
  EXPECT_FALSE(a.datagrams[1].cut_from);
  // A rule without reply or raw runs the built-in echo, shaped by its udp keys.
  EXPECT_EQ(bytes_of(f.answer("echo me")), std::vector<std::string>{"ec"});
}

TEST(UdpRules, DelayAndThenAreCarriedOver) {
  Fixture f(R"(
rules:
  - delay: 250ms
    reply: late
    then: close
  )");
  const Answer a = f.answer("x");
  EXPECT_EQ(a.delay, std::chrono::milliseconds(250));
  EXPECT_EQ(a.then, Then::close);
}

TEST(UdpRules, TimesAfterAndStatesCountAcrossDatagrams) {
  Fixture f(R"(
rules:
  - when_state: {mode: down}
    reply: down
  - after: 1
    times: 2
    reply: counted
    set_state: {mode: down}
  - reply: plain
)");
  EXPECT_EQ(bytes_of(f.answer("1")), std::vector<std::string>{"plain"});
  EXPECT_EQ(bytes_of(f.answer("2")), std::vector<std::string>{"counted"});
  EXPECT_EQ(f.states->get("mode"), "down");
  EXPECT_EQ(bytes_of(f.answer("3")), std::vector<std::string>{"down"});
  f.states->set("mode", "up");
  EXPECT_EQ(bytes_of(f.answer("4")), std::vector<std::string>{"counted"});
  EXPECT_EQ(bytes_of(f.answer("5")), std::vector<std::string>{"down"});
  f.states->set("mode", "");
  EXPECT_EQ(bytes_of(f.answer("6")), std::vector<std::string>{"plain"});
}

TEST(UdpRules, MaxDatagramFollowsMaxLineWithinBounds) {
  EXPECT_EQ(Fixture("{}", 100).config.max_datagram, 100u);
  EXPECT_EQ(Fixture("{}", 10 * 1024 * 1024).config.max_datagram, kMaxDatagram);
}

// Keys that mean nothing for datagrams are errors at their own line, not silently ignored.
TEST(UdpRules, RejectsKeysWithoutMeaningForDatagrams) {
  struct Case {
    const char* yaml;
    const char* expected;
  };
  const Case cases[] = {
      {"rules: [{on: connect, reply: x}]", "never happens"},
      {"rules: [{reply: x, then: reset}]", "no connection to reset"},
      {"rules: [{reply: x, pace: 10B/s}]", "pace and fragment do not apply"},
      {"rules: [{reply: x, fragment: 1}]", "pace and fragment do not apply"},
      {"rules: [{hex_prefix: 'zz', reply: x}]", "not valid hex"},
      {"rules: [{hex_prefix: '', reply: x}]", "at least one byte"},
      {"rules: [{duplicate: 1000, reply: x}]", "from 0 to 100"},
      {"rules: [{duplicate: -1, reply: x}]", "from 0 to 100"},
      {"rules: [{truncate: lots, reply: x}]", "expected a size"},
      {"faults: {reset_after: 10}", "needs a connection"},
      {"faults: {fragment: 1}", "fragment does not apply"},
      {"faults: {pace: 1B/s}", "pace does not apply"},
  };
  for (const auto& c : cases) {
    Fixture f(c.yaml);
    EXPECT_NE(f.errors.format().find(c.expected), std::string::npos)
        << c.yaml << " gave: " << f.errors.format();
  }
}

TEST(UdpRules, AcceptsTheFaultsThatApply) {
  Fixture f("faults: {silence: true, latency: 10ms, times: 1, after: 1}");
  EXPECT_TRUE(f.errors.empty()) << f.errors.format();
  Fixture refused("faults: {refuse: true}");
  EXPECT_TRUE(refused.errors.empty()) << refused.errors.format();
  EXPECT_TRUE(f.errors.empty()) << f.errors.format();
}

TEST(UdpRules, KeysStayWithTheirRuleWhenARuleIsNotAMap) {
  Fixture f(R"(
rules:
  - just a string
  - hex_prefix: "01"
    reply: one
)");
  EXPECT_FALSE(f.errors.empty());
  ASSERT_EQ(f.rules.size(), 1u);
  EXPECT_TRUE(f.rules[0].extension<HexPrefix>("hex_prefix"));
  EXPECT_EQ(bytes_of(f.answer("\x01")), std::vector<std::string>{"one"});
  EXPECT_TRUE(f.answer("\x02").silent());
}

}  // namespace
}  // namespace protofarm::udp
