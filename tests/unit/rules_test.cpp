// The rule engine: which rule answers a request, how rules count, shared states, and how a
// `rules:` list is parsed and checked.
#include "fakes/common/rules.hpp"
#include "fakes/common/bytes.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>

namespace protofarm {
namespace {

using std::chrono::milliseconds;

// Parses a `rules:` list given as YAML; fails the test on any error.
std::vector<Rule> rules_from(const std::string& yaml, std::vector<std::string> known_on = {}) {
  ConfigErrors errors("t.yaml");
  const YAML::Node node = YAML::Load(yaml);
  auto rules = parse_rules(Cfg(node, "rules", &errors), RuleSyntax{known_on, {}, {}, {}});
  EXPECT_TRUE(errors.empty()) << errors.format();
  return rules;
}

// The errors a `rules:` list gives.
std::string rule_errors(const std::string& yaml, std::vector<std::string> known_on = {}) {
  ConfigErrors errors("t.yaml");
  const YAML::Node node = YAML::Load(yaml);
  parse_rules(Cfg(node, "rules", &errors), RuleSyntax{known_on, {}, {}, {}});
  return errors.format();
}

// The name of the rule that answers, or "-" when none does.
std::string answer(RuleEngine& engine, std::string_view on, std::string_view args = "") {
  const auto m = engine.match(on, args);
  return m ? m->rule->name : "-";
}

TEST(RuleEngine, FirstMatchWins) {
  RuleEngine engine(rules_from(R"(
- {name: first, on: HELO}
- {name: second, on: HELO}
- {name: any}
)"),
                    nullptr);
  EXPECT_EQ(answer(engine, "HELO"), "first");
  EXPECT_EQ(answer(engine, "HELO"), "first");
  EXPECT_EQ(answer(engine, "QUIT"), "any");
}

TEST(RuleEngine, NoRuleNoMatch) {
  RuleEngine engine(rules_from("[{name: a, on: HELO}]"), nullptr);
  EXPECT_EQ(answer(engine, "EHLO"), "-");
  RuleEngine empty;
  EXPECT_FALSE(RuleEngine({}, nullptr).match("X", "").has_value());
}

TEST(RuleEngine, OnIsCaseInsensitive) {
  RuleEngine engine(rules_from("[{name: helo, on: helo}]"), nullptr);
  EXPECT_EQ(engine.rules()[0].on, "HELO");
  EXPECT_EQ(answer(engine, "HELO"), "helo");
  EXPECT_EQ(answer(engine, "Helo"), "helo");
  EXPECT_EQ(answer(engine, "helo"), "helo");
  EXPECT_EQ(answer(engine, "HELOX"), "-");
}

TEST(RuleEngine, TimesLimitsToTheFirstNMatches) {
  RuleEngine engine(rules_from(R"(
- {name: once, on: DATA, times: 1}
- {name: later, on: DATA}
)"),
                    nullptr);
  EXPECT_EQ(answer(engine, "DATA"), "once");
  EXPECT_EQ(answer(engine, "DATA"), "later");
  EXPECT_EQ(answer(engine, "DATA"), "later");
}

TEST(RuleEngine, TimesZeroNeverFires) {
  RuleEngine engine(rules_from("[{name: never, times: 0}]"), nullptr);
  EXPECT_EQ(answer(engine, "X"), "-");
}

TEST(RuleEngine, AfterSkipsTheFirstNMatches) {
  RuleEngine engine(rules_from(R"(
- {name: third, on: RCPT, after: 2}
- {name: other, on: RCPT}
)"),
                    nullptr);
  EXPECT_EQ(answer(engine, "RCPT"), "other");
  EXPECT_EQ(answer(engine, "RCPT"), "other");
  EXPECT_EQ(answer(engine, "RCPT"), "third");
  EXPECT_EQ(answer(engine, "RCPT"), "third");
}

TEST(RuleEngine, TimesAndAfterMakeAWindow) {
  RuleEngine engine(rules_from("[{name: w, after: 1, times: 2}]"), nullptr);
  std::vector<std::string> got;
  for (int i = 0; i < 5; ++i) got.push_back(answer(engine, "X"));
  EXPECT_EQ(got, (std::vector<std::string>{"-", "w", "w", "-", "-"}));
}

TEST(RuleEngine, CountIsWhichPredicateMatchThisWas) {
  RuleEngine engine(rules_from("[{name: w, after: 1}]"), nullptr);
  EXPECT_FALSE(engine.match("X", "").has_value());
  EXPECT_EQ(engine.match("X", "")->count, 2u);
  EXPECT_EQ(engine.match("X", "")->count, 3u);
}

TEST(RuleEngine, OnlyPredicateMatchesCount) {
  // A request the rule does not match (other verb, regex fails) does not use up `times`.
  RuleEngine engine(rules_from(R"(
- {name: blocked, on: RCPT, match: "blocked", times: 1}
)"),
                    nullptr);
  EXPECT_EQ(answer(engine, "MAIL", "blocked"), "-");
  EXPECT_EQ(answer(engine, "RCPT", "<a@ok.test>"), "-");
  EXPECT_EQ(answer(engine, "RCPT", "<a@blocked.test>"), "blocked");
  EXPECT_EQ(answer(engine, "RCPT", "<b@blocked.test>"), "-");
}

TEST(RuleEngine, EmptyOnMatchesAnyRequestButNotTheMoments) {
  RuleEngine engine(rules_from("[{name: all}]"), nullptr, {"MESSAGE"});
  EXPECT_EQ(answer(engine, "QUIT"), "all");
  EXPECT_EQ(answer(engine, ""), "all");
  EXPECT_TRUE(engine.mentions("whatever"));
  // A catch-all must not replace the greeting or judge every message.
  EXPECT_EQ(answer(engine, "connect"), "-");
  EXPECT_EQ(answer(engine, "message"), "-");
  EXPECT_FALSE(engine.mentions("connect"));
  RuleEngine named(rules_from("[{name: all}, {name: hi, on: connect}]"), nullptr);
  EXPECT_EQ(answer(named, "connect"), "hi");
}

TEST(RuleEngine, MentionsTellsWhetherAnyRuleNamesAnOn) {
  RuleEngine engine(rules_from("[{on: connect}, {on: DATA}]"), nullptr);
  EXPECT_TRUE(engine.mentions("CONNECT"));
  EXPECT_TRUE(engine.mentions("data"));
  EXPECT_FALSE(engine.mentions("QUIT"));
}

TEST(RuleEngine, RegexCapturesComeBackWholeMatchFirst) {
  RuleEngine engine(rules_from(R"(
- {on: RCPT, match: '<(\w+)@([\w.]+)>'}
)"),
                    nullptr);
  const auto m = engine.match("RCPT", "TO:<alice@example.test> SIZE=1");
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->captures,
            (std::vector<std::string>{"<alice@example.test>", "alice", "example.test"}));
}

TEST(RuleEngine, WithoutMatchTheCaptureIsTheWholeArgs) {
  RuleEngine engine(rules_from("[{on: HELO}]"), nullptr);
  const auto m = engine.match("HELO", "bob");
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->captures, (std::vector<std::string>{"bob"}));
}

