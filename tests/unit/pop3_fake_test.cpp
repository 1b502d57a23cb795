// The pop3 fake as the farm runs it, without a network: its scenario keys and their errors,
// deliveries through the farm's bus, and whole sessions over a socketpair.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "fakes/common/session.hpp"
#include "fakes/pop3/pop3_fake.hpp"
#include "tests/unit/fake_fixture.hpp"

namespace protofarm {
namespace {

namespace fs = std::filesystem;

class Pop3Fake : public FakeFixture {
 protected:
  Pop3Fake() : FakeFixture("pop", "pop3", pop3::factory()) {}
  std::string load(const std::string& yaml) {
    return FakeFixture::load(yaml, {{"mail", "smtp"}, {"web", "tcp"}});
  }
};

constexpr const char* kAlice = R"(
protocol: pop3
apop_timestamp: "<1896.697170952@dbc.mtview.ca.us>"
mailboxes:
  alice:
    password: secret
    address: Alice@Example.TEST
    messages:
      - "Subject: hi\n\nhello\n"
)";

TEST_F(Pop3Fake, ServesAWholeSession) {
  ASSERT_EQ(load(kAlice), "");
  EXPECT_EQ(converse("USER alice\r\nPASS secret\r\nSTAT\r\nRETR 1\r\nQUIT\r\n"),
            "+OK protofarm POP3 server ready <1896.697170952@dbc.mtview.ca.us>\r\n"
            "+OK send PASS\r\n"
            "+OK alice's maildrop has 1 message (22 octets)\r\n"
            "+OK 1 22\r\n"
            "+OK 22 octets\r\nSubject: hi\r\n\r\nhello\r\n.\r\n"
            "+OK localhost POP3 server signing off (1 message left)\r\n");
}

TEST_F(Pop3Fake, DefaultTimestampComesFromTheScenario) {
  ASSERT_EQ(load("protocol: pop3\nhostname: pop.test\n"), "");
  const std::string first = converse("QUIT\r\n");
  const std::string second = converse("QUIT\r\n");
  // <pid.session.clock@hostname>, the clock being the scenario's fixed 2026-01-01.
  EXPECT_NE(first.find(".1.1767225600@pop.test>\r\n"), std::string::npos) << first;
  EXPECT_NE(second.find(".2.1767225600@pop.test>\r\n"), std::string::npos) << second;
}

TEST_F(Pop3Fake, DeletionLastsForTheRun) {
  ASSERT_EQ(load(kAlice), "");
  const std::string first = converse("USER alice\r\nPASS secret\r\nDELE 1\r\nQUIT\r\n");
  EXPECT_NE(first.find("(maildrop empty)"), std::string::npos) << first;
  const std::string second = converse("USER alice\r\nPASS secret\r\nSTAT\r\nQUIT\r\n");
  EXPECT_NE(second.find("+OK 0 0\r\n"), std::string::npos) << second;
}

TEST_F(Pop3Fake, DeliveriesFromSmtpArrive) {
  ASSERT_EQ(load(std::string(kAlice) + "deliveries_from: mail\n"), "");
  Publication m;
  m.server = "mail";
  m.session = 1;
  m.kind = "message";
  m.meta["mail_from"] = "bob@example.test";
  m.meta["recipients"] = {"alice@example.test", "ALICE@example.test", "nobody@example.test"};
  m.content = "Subject: delivered\r\n\r\n.leading dot\r\n";
  bus_.publish(m);
  m.server = "other";  // not subscribed
  bus_.publish(m);
  m.server = "mail";  // not a message
  m.kind = "upload";
  bus_.publish(m);
  const std::string out = converse("USER alice\r\nPASS secret\r\nLIST\r\nRETR 2\r\nQUIT\r\n");
  // One copy, even with the address given twice in other case.
  EXPECT_NE(out.find("+OK 2 messages (58 octets)\r\n1 22\r\n2 36\r\n.\r\n"), std::string::npos)
      << out;
  EXPECT_NE(out.find("+OK 36 octets\r\nSubject: delivered\r\n\r\n..leading dot\r\n.\r\n"),
            std::string::npos)
      << out;
}

TEST_F(Pop3Fake, CatchAllTakesUnknownRecipients) {
  ASSERT_EQ(
      load(std::string(kAlice) +
           "  postmaster:\n    password: pm\ndeliveries_from: [mail]\ncatch_all: postmaster\n"),
      "");
  Publication m;
  m.server = "mail";
  m.kind = "message";
  m.meta["recipients"] = {"stranger@example.test"};
  m.content = "Subject: lost\r\n\r\n";
  bus_.publish(m);
  EXPECT_NE(converse("USER postmaster\r\nPASS pm\r\nQUIT\r\n").find("1 message (17 octets)"),
            std::string::npos);
  EXPECT_NE(converse("USER alice\r\nPASS secret\r\nQUIT\r\n").find("1 message (22 octets)"),
            std::string::npos);
}

TEST_F(Pop3Fake, MessagesFromFilesRelativeToTheScenario) {
  write_file("one.eml", "From: a@b\nSubject: file\n\nbody\n.\n");
  ASSERT_EQ(load(R"(
protocol: pop3
mailboxes:
  alice:
    password: secret
    messages:
      - file: one.eml
        uid: file-one
      - {hex: "41 0a"}
      - {base64: "QgpD"}
)"),
            "");
  const std::string out =
      converse("USER alice\r\nPASS secret\r\nUIDL 1\r\nLIST\r\nRETR 1\r\nRETR 3\r\nQUIT\r\n");
  EXPECT_NE(out.find("+OK 1 file-one\r\n"), std::string::npos) << out;
  EXPECT_NE(out.find("1 37\r\n2 3\r\n3 6\r\n.\r\n"), std::string::npos) << out;
  EXPECT_NE(out.find("+OK 37 octets\r\nFrom: a@b\r\nSubject: file\r\n\r\nbody\r\n..\r\n.\r\n"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("+OK 6 octets\r\nB\r\nC\r\n.\r\n"), std::string::npos) << out;
}

TEST_F(Pop3Fake, OverLongCommandLineGetsAnError) {
  ASSERT_EQ(load(kAlice), "");
  const std::string out = converse("USER " + std::string(300, 'a') +
                                   "\r\nNOOP\r\nUSER alice\r\nPASS secret\r\nQUIT\r\n");
  EXPECT_NE(out.find("-ERR line too long (the limit is 255 octets including CRLF, RFC 2449 4)\r\n"
                     "-ERR NOOP is not valid in the AUTHORIZATION state\r\n+OK send PASS\r\n"),
            std::string::npos)
      << out;
}

TEST_F(Pop3Fake, MaxLineRaisesTheCommandLimit) {
  ASSERT_EQ(load(std::string(kAlice) + "max_line: 1024\n"), "");
  const std::string out = converse("USER " + std::string(300, 'a') + "\r\nQUIT\r\n");
  EXPECT_NE(out.find("+OK send PASS\r\n"), std::string::npos) << out;
}

TEST_F(Pop3Fake, JunkNeverEndsTheSession) {
  ASSERT_EQ(load(kAlice), "");
  const std::string out = converse(std::string("\x00\x01\x02\r\n\xff\xfe\r\n\r\n", 11) +
                                   "USER alice\r\nPASS secret\r\nQUIT\r\n");
  EXPECT_NE(out.find("-ERR NUL bytes are not allowed in a command\r\n-ERR unknown command\r\n"
                     "-ERR empty command line\r\n+OK send PASS\r\n"),
            std::string::npos)
      << out;
}

TEST_F(Pop3Fake, RulesAnswerFirst) {
  ASSERT_EQ(load(std::string(kAlice) + R"(
rules:
  - on: RETR
    times: 1
    reply: "-ERR [SYS/TEMP] try again"
  - on: connect
    reply: "+OK scripted <1896.697170952@dbc.mtview.ca.us>"
)"),
            "");
  const std::string out = converse("APOP alice " + std::string("c4c9334bac560ecc979e58001b3e22fb") +
                                   "\r\nUSER alice\r\nPASS secret\r\nRETR 1\r\nRETR 1\r\nQUIT\r\n");
  EXPECT_EQ(out.substr(0, out.find("\r\n")), "+OK scripted <1896.697170952@dbc.mtview.ca.us>");
  EXPECT_NE(out.find("-ERR [SYS/TEMP] try again\r\n+OK 22 octets\r\n"), std::string::npos) << out;
}

TEST_F(Pop3Fake, RuleVerbsAreThePop3Commands) {
  ConfigErrors errors;
  const YAML::Node rules = YAML::Load("- on: RETT\n  reply: x\n");
  parse_rules(Cfg(rules, "rules", &errors), pop3::factory().rules);
  EXPECT_NE(errors.format().find("unknown command 'RETT' for this protocol; did you mean 'RETR'?"),
            std::string::npos)
      << errors.format();
}

TEST_F(Pop3Fake, ConfigErrorsNameTheProblem) {
  std::string e = load("protocol: pop3\ndeliveries_from: mial\n");
  EXPECT_NE(e.find("no server named 'mial' in this scenario; did you mean 'mail'?"),
            std::string::npos)
      << e;
  e = load("protocol: pop3\ndeliveries_from: web\n");
  EXPECT_NE(e.find("server 'web' is tcp, not smtp"), std::string::npos) << e;
  e = load("protocol: pop3\nauth: [USER, CRAM]\n");
  EXPECT_NE(e.find("unknown login method 'CRAM'"), std::string::npos) << e;
  e = load(
      "protocol: pop3\nmailboxes:\n  a:\n    password: x\n    messages:\n      - {file: "
      "missing.eml}\n");
  EXPECT_NE(e.find("cannot read message file"), std::string::npos) << e;
  e = load(
      "protocol: pop3\nmailboxes:\n  a:\n    password: x\n    messages:\n"
      "      - {text: a, uid: u}\n      - {text: b, uid: u}\n");
  EXPECT_NE(e.find("uid 'u' is used twice"), std::string::npos) << e;
  e = load("protocol: pop3\nmailboxes:\n  a:\n    messages: []\n");
  // The schema check finds it first (the farm's loader runs it before the fake's own check).
  EXPECT_NE(e.find("mailboxes.a: missing required key 'password'"), std::string::npos) << e;
  e = load("protocol: pop3\nrequire_tls: true\n");
  EXPECT_NE(e.find("require_tls needs"), std::string::npos) << e;
  e = load(
      "protocol: pop3\nmailboxes:\n  a: {password: x, address: x@y}\n  b: {password: x, "
      "address: X@Y}\n");
  EXPECT_NE(e.find("address x@y already belongs to mailbox 'a'"), std::string::npos) << e;
  e = load("protocol: pop3\ndeliveries_from: mail\ncatch_all: nobody\n");
  EXPECT_NE(e.find("no mailbox named 'nobody'"), std::string::npos) << e;
  e = load("protocol: pop3\napop_timestamp: nope\n");
  EXPECT_NE(e.find("expected a timestamp like"), std::string::npos) << e;
  // Line and column of the offending value.
  e = load("protocol: pop3\ndeliveries_from: mial\n");
  const std::string at =
      "scenario.yaml:" + std::to_string(header_lines() + 2) + ":22: error:";  // 18, indented by 4
  EXPECT_NE(e.find(at), std::string::npos) << e;
}

}  // namespace
}  // namespace protofarm
