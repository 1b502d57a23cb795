// The POP3 state machine as whole conversations, without sockets: every reply byte for byte,
// the state rules, the lock, UPDATE, SASL, and bad input.
#include <gtest/gtest.h>

#include "fakes/common/bytes.hpp"
#include "fakes/pop3/pop3_protocol.hpp"

namespace protofarm::pop3 {
namespace {

using namespace std::string_literals;

constexpr const char* kTimestamp = "<1896.697170952@dbc.mtview.ca.us>";

class Pop3Protocol : public ::testing::Test {
 protected:
  void SetUp() override {
    Mailbox box;
    box.user = "mrose";
    box.password = "tanstaaf";
    box.addresses = {"mrose@example.test"};
    Mailbox& b = store.add_mailbox(std::move(box));
    store.append(b, normalize_message("Subject: one\n\nfirst\n"), "uid-1", "scenario");
    store.append(b, normalize_message("Subject: two\n\n.dot\n..two\nend\n"), "uid-2", "scenario");
  }

  std::unique_ptr<Protocol> session(bool tls = false) {
    return std::make_unique<Protocol>(config, store, kTimestamp, tls);
  }
  static std::string send(Protocol& p, std::string_view line) {
    return p.handle(parse_command(line)).bytes;
  }
  static void login(Protocol& p) {
    ASSERT_EQ(send(p, "USER mrose\r\n"), "+OK send PASS\r\n");
    ASSERT_EQ(send(p, "PASS tanstaaf\r\n"), "+OK mrose's maildrop has 2 messages (57 octets)\r\n");
  }