TEST(RuleEngine, MatchIsASearchNotAFullMatch) {
  RuleEngine engine(rules_from(R"([{name: r, match: 'b\.test'}])"), nullptr);
  EXPECT_EQ(answer(engine, "X", "TO:<a@b.test>"), "r");
  EXPECT_EQ(answer(engine, "X", "TO:<a@bxtest>"), "-");
}

TEST(RuleEngine, ARegexThatBlowsUpCountsAsNoMatch) {
  // Catastrophic backtracking: boost::regex gives up with an exception, which must not escape.
  RuleEngine engine(rules_from(R"(
- {name: evil, match: '^(a+)+$'}
- {name: fallback}
)"),
                    nullptr);
  const std::string input = std::string(50000, 'a') + "!";
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(answer(engine, "X", input), "fallback");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));
  // The same rule still matches input it can handle.
  EXPECT_EQ(answer(engine, "X", "aaa"), "evil");
}

TEST(RegexSearchCaptures, NeverThrows) {
  const boost::regex evil("(x+x+)+y", boost::regex::perl);
  std::vector<std::string> captures = {"stale"};
  EXPECT_FALSE(regex_search_captures(evil, std::string(5000, 'x'), &captures));
  EXPECT_TRUE(regex_search_captures(evil, "xxy", nullptr));
}

