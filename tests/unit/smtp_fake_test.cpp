// The smtp fake as the farm runs it, without a network: its scenario keys and their errors,
// whole sessions over a socketpair with rules, the transcript, and publications on the farm's bus.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "fakes/common/session.hpp"
#include "fakes/smtp/smtp_codec.hpp"
#include "fakes/smtp/smtp_fake.hpp"
#include "tests/unit/fake_fixture.hpp"

namespace protofarm {
namespace {

namespace fs = std::filesystem;

class SmtpFake : public FakeFixture {
 protected:
  SmtpFake() : FakeFixture("mail", "smtp", smtp::factory()) {}
};

const std::string kSend =
    "EHLO c\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<c@d.test>\r\nDATA\r\n"
    "Subject: t\r\n\r\n..dot\r\n.\r\nQUIT\r\n";

TEST_F(SmtpFake, ServesAPipelinedSession) {
  ASSERT_EQ(load("protocol: smtp\nextensions: [PIPELINING, ENHANCEDSTATUSCODES]\n"), "");
  std::vector<Publication> got;
  bus_.subscribe("mail", [&](const Publication& m) { got.push_back(m); });
  EXPECT_EQ(converse(kSend),
            "220 localhost ESMTP protofarm\r\n"
            "250-localhost\r\n250-PIPELINING\r\n250 ENHANCEDSTATUSCODES\r\n"
            "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n"
            "250 2.0.0 Ok: queued as " +
                smtp::queue_id(0, "mail", 1, 1) + "\r\n221 2.0.0 Bye\r\n");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].meta["mail_from"], "a@b.test");
  EXPECT_EQ(got[0].meta["recipients"].get<std::vector<std::string>>(),
            std::vector<std::string>{"c@d.test"});
  EXPECT_EQ(got[0].content, "Subject: t\r\n\r\n.dot\r\n");
  EXPECT_EQ(got[0].session, 1u);
  const std::string doc = session_doc(1);
  EXPECT_NE(doc.find("\"command\":\"MAIL\",\"args\":\"FROM:<a@b.test>\""), std::string::npos);
  EXPECT_NE(doc.find("\"text\":\"Subject: t\\r\\n\\r\\n..dot\\r\\n.\\r\\n\",\"data\":true"),
            std::string::npos)
      << doc;
  EXPECT_NE(doc.find("\"file\":\"files/mail/1/1.eml\""), std::string::npos) << doc;
  std::ifstream eml(dir_ / "files" / "mail" / "1" / "1.eml", std::ios::binary);
  std::stringstream content;
  content << eml.rdbuf();
  EXPECT_EQ(content.str(), "Subject: t\r\n\r\n.dot\r\n");
}

TEST_F(SmtpFake, ScriptedEhloAnd251KeepTheSessionGoing) {
  ASSERT_EQ(load(R"(
protocol: smtp
rules:
  - on: EHLO
    reply: ["250-mx.test", "250 SIZE 100"]
  - on: RCPT
    match: forward
    reply: "251 2.1.5 will forward"
)"),
            "");
  std::vector<Publication> got;
  bus_.subscribe("mail", [&](const Publication& m) { got.push_back(m); });
  const std::string out = converse(
      "EHLO c\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<forward@d.test>\r\nDATA\r\nx\r\n.\r\nQUIT\r\n");
  EXPECT_NE(
      out.find("250-mx.test\r\n250 SIZE 100\r\n250 2.1.0 Ok\r\n251 2.1.5 will forward\r\n354 "),
      std::string::npos)
      << out;
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].meta["recipients"].get<std::vector<std::string>>(),
            std::vector<std::string>{"forward@d.test"});
}

TEST_F(SmtpFake, GreylistingCountsAcrossSessions) {
  ASSERT_EQ(load(R"(
protocol: smtp
rules:
  - on: DATA
    times: 1
    reply: "451 4.7.1 greylisted, try again later"
)"),
            "");
  const std::string first = converse(kSend);
  EXPECT_NE(first.find("451 4.7.1 greylisted, try again later\r\n"), std::string::npos) << first;
  // The body after the refused DATA is read as commands, as a real server would.
  EXPECT_NE(first.find("500 5.5.2 Error: command not recognized\r\n"), std::string::npos);
  const std::string second = converse(kSend);
  EXPECT_NE(second.find("250 2.0.0 Ok: queued as"), std::string::npos) << second;
}