  Config config;
  MailStore store;
};

TEST_F(Pop3Protocol, GreetingCarriesTheApopTimestamp) {
  auto p = session();
  EXPECT_EQ(p->greeting(), "+OK protofarm POP3 server ready <1896.697170952@dbc.mtview.ca.us>\r\n");
  config.apop = false;
  EXPECT_EQ(p->greeting(), "+OK protofarm POP3 server ready\r\n");
}

TEST_F(Pop3Protocol, UserPassThenTransactionCommands) {
  auto p = session();
  login(*p);
  EXPECT_EQ(p->state(), State::transaction);
  EXPECT_EQ(send(*p, "STAT\r\n"), "+OK 2 57\r\n");
  EXPECT_EQ(send(*p, "LIST\r\n"), "+OK 2 messages (57 octets)\r\n1 23\r\n2 34\r\n.\r\n");
  EXPECT_EQ(send(*p, "LIST 2\r\n"), "+OK 2 34\r\n");
  EXPECT_EQ(send(*p, "UIDL\r\n"), "+OK unique-id listing follows\r\n1 uid-1\r\n2 uid-2\r\n.\r\n");
  EXPECT_EQ(send(*p, "UIDL 1\r\n"), "+OK 1 uid-1\r\n");
  EXPECT_EQ(send(*p, "RETR 1\r\n"), "+OK 23 octets\r\nSubject: one\r\n\r\nfirst\r\n.\r\n");
  // Dot-stuffed on the wire; the octet count is of the message itself.
  EXPECT_EQ(send(*p, "RETR 2\r\n"),
            "+OK 34 octets\r\nSubject: two\r\n\r\n..dot\r\n...two\r\nend\r\n.\r\n");
  EXPECT_EQ(send(*p, "TOP 2 1\r\n"),
            "+OK top of message follows\r\nSubject: two\r\n\r\n..dot\r\n.\r\n");
  EXPECT_EQ(send(*p, "TOP 2 0\r\n"), "+OK top of message follows\r\nSubject: two\r\n\r\n.\r\n");
  EXPECT_EQ(send(*p, "NOOP\r\n"), "+OK\r\n");
}

TEST_F(Pop3Protocol, DeleRsetAndUpdate) {
  {
    auto p = session();
    login(*p);
    EXPECT_EQ(send(*p, "DELE 1\r\n"), "+OK message 1 deleted\r\n");
    EXPECT_EQ(send(*p, "DELE 1\r\n"), "-ERR message 1 already deleted\r\n");
    EXPECT_EQ(send(*p, "RETR 1\r\n"), "-ERR message 1 already deleted\r\n");
    EXPECT_EQ(send(*p, "STAT\r\n"), "+OK 1 34\r\n");
    EXPECT_EQ(send(*p, "LIST\r\n"), "+OK 1 message (34 octets)\r\n2 34\r\n.\r\n");
    EXPECT_EQ(send(*p, "RSET\r\n"), "+OK maildrop has 2 messages (57 octets)\r\n");
    EXPECT_EQ(send(*p, "DELE 2\r\n"), "+OK message 2 deleted\r\n");
    const Reply quit = p->handle(parse_command("QUIT\r\n"));
    EXPECT_EQ(quit.bytes, "+OK localhost POP3 server signing off (1 message left)\r\n");
    EXPECT_EQ(quit.effect, Effect::close);
    ASSERT_EQ(quit.events.size(), 1u);
    EXPECT_EQ(quit.events[0].first, "update");
    EXPECT_EQ(quit.events[0].second["deleted"], Json::array({"uid-2"}));
  }
  // The next session of the same run sees the deletion.
  auto p = session();
  ASSERT_EQ(send(*p, "USER mrose\r\n"), "+OK send PASS\r\n");
  EXPECT_EQ(send(*p, "PASS tanstaaf\r\n"), "+OK mrose's maildrop has 1 message (23 octets)\r\n");
  EXPECT_EQ(send(*p, "UIDL\r\n"), "+OK unique-id listing follows\r\n1 uid-1\r\n.\r\n");
}

TEST_F(Pop3Protocol, NoUpdateWithoutQuit) {
  {
    auto p = session();
    login(*p);
    EXPECT_EQ(send(*p, "DELE 1\r\n"), "+OK message 1 deleted\r\n");
    // The session ends without QUIT (the client vanished): RFC 1939 6, no UPDATE.
  }
  auto p = session();
  login(*p);  // 2 messages again, and the lock was released
}

TEST_F(Pop3Protocol, QuitInAuthorizationChangesNothing) {
  auto p = session();
  const Reply r = p->handle(parse_command("QUIT\r\n"));
  EXPECT_EQ(r.bytes, "+OK localhost POP3 server signing off\r\n");
  EXPECT_EQ(r.effect, Effect::close);
  EXPECT_TRUE(r.events.empty());
}

TEST_F(Pop3Protocol, SecondSessionFindsTheMailboxInUse) {
  auto first = session();
  login(*first);
  auto second = session();
  EXPECT_EQ(send(*second, "USER mrose\r\n"), "+OK send PASS\r\n");
  const Reply r = second->handle(parse_command("PASS tanstaaf\r\n"));
  EXPECT_EQ(r.bytes, "-ERR [IN-USE] mailbox is locked by another session\r\n");
  EXPECT_EQ(r.events.at(0).first, "login_failed");
  EXPECT_EQ(second->state(), State::authorization);
  first.reset();  // the lock goes with the session
  EXPECT_EQ(send(*second, "USER mrose\r\n"), "+OK send PASS\r\n");
  EXPECT_EQ(send(*second, "PASS tanstaaf\r\n"),
            "+OK mrose's maildrop has 2 messages (57 octets)\r\n");
}

TEST_F(Pop3Protocol, MailboxMarkedInUse) {
  store.find("mrose")->in_use = true;
  auto p = session();
  EXPECT_EQ(send(*p, "APOP mrose c4c9334bac560ecc979e58001b3e22fb\r\n"),
            "-ERR [IN-USE] mailbox is locked by another session\r\n");
}

TEST_F(Pop3Protocol, ApopWithTheRfcExample) {
  auto p = session();
  EXPECT_EQ(send(*p, "APOP mrose c4c9334bac560ecc979e58001b3e22fc\r\n"),
            "-ERR [AUTH] invalid user name or password\r\n");
  EXPECT_EQ(send(*p, "APOP mrose C4C9334BAC560ECC979E58001B3E22FB\r\n"),
            "+OK mrose's maildrop has 2 messages (57 octets)\r\n");
}

TEST_F(Pop3Protocol, WrongPasswordAndUnknownUserLookTheSame) {
  auto p = session();
  EXPECT_EQ(send(*p, "PASS x\r\n"), "-ERR send USER first\r\n");
  EXPECT_EQ(send(*p, "USER mrose\r\n"), "+OK send PASS\r\n");
  const Reply r = p->handle(parse_command("PASS wrong\r\n"));
  EXPECT_EQ(r.bytes, "-ERR [AUTH] invalid user name or password\r\n");
  EXPECT_EQ(r.events.at(0).second["reason"], "credentials");
  EXPECT_EQ(send(*p, "PASS tanstaaf\r\n"), "-ERR send USER first\r\n");  // USER is forgotten
  EXPECT_EQ(send(*p, "USER nobody\r\n"), "+OK send PASS\r\n");
  EXPECT_EQ(send(*p, "PASS tanstaaf\r\n"), "-ERR [AUTH] invalid user name or password\r\n");
}

TEST_F(Pop3Protocol, PasswordMayContainSpaces) {
  store.find("mrose")->password = "two words";
  auto p = session();
  EXPECT_EQ(send(*p, "USER mrose\r\n"), "+OK send PASS\r\n");
  EXPECT_EQ(send(*p, "PASS two words\r\n"), "+OK mrose's maildrop has 2 messages (57 octets)\r\n");
}

TEST_F(Pop3Protocol, SaslPlainWithInitialResponse) {
  auto p = session();
  const std::string ir = base64_encode("\0mrose\0tanstaaf"s);
  const Reply r = p->handle(parse_command("AUTH PLAIN " + ir + "\r\n"));
  EXPECT_EQ(r.bytes, "+OK mrose's maildrop has 2 messages (57 octets)\r\n");
  EXPECT_EQ(r.events.at(0).second["method"], "PLAIN");
}

TEST_F(Pop3Protocol, SaslPlainWithContinuation) {
  auto p = session();
  EXPECT_EQ(send(*p, "AUTH plain\r\n"), "+ \r\n");
  EXPECT_TRUE(p->awaiting_sasl());
  EXPECT_EQ(p->handle_sasl(base64_encode("\0mrose\0bad"s) + "\r\n").bytes,
            "-ERR [AUTH] invalid user name or password\r\n");
  EXPECT_FALSE(p->awaiting_sasl());
  EXPECT_EQ(send(*p, "AUTH PLAIN\r\n"), "+ \r\n");
  EXPECT_EQ(p->handle_sasl("*\r\n").bytes, "-ERR authentication cancelled\r\n");
  EXPECT_EQ(send(*p, "AUTH PLAIN\r\n"), "+ \r\n");
  EXPECT_EQ(p->handle_sasl("!!!\r\n").bytes, "-ERR invalid base64 in the SASL response\r\n");
  EXPECT_EQ(send(*p, "AUTH PLAIN\r\n"), "+ \r\n");
  EXPECT_EQ(p->handle_sasl(base64_encode("no nuls") + "\r\n").bytes,
            "-ERR malformed PLAIN response (RFC 4616)\r\n");
  EXPECT_EQ(send(*p, "AUTH PLAIN\r\n"), "+ \r\n");
  EXPECT_EQ(p->handle_sasl(base64_encode("\0mrose\0tanstaaf"s) + "\r\n").bytes,
            "+OK mrose's maildrop has 2 messages (57 octets)\r\n");
}

TEST_F(Pop3Protocol, SaslLogin) {
  auto p = session();
  EXPECT_EQ(send(*p, "AUTH LOGIN\r\n"), "+ VXNlcm5hbWU6\r\n");
  EXPECT_EQ(p->handle_sasl(base64_encode("mrose") + "\r\n").bytes, "+ UGFzc3dvcmQ6\r\n");
  EXPECT_EQ(p->handle_sasl(base64_encode("tanstaaf") + "\r\n").bytes,
            "+OK mrose's maildrop has 2 messages (57 octets)\r\n");
}

TEST_F(Pop3Protocol, SaslLoginWithInitialResponse) {
  auto p = session();
  EXPECT_EQ(send(*p, "AUTH LOGIN " + base64_encode("mrose") + "\r\n"), "+ UGFzc3dvcmQ6\r\n");
  EXPECT_EQ(p->handle_sasl(base64_encode("tanstaaf") + "\r\n").bytes,
            "+OK mrose's maildrop has 2 messages (57 octets)\r\n");
}

TEST_F(Pop3Protocol, AuthWithoutArgumentsListsMechanisms) {
  auto p = session();
  EXPECT_EQ(send(*p, "AUTH\r\n"), "+OK\r\nPLAIN\r\nLOGIN\r\n.\r\n");
  EXPECT_EQ(send(*p, "AUTH CRAM-MD5\r\n"), "-ERR unsupported SASL mechanism\r\n");
  config.sasl_plain = config.sasl_login = false;
  EXPECT_EQ(send(*p, "AUTH\r\n"), "-ERR no SASL mechanisms are offered here\r\n");
  EXPECT_EQ(send(*p, "AUTH PLAIN\r\n"), "-ERR unsupported SASL mechanism\r\n");
}

TEST_F(Pop3Protocol, Capabilities) {
  auto p = session();
  EXPECT_EQ(send(*p, "CAPA\r\n"),
            "+OK Capability list follows\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\n"
            "PIPELINING\r\nUSER\r\nSASL PLAIN LOGIN\r\nIMPLEMENTATION protofarm\r\n.\r\n");
  config.offer_stls = true;
  config.require_tls = true;
  EXPECT_EQ(send(*p, "CAPA\r\n"),
            "+OK Capability list follows\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\n"
            "PIPELINING\r\nSTLS\r\nIMPLEMENTATION protofarm\r\n.\r\n");
  p->tls_started();
  EXPECT_EQ(send(*p, "CAPA\r\n"),
            "+OK Capability list follows\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\n"
            "PIPELINING\r\nUSER\r\nSASL PLAIN LOGIN\r\nIMPLEMENTATION protofarm\r\n.\r\n");
  login(*p);
  EXPECT_EQ(send(*p, "CAPA\r\n"),
            "+OK Capability list follows\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\n"
            "PIPELINING\r\nIMPLEMENTATION protofarm\r\n.\r\n");
}

TEST_F(Pop3Protocol, Stls) {
  auto p = session();
  EXPECT_EQ(send(*p, "STLS\r\n"), "-ERR STLS is not offered here\r\n");
  config.offer_stls = true;
  config.require_tls = true;
  EXPECT_EQ(send(*p, "USER mrose\r\n"),
            "-ERR [AUTH] plaintext login is disabled, use STLS first\r\n");
  const Reply r = p->handle(parse_command("STLS\r\n"));
  EXPECT_EQ(r.bytes, "+OK Begin TLS negotiation\r\n");
  EXPECT_EQ(r.effect, Effect::start_tls);
  p->tls_started();
  EXPECT_EQ(send(*p, "STLS\r\n"), "-ERR TLS is already active\r\n");
  login(*p);
  EXPECT_EQ(send(*p, "STLS\r\n"), "-ERR STLS is not valid in the TRANSACTION state\r\n");
}

TEST_F(Pop3Protocol, UserGivenBeforeStlsIsForgotten) {
  config.offer_stls = true;
  auto p = session();
  EXPECT_EQ(send(*p, "USER mrose\r\n"), "+OK send PASS\r\n");
  p->tls_started();
  EXPECT_EQ(send(*p, "PASS tanstaaf\r\n"), "-ERR send USER first\r\n");
}

TEST_F(Pop3Protocol, LoginMethodsCanBeTurnedOff) {
  config.user_login = false;
  config.apop = false;
  auto p = session();
  EXPECT_EQ(send(*p, "USER mrose\r\n"), "-ERR USER/PASS login is not offered here\r\n");
  EXPECT_EQ(send(*p, "APOP mrose c4c9334bac560ecc979e58001b3e22fb\r\n"),
            "-ERR APOP is not offered here\r\n");
}

TEST_F(Pop3Protocol, CommandsInTheWrongState) {
  auto p = session();
  EXPECT_EQ(send(*p, "STAT\r\n"), "-ERR STAT is not valid in the AUTHORIZATION state\r\n");
  EXPECT_EQ(send(*p, "RETR 1\r\n"), "-ERR RETR is not valid in the AUTHORIZATION state\r\n");
  EXPECT_EQ(send(*p, "NOOP\r\n"), "-ERR NOOP is not valid in the AUTHORIZATION state\r\n");
  login(*p);
  EXPECT_EQ(send(*p, "USER mrose\r\n"), "-ERR USER is not valid in the TRANSACTION state\r\n");
  EXPECT_EQ(send(*p, "AUTH PLAIN\r\n"), "-ERR AUTH is not valid in the TRANSACTION state\r\n");
}

TEST_F(Pop3Protocol, BadInputGetsAClearError) {
  auto p = session();
  EXPECT_EQ(send(*p, "XYZZY\r\n"), "-ERR unknown command\r\n");
  EXPECT_EQ(send(*p, "\r\n"), "-ERR empty command line\r\n");
  EXPECT_EQ(send(*p, "US\0ER a\r\n"s), "-ERR NUL bytes are not allowed in a command\r\n");
  EXPECT_EQ(send(*p, "\xff\xfe\x80\r\n"), "-ERR unknown command\r\n");
  EXPECT_EQ(send(*p, "USER\r\n"), "-ERR syntax error, expected USER name\r\n");
  EXPECT_EQ(send(*p, "APOP mrose\r\n"), "-ERR syntax error, expected APOP name digest\r\n");
  login(*p);
  EXPECT_EQ(send(*p, "STAT 1\r\n"), "-ERR syntax error, expected STAT\r\n");
  EXPECT_EQ(send(*p, "RETR\r\n"), "-ERR syntax error, expected RETR msg\r\n");
  EXPECT_EQ(send(*p, "RETR x\r\n"), "-ERR invalid message number\r\n");
  EXPECT_EQ(send(*p, "RETR 0\r\n"), "-ERR invalid message number\r\n");
  EXPECT_EQ(send(*p, "RETR 3\r\n"), "-ERR no such message, only 2 messages in maildrop\r\n");
  EXPECT_EQ(send(*p, "TOP 1 -1\r\n"), "-ERR invalid number of lines\r\n");
  EXPECT_EQ(send(*p, "LIST 1 2\r\n"), "-ERR syntax error, expected LIST [msg]\r\n");
  EXPECT_EQ(send(*p, "retr 1\n"), "+OK 23 octets\r\nSubject: one\r\n\r\nfirst\r\n.\r\n");
}

TEST_F(Pop3Protocol, EmptyMailbox) {
  store.find("mrose")->messages.clear();
  auto p = session();
  EXPECT_EQ(send(*p, "USER mrose\r\n"), "+OK send PASS\r\n");
  EXPECT_EQ(send(*p, "PASS tanstaaf\r\n"), "+OK mrose's maildrop has 0 messages (0 octets)\r\n");
  EXPECT_EQ(send(*p, "LIST\r\n"), "+OK 0 messages (0 octets)\r\n.\r\n");
  EXPECT_EQ(send(*p, "RETR 1\r\n"), "-ERR no such message, only 0 messages in maildrop\r\n");
  EXPECT_EQ(send(*p, "QUIT\r\n"), "+OK localhost POP3 server signing off (maildrop empty)\r\n");
}

}  // namespace
}  // namespace protofarm::pop3