TEST(RuleEngine, StatesAreSharedBetweenServersOfAScenario) {
  auto states = std::make_shared<StateStore>();
  RuleEngine smtp(rules_from(R"(
- {name: greylist, on: DATA, when_state: {greylist: ""}, set_state: {greylist: seen}}
- {name: accept, on: DATA, when_state: {greylist: seen}}
)"),
                  states);
  RuleEngine pop3(rules_from(R"(
- {name: after-greylist, on: STAT, when_state: {greylist: seen}, set_state: {mailbox: full}}
- {name: before, on: STAT}
)"),
                  states);
  EXPECT_EQ(answer(pop3, "STAT"), "before");
  EXPECT_EQ(answer(smtp, "DATA"), "greylist");
  EXPECT_EQ(states->get("greylist"), "seen");
  EXPECT_EQ(answer(smtp, "DATA"), "accept");
  EXPECT_EQ(answer(pop3, "STAT"), "after-greylist");
  EXPECT_EQ(states->get("mailbox"), "full");
  EXPECT_EQ(&smtp.states(), &pop3.states());
}

TEST(RuleEngine, WhenStateNeedsEveryNamedValue) {
  auto states = std::make_shared<StateStore>();
  RuleEngine engine(rules_from("[{name: both, when_state: {a: '1', b: '2'}}]"), states);
  states->set("a", "1");
  EXPECT_EQ(answer(engine, "X"), "-");
  states->set("b", "2");
  EXPECT_EQ(answer(engine, "X"), "both");
}

TEST(RuleEngine, SetStateOnlyWhenTheRuleFires) {
  auto states = std::make_shared<StateStore>();
  RuleEngine engine(rules_from("[{name: late, after: 1, set_state: {fired: 'yes'}}]"), states);
  EXPECT_EQ(answer(engine, "X"), "-");
  EXPECT_EQ(states->get("fired"), "");
  EXPECT_EQ(answer(engine, "X"), "late");
  EXPECT_EQ(states->get("fired"), "yes");
}

TEST(RuleEngine, AStateNeverSetReadsAsEmpty) {
  StateStore s;
  EXPECT_EQ(s.get("nothing"), "");
  s.set("x", "1");
  EXPECT_EQ(s.all().size(), 1u);
}

TEST(RuleEngine, EachEngineHasItsOwnStatesWhenNoneAreGiven) {
  RuleEngine a(rules_from("[{set_state: {k: v}}]"), nullptr);
  RuleEngine b(rules_from("[{set_state: {k: w}}]"), nullptr);
  a.match("X", "");
  b.match("X", "");
  EXPECT_EQ(a.states().get("k"), "v");
  EXPECT_EQ(b.states().get("k"), "w");
}