TEST_F(SmtpFake, MessageRuleSeesTheContent) {
  ASSERT_EQ(load(R"(
protocol: smtp
rules:
  - on: message
    match: 'Subject: t'
    reply: "554 5.7.1 no thanks"
)"),
            "");
  std::vector<Publication> got;
  bus_.subscribe("mail", [&](const Publication& m) { got.push_back(m); });
  const std::string out = converse(kSend);
  EXPECT_NE(out.find("554 5.7.1 no thanks\r\n221 2.0.0 Bye\r\n"), std::string::npos) << out;
  EXPECT_TRUE(got.empty());
  const std::string doc = session_doc(1);
  EXPECT_NE(doc.find("\"rejected_file\":\"files/mail/1/1.eml\""), std::string::npos) << doc;
  EXPECT_NE(doc.find("\"accepted\":false"), std::string::npos);
}

TEST_F(SmtpFake, Greeting421Closes) {
  ASSERT_EQ(load("protocol: smtp\nrules:\n  - on: connect\n    reply: '421 4.3.2 busy'\n"), "");
  EXPECT_EQ(converse("EHLO c\r\n"), "421 4.3.2 busy\r\n");
}

TEST_F(SmtpFake, Greeting554RefusesAllButQuit) {
  ASSERT_EQ(load("protocol: smtp\nrules:\n  - on: connect\n    reply: '554 5.3.2 no service'\n"),
            "");
  EXPECT_EQ(converse("EHLO c\r\nQUIT\r\n"),
            "554 5.3.2 no service\r\n503 5.5.1 Error: no SMTP service here\r\n221 2.0.0 Bye\r\n");
}

TEST_F(SmtpFake, BdatChunksAcrossPipelinedInput) {
  ASSERT_EQ(load("protocol: smtp\n"), "");
  std::vector<Publication> got;
  bus_.subscribe("mail", [&](const Publication& m) { got.push_back(m); });
  const std::string out = converse(
      "EHLO c\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<c@d.test>\r\nBDAT 3\r\nab\nBDAT 0 LAST\r\n"
      "QUIT\r\n");
  EXPECT_NE(out.find("250 2.0.0 Ok: 3 octets received\r\n250 2.0.0 Ok: queued as"),
            std::string::npos)
      << out;
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].content, "ab\n");
}

TEST_F(SmtpFake, ValidConfig) {
  EXPECT_EQ(load(R"(
protocol: smtp
hostname: mx.example.test
greeting: [one, two]
extensions: [SIZE, X-FOO bar, AUTH, DSN]
size_limit: 1KiB
auth_mechanisms: [PLAIN]
users: {alice: secret}
require_auth: true
end_of_data: lenient
max_recipients: 3
)"),
            "");
  EXPECT_EQ(converse("EHLO c\r\nQUIT\r\n"),
            "220-one\r\n220 two\r\n250-mx.example.test\r\n250-SIZE 1024\r\n250-X-FOO bar\r\n"
            "250-AUTH PLAIN\r\n250 DSN\r\n221 Bye\r\n");
}

TEST_F(SmtpFake, ConfigErrors) {
  const std::string errors = load(R"(
protocol: smtp
extensions: [PIPELNING, SIZE 100, CHUNKING, CHUNKING]
auth_mechanisms: [PLAIN, GSSAPI]
require_auth: true
require_tls: true
end_of_data: lenient-ish
max_recipients: 0
hostname: "a b"
)");
  EXPECT_NE(errors.find("unknown extension 'PIPELNING'; did you mean 'PIPELINING'?"),
            std::string::npos)
      << errors;
  EXPECT_NE(errors.find("give the limit in size_limit"), std::string::npos);
  EXPECT_NE(errors.find("'CHUNKING' is listed twice"), std::string::npos);
  // What a user sees: the schema check reports these first, at the same places.
  EXPECT_NE(errors.find("unknown SASL mechanism 'GSSAPI'"), std::string::npos) << errors;
  EXPECT_NE(errors.find("require_auth needs `users:`"), std::string::npos);
  EXPECT_NE(errors.find("require_tls needs `tls: starttls`"), std::string::npos);
  EXPECT_NE(errors.find("unknown end-of-data mode 'lenient-ish'; expected one of: strict, lenient"),
            std::string::npos);
  EXPECT_NE(errors.find("max_recipients: must be at least 1, got 0"), std::string::npos);
  EXPECT_NE(errors.find("host name without spaces"), std::string::npos);
}

TEST_F(SmtpFake, RuleVerbTyposAreErrors) {
  const std::string errors = load("protocol: smtp\nrules:\n  - on: RCTP\n    reply: '550 no'\n");
  EXPECT_NE(errors.find("unknown command 'RCTP' for this protocol; did you mean 'RCPT'?"),
            std::string::npos)
      << errors;
  EXPECT_EQ(load("protocol: smtp\nrules:\n  - on: message\n    reply: '554 no'\n"), "");
}

}  // namespace
}  // namespace protofarm
