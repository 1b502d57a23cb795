// The expect: keys: parsing (with errors) and evaluation against session documents.
#include <gtest/gtest.h>

#include "controller/transcript_expect.hpp"

namespace protofarm {
namespace {

struct Parsed {
  std::vector<ServerExpect> list;
  ConfigErrors errors{"test.yaml"};
};

Parsed parse(const std::string& expect_yaml,
             const std::string& servers_yaml = "a: {protocol: tcp}") {
  Parsed p;
  std::map<std::string, YAML::Node> servers;
  for (const auto& kv : YAML::Load(servers_yaml)) servers[kv.first.Scalar()] = kv.second;
  p.list = parse_expect(YAML::Load(expect_yaml), PROTOFARM_SOURCE_DIR, servers, p.errors);
  return p;
}

// A session document from compact steps: "C:bytes" (client), "S:bytes" (server),
// "R:name" (a rule event), "F:path" (a message event naming a payload file), and
// "A:bytes" (client bytes after close).
SessionTranscript session(std::uint64_t n, const std::vector<std::string>& steps,
                          const std::string& close = "client") {
  SessionTranscript s;
  s.server = "a";
  s.session = n;
  s.doc = TranscriptJson::object();
  s.doc["server"] = "a";
  s.doc["session"] = n;
  s.doc["close"] = close;
  auto& events = s.doc["events"] = TranscriptJson::array();
  double t = 0;
  for (const auto& step : steps) {
    TranscriptJson e = TranscriptJson::object();
    e["t_ms"] = t++;
    const std::string body = step.substr(2);
    switch (step[0]) {
      case 'C':
      case 'A':
        e["from"] = "client";
        e["text"] = body;
        if (step[0] == 'A') e["after_close"] = true;
        break;
      case 'S':
        e["from"] = "server";
        e["text"] = body;
        break;
      case 'R':
        e["event"] = "rule";
        e["rule"] = body;
        break;
      case 'F':
        e["event"] = "message";
        e["file"] = body;
        break;
    }
    events.push_back(std::move(e));
  }
  return s;
}

std::optional<std::string> no_payloads(const std::string&) { return std::nullopt; }

ServerResult run(const std::string& expect_yaml, const std::vector<SessionTranscript>& sessions,
                 const PayloadLoader& load = no_payloads,
                 const std::string& servers_yaml = "a: {protocol: tcp}") {
  auto p = parse(expect_yaml, servers_yaml);
  EXPECT_TRUE(p.errors.empty()) << p.errors.format();
  EXPECT_EQ(p.list.size(), 1u);
  if (p.list.empty()) return {};
  return evaluate(p.list.front(), sessions, load);
}

const CheckResult* failed(const ServerResult& r, const std::string& what) {
  for (const auto& c : r.checks)
    if (!c.ok && c.what == what) return &c;
  return nullptr;
}

TEST(VerifyCount, Describe) {
  EXPECT_EQ(CountRange::exactly(2).describe(), "2");
  EXPECT_EQ((CountRange{1, std::nullopt}).describe(), "at least 1");
  EXPECT_EQ((CountRange{0, 3}).describe(), "at most 3");
  EXPECT_EQ((CountRange{1, 3}).describe(), "1 to 3");
  EXPECT_TRUE((CountRange{1, 3}).holds(3));
  EXPECT_FALSE((CountRange{1, 3}).holds(0));
}

TEST(VerifyExpect, SessionsExactAndRange) {
  const std::vector<SessionTranscript> two = {session(1, {}), session(2, {})};
  EXPECT_TRUE(run("a: {sessions: 2}", two).ok());
  const auto r = run("a: {sessions: 1}", two);
  ASSERT_NE(failed(r, "count"), nullptr);
  EXPECT_EQ(failed(r, "count")->summary, "expected 1, recorded 2");
  EXPECT_TRUE(run("a: {sessions: {min: 1}}", two).ok());
  EXPECT_FALSE(run("a: {sessions: {min: 1, max: 1}}", two).ok());
  EXPECT_FALSE(run("a: {sessions: 1}", {}).ok());
}

TEST(VerifyExpect, ClientLinesExactAndRegex) {
  const auto s = session(1, {"S:220 hi\r\n", "C:HELO alice\r\n", "C:QUIT\r\n"});
  EXPECT_TRUE(run(R"(a: {client: ["HELO alice", "QUIT"]})", {s}).ok());
  EXPECT_TRUE(run(R"(a: {client: [{match: 'HELO \w+'}, QUIT]})", {s}).ok());
  // A regex must match the whole line.
  EXPECT_FALSE(run(R"(a: {client: [{match: 'HELO'}, QUIT]})", {s}).ok());
  // A block of lines.
  EXPECT_TRUE(run("a:\n  client: |\n    HELO alice\n    QUIT\n", {s}).ok());
}

TEST(VerifyExpect, ClientDiffPointsAtFirstDifference) {
  const auto s = session(1, {"C:HELO alice\r\nMAIL FROM:<a@x>\r\nRCPT TO:<c@x>\r\nQUIT\r\n"});
  const auto r =
      run(R"(a: {client: ["HELO alice", "MAIL FROM:<a@x>", "RCPT TO:<b@x>", QUIT]})", {s});
  const CheckResult* c = failed(r, "client");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->summary,
            "first difference at line 3: expected \"RCPT TO:<b@x>\", recorded \"RCPT TO:<c@x>\"");
  EXPECT_NE(c->detail.find("- RCPT TO:<b@x>    <-- first difference"), std::string::npos)
      << c->detail;
  EXPECT_NE(c->detail.find("  3 + RCPT TO:<c@x>"), std::string::npos) << c->detail;
  EXPECT_NE(c->detail.find("  1   HELO alice"), std::string::npos) << c->detail;
}

TEST(VerifyExpect, MissingAndExtraLines) {
  const auto s = session(1, {"C:HELO a\r\n"});
  auto r = run(R"(a: {client: ["HELO a", QUIT]})", {s});
  ASSERT_NE(failed(r, "client"), nullptr);
  EXPECT_EQ(failed(r, "client")->summary, "missing line \"QUIT\" after line 1");
  r = run(R"(a: {client: []})", {s});
  ASSERT_NE(failed(r, "client"), nullptr);
  EXPECT_EQ(failed(r, "client")->summary, "unexpected line 1: \"HELO a\"");
}

TEST(VerifyExpect, IgnoreDropsLinesOnBothSides) {
  const auto s = session(1, {"C:EHLO x\r\nX-Date: Mon 12:00\r\nQUIT\r\n"});
  // The expected list was copied with its own volatile line: ignore drops it there too.
  EXPECT_TRUE(
      run(R"(a: {ignore: '^X-Date:', client: ["EHLO x", "X-Date: Sun 10:00", QUIT]})", {s}).ok());
  const auto r = run(R"(a: {ignore: ['^X-Date:'], client: ["EHLO y", QUIT]})", {s});
  const CheckResult* c = failed(r, "client");
  ASSERT_NE(c, nullptr);
  EXPECT_NE(c->detail.find("~ X-Date: Mon 12:00"), std::string::npos) << c->detail;
  EXPECT_NE(c->summary.find("(1 line ignored)"), std::string::npos) << c->summary;
}

TEST(VerifyExpect, AfterCloseBytesAreNotCompared) {
  const auto s = session(1, {"C:QUIT\r\n", "A:late\r\n"});
  EXPECT_TRUE(run(R"(a: {client: [QUIT]})", {s}).ok());
}

TEST(VerifyExpect, ServerLevelJoinsSessionsEachSessionChecksEvery) {
  const std::vector<SessionTranscript> two = {session(1, {"C:HELO a\r\n"}, "client"),
                                              session(2, {"C:HELO b\r\n"}, "reset")};
  EXPECT_TRUE(run(R"(a: {client: ["HELO a", "HELO b"]})", two).ok());
  EXPECT_TRUE(run(R"(a: {each_session: {client: [{match: 'HELO .'}]}})", two).ok());
  const auto r = run(R"(a: {each_session: {close: client}})", two);
  ASSERT_EQ(r.failures(), 1u);
  ASSERT_NE(failed(r, "close"), nullptr);
  EXPECT_EQ(failed(r, "close")->scope, "session 2");
  EXPECT_EQ(failed(r, "close")->summary, "expected client, recorded reset");
  EXPECT_TRUE(run(R"(a: {each_session: {close: [client, reset]}})", two).ok());
}

TEST(VerifyExpect, SessionByNumber) {
  const std::vector<SessionTranscript> two = {session(1, {"C:DATA\r\n"}),
                                              session(2, {"C:QUIT\r\n"})};
  EXPECT_TRUE(run(R"(a: {session: {2: {client: [QUIT]}}})", two).ok());
  EXPECT_FALSE(run(R"(a: {session: {1: {client: [QUIT]}}})", two).ok());
  const auto r = run(R"(a: {session: {3: {close: client}}})", two);
  ASSERT_EQ(r.failures(), 1u);
  EXPECT_EQ(r.checks.back().summary, "not recorded (the server has 2 sessions)");
}

TEST(VerifyExpect, UnfinishedSessionFailsCloseCheck) {
  auto s = session(1, {"C:x\r\n"});
  s.doc["close"] = nullptr;
  s.complete = false;
  const auto r = run(R"(a: {session: {1: {close: server}}})", {s});
  ASSERT_NE(failed(r, "close"), nullptr);
  EXPECT_NE(failed(r, "close")->summary.find("never ended"), std::string::npos);
}

TEST(VerifyExpect, CommandsFromRecordedCommandOrFirstWord) {
  // tcp records no command: the first word of each line, compared case-insensitively.
  const auto raw = session(1, {"C:helo a\r\n\r\nquit\r\n"});
  EXPECT_TRUE(run(R"(a: {commands: [HELO, QUIT]})", {raw}).ok());
  // A protocol fake's `command` wins; lines without one (a DATA body) give none.
  auto smtp = session(1, {});
  auto& ev = smtp.doc["events"];
  ev.push_back({{"t_ms", 1}, {"from", "client"}, {"text", "EHLO x\r\n"}, {"command", "EHLO"}});
  ev.push_back({{"t_ms", 2}, {"from", "client"}, {"text", "DATA\r\n"}, {"command", "DATA"}});
  ev.push_back({{"t_ms", 3}, {"from", "client"}, {"text", "Subject: x\r\n\r\nbody\r\n.\r\n"}});
  ev.push_back({{"t_ms", 4}, {"from", "client"}, {"text", "QUIT\r\n"}, {"command", "QUIT"}});
  EXPECT_EQ(session_commands(smtp.doc, {}), (std::vector<std::string>{"EHLO", "DATA", "QUIT"}));
  EXPECT_TRUE(run(R"(a: {commands: [ehlo, DATA, {match: 'q.*'}]})", {smtp}).ok());
  const auto r = run(R"(a: {commands: [EHLO, QUIT]})", {smtp});
  ASSERT_NE(failed(r, "commands"), nullptr);
  EXPECT_EQ(failed(r, "commands")->summary, "unexpected line 2: \"DATA\"");
}

TEST(VerifyExpect, RulesCounted) {
  const std::vector<SessionTranscript> two = {session(1, {"R:greylist"}), session(2, {})};
  const std::string servers =
      "a: {protocol: smtp, rules: [{name: greylist, on: DATA}, {on: RCPT}]}";
  EXPECT_TRUE(run("a: {rules: {greylist: 1, 'rules[1]': 0}}", two, no_payloads, servers).ok());
  const auto r = run("a: {rules: {greylist: 2}}", two, no_payloads, servers);
  ASSERT_NE(failed(r, "rules"), nullptr);
  EXPECT_EQ(failed(r, "rules")->summary, "greylist fired 1 time, expected 2");
  EXPECT_TRUE(run("a: {session: {2: {rules: {greylist: 0}}}}", two, no_payloads, servers).ok());
}

TEST(VerifyExpect, UnknownRuleIsAnError) {
  auto p = parse("a: {rules: {greylst: 1}}", "a: {protocol: smtp, rules: [{name: greylist}]}");
  ASSERT_FALSE(p.errors.empty());
  EXPECT_NE(p.errors.format().find("did you mean 'greylist'"), std::string::npos)
      << p.errors.format();
}

TEST(VerifyExpect, BadRegexIsAnError) {
  auto p = parse("a: {client: [{match: '('}]}");
  ASSERT_FALSE(p.errors.empty());
  EXPECT_NE(p.errors.format().find("invalid regular expression"), std::string::npos);
  EXPECT_FALSE(parse("a: {ignore: '['}").errors.empty());
}

TEST(VerifyExpect, PayloadCountAndContent) {
  const std::vector<SessionTranscript> s = {session(1, {"F:files/a/1/1.eml"}),
                                            session(2, {"F:files/a/2/1.eml"})};
  const PayloadLoader load = [](const std::string& rel) -> std::optional<std::string> {
    if (rel == "files/a/1/1.eml") return "Subject: one\r\n\r\nfirst body\r\n";
    if (rel == "files/a/2/1.eml") return "Subject: two\r\n\r\nsecond\r\n";
    return std::nullopt;
  };
  EXPECT_TRUE(run("a: {payloads: 2}", s, load).ok());
  EXPECT_TRUE(run("a: {each_session: {payloads: 1}}", s, load).ok());
  EXPECT_FALSE(run("a: {payloads: {max: 1}}", s, load).ok());
  EXPECT_TRUE(
      run(R"(a: {payloads: [{contains: "Subject: one"}, {match: '^second$'}]})", s, load).ok());
  // CRLF in the payload equals LF in the expectation.
  EXPECT_TRUE(
      run("a: {payloads: [{equals: \"Subject: one\\n\\nfirst body\\n\"}, {}]}", s, load).ok());

  auto r = run(R"(a: {payloads: [{contains: [one, nope]}]})", s, load);
  const CheckResult* c = failed(r, "payloads");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->summary, "expected 1, recorded 2");
  EXPECT_NE(c->detail.find("payload 1 (files/a/1/1.eml): does not contain \"nope\""),
            std::string::npos)
      << c->detail;