TEST(ParseRules, ReadsEveryKey) {
  const auto rules = rules_from(R"(
- name: greylisted
  on: rcpt
  match: '<.*@blocked\.test>'
  times: 1
  after: 2
  when_state: {greylist: first}
  set_state: {greylist: seen}
  delay: 250ms
  reply: "550 5.1.1 no such user"
  pace: 10B/s
  then: close
- raw: {hex: "35 35 30 0a"}
  fragment: 1
  gap: 20ms
  then: reset
- reply: [a, b]
  then: hang
)");
  ASSERT_EQ(rules.size(), 3u);
  const Rule& r = rules[0];
  EXPECT_EQ(r.name, "greylisted");
  EXPECT_EQ(r.on, "RCPT");
  EXPECT_EQ(r.match_source, "<.*@blocked\\.test>");
  EXPECT_EQ(r.times, 1u);
  EXPECT_EQ(r.after, 2u);
  EXPECT_EQ(r.when_state,
            (std::vector<std::pair<std::string, std::string>>{{"greylist", "first"}}));
  EXPECT_EQ(r.set_state, (std::vector<std::pair<std::string, std::string>>{{"greylist", "seen"}}));
  EXPECT_EQ(r.action.delay, milliseconds(250));
  EXPECT_EQ(r.action.reply, (std::vector<std::string>{"550 5.1.1 no such user"}));
  EXPECT_EQ(r.action.shaping.pace, 10.0);
  EXPECT_EQ(r.action.then, Then::close);
  EXPECT_EQ(r.mark.line, 1);

  EXPECT_EQ(rules[1].name, "rules[1]");
  EXPECT_EQ(rules[1].action.raw, "550\n");
  EXPECT_EQ(rules[1].action.shaping.fragment, 1u);
  EXPECT_EQ(rules[1].action.shaping.gap, milliseconds(20));
  EXPECT_EQ(rules[1].action.then, Then::reset);
  EXPECT_TRUE(rules[1].action.answers());

  EXPECT_EQ(rules[2].action.reply, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(rules[2].action.then, Then::hang);
  EXPECT_STREQ(to_string(Then::hang), "hang");
}

TEST(ParseRules, ARuleWithoutReplyOrRawLetsTheBuiltInAnswer) {
  const auto rules = rules_from("[{on: DATA, delay: 1s}]");
  EXPECT_FALSE(rules[0].action.answers());
  EXPECT_EQ(rules[0].action.then, Then::none);
}

TEST(ParseRules, AnInvalidRegexIsReportedWhereItIs) {
  // The rest of the message is Boost.Regex's own explanation.
  EXPECT_THAT(rule_errors(R"(
- on: RCPT
  match: '<(.*@blocked'
)"),
              ::testing::StartsWith("t.yaml:3:10: error: rules[0].match: invalid regular "
                                    "expression '<(.*@blocked': Unmatched marking parenthesis"));
}

TEST(ParseRules, AnUnknownOnGetsADidYouMean) {
  EXPECT_EQ(rule_errors("- {on: RCTP}\n", {"HELO", "MAIL", "RCPT", "DATA"}),
            "t.yaml:1:8: error: rules[0].on: unknown command 'RCTP' for this protocol; did you "
            "mean 'RCPT'?\n");
  EXPECT_EQ(rule_errors("- {on: connect}\n- {on: Data}\n", {"DATA"}), "");
}

TEST(ParseRules, ReportsBadValues) {
  EXPECT_EQ(rule_errors(R"(
- then: clsoe
- times: -1
- after: x
- {reply: a, raw: b}
- pace: fast
- fragment: 0
- {pace: 1B/s, fragment: 2}
- reply: {a: 1}
- delay: soon
- when_state: [a]
- just a string
)"),
            "t.yaml:2:9: error: rules[0].then: expected close, reset or hang, got 'clsoe'; did "
            "you mean 'close'?\n"
            "t.yaml:3:10: error: rules[1].times: expected a count of 0 or more\n"
            "t.yaml:4:10: error: rules[2].after: expected an integer, got 'x'\n"
            "t.yaml:5:3: error: rules[3]: a rule has either reply or raw, not both\n"
            "t.yaml:6:9: error: rules[4].pace: expected a rate like 10B/s, 2KiB/s or 1MB/s, got "
            "'fast'\n"
            "t.yaml:7:13: error: rules[5].fragment: expected a number of bytes of at least 1\n"
            "t.yaml:8:3: error: rules[6]: use either pace or fragment, not both\n"
            "t.yaml:9:10: error: rules[7].reply: expected a line or a list of lines\n"
            "t.yaml:10:10: error: rules[8].delay: expected a duration like 250ms, 2s or 1m, got "
            "'soon'\n"
            "t.yaml:11:15: error: rules[9].when_state: expected a map of state names to values, "
            "like {greylist: seen}\n"
            "t.yaml:12:3: error: rules[10]: expected a rule (a map with keys such as on, match, "
            "reply)\n");
}

TEST(ParseRules, RulesMustBeAList) {
  EXPECT_EQ(rule_errors("{on: X}\n"), "t.yaml:1:1: error: rules: expected a list of rules\n");
}

TEST(ToUpper, UppersAscii) { EXPECT_EQ(to_upper("rcpt To:\xe9"), "RCPT TO:\xe9"); }

// A protocol's own key, as a fake registers it: a predicate on a named field of the request.
struct WhenField : RuleExtension {
  std::string value;
  bool accept(const Request& r) const override { return r.field("x") == value; }
};

RuleSyntax syntax_with_when_x(std::vector<std::string>* checked = nullptr) {
  RuleSyntax syntax;
  syntax.moments = {"MESSAGE"};
  syntax.keys.push_back(RuleKey{"when_x", [](const Cfg& v, const Cfg&) {
                                  if (v.str() == "bad") {
                                    v.error("not this");
                                    return std::shared_ptr<const RuleExtension>();
                                  }
                                  auto x = std::make_shared<WhenField>();
                                  x->value = v.str();
                                  return std::shared_ptr<const RuleExtension>(x);
                                }});
  syntax.check = [checked](const Cfg&, const Rule& rule) {
    if (checked) checked->push_back(rule.name);
  };
  return syntax;
}

TEST(RuleKeys, AProtocolKeyIsAPredicateThatCountsLikeMatch) {
  ConfigErrors errors("t.yaml");
  std::vector<std::string> checked;
  const YAML::Node node = YAML::Load(R"(
- name: one
  when_x: "1"
  times: 1
  reply: one
- name: other
  reply: other
)");
  auto rules = parse_rules(Cfg(node, "rules", &errors), syntax_with_when_x(&checked));
  ASSERT_TRUE(errors.empty()) << errors.format();
  EXPECT_EQ(checked, (std::vector<std::string>{"one", "other"}));
  ASSERT_TRUE(rules[0].extension<WhenField>("when_x"));
  EXPECT_FALSE(rules[1].extension<WhenField>("when_x"));
  RuleEngine engine(rules, nullptr, {"MESSAGE"});
  auto name = [&](std::string_view x) {
    Request r{"GET", "/", {{"x", x}}};
    auto m = engine.match(r);
    return m ? m->rule->name : std::string("-");
  };
  // A field that does not match is not counted: the rule's one time is still left.
  EXPECT_EQ(name("2"), "other");
  EXPECT_EQ(name("1"), "one");
  EXPECT_EQ(name("1"), "other");
}

TEST(RuleKeys, ParseErrorsOfAProtocolKeyAreReportedAtTheValue) {
  ConfigErrors errors("t.yaml");
  const YAML::Node node = YAML::Load("- when_x: bad\n  reply: r\n");
  auto rules = parse_rules(Cfg(node, "rules", &errors), syntax_with_when_x());
  EXPECT_EQ(errors.format(), "t.yaml:1:11: error: rules[0].when_x: not this\n");
  ASSERT_EQ(rules.size(), 1u);
  EXPECT_TRUE(rules[0].extensions.empty());
}

TEST(RuleKeys, ACatchAllRuleNeverAnswersTheProtocolsMoments) {
  RuleEngine engine(rules_from("- reply: any\n"), nullptr, {"MESSAGE"});
  EXPECT_FALSE(engine.match("message", "body"));
  EXPECT_FALSE(engine.match("connect", "peer"));
  EXPECT_TRUE(engine.match("DATA", ""));
  EXPECT_FALSE(engine.mentions("MESSAGE"));
  RuleEngine plain(rules_from("- reply: any\n"), nullptr);
  EXPECT_TRUE(plain.match("message", "body"));  // not a moment of this protocol
}

}  // namespace
}  // namespace protofarm