  r = run("a: {payloads: [{equals: \"Subject: one\\n\\nother body\\n\"}, {}]}", s, load);
  c = failed(r, "payloads");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->summary, "payload 1 (files/a/1/1.eml): differs from equals");
  EXPECT_NE(c->detail.find("- other body"), std::string::npos) << c->detail;
  EXPECT_NE(c->detail.find("+ first body"), std::string::npos) << c->detail;
}

TEST(VerifyExpect, PayloadFileMissing) {
  const std::vector<SessionTranscript> s = {session(1, {"F:files/a/1/1.eml"})};
  const auto r = run("a: {payloads: [{}]}", s);
  ASSERT_NE(failed(r, "payloads"), nullptr);
  EXPECT_EQ(failed(r, "payloads")->summary, "payload 1 (files/a/1/1.eml): the file is missing");
}

TEST(VerifyExpect, PayloadEqualsFileIsReadAtParseTime) {
  auto p = parse("a: {payloads: [{file: no/such/file.eml}]}");
  ASSERT_FALSE(p.errors.empty());
  EXPECT_NE(p.errors.format().find("cannot read"), std::string::npos);
}

TEST(VerifyExpect, RuleNamesDefaultToIndex) {
  const auto node = YAML::Load("{rules: [{on: A}, {name: x, on: B}, {on: C}]}");
  EXPECT_EQ(rule_names(node), (std::vector<std::string>{"rules[0]", "x", "rules[2]"}));
}

TEST(VerifyDiffLines, BinaryLinesAreEscaped) {
  std::string first;
  const std::string d =
      diff_lines({{"abc", nullptr, false}}, {std::string("ab\x01\xff", 4)}, {}, &first);
  EXPECT_NE(d.find("ab\\x01\\xff"), std::string::npos) << d;
  EXPECT_NE(first.find("\\x01"), std::string::npos) << first;
}

}  // namespace
}  // namespace protofarm
