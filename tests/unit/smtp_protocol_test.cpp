// The SMTP state machine as conversations of strings: every verb's replies, the sequencing
// errors a real server gives, the extensions' parameters, AUTH, STARTTLS's reset, scripted
// replies keeping the state in step.
#include <gtest/gtest.h>

#include "fakes/common/bytes.hpp"
#include "fakes/common/digest.hpp"
#include "fakes/common/sasl.hpp"
#include "fakes/smtp/smtp_protocol.hpp"

namespace protofarm::smtp {
namespace {

class SmtpProtocol : public ::testing::Test {
 protected:
  void SetUp() override {
    options_.server = "mail";
    options_.extensions = default_extensions(true, true);
    options_.users = {{"alice", "secret"}};
    options_.tls_configured = true;
  }

  Protocol& start(bool tls = false) {
    proto_ = std::make_unique<Protocol>(options_, 1, tls);
    return *proto_;
  }

  // Sends one command line; returns the rendered reply ("" when there is none).
  std::string say(const std::string& line) {
    last_ = proto_->handle(parse_command(line + "\r\n"));
    return last_.reply ? proto_->render(*last_.reply) : std::string{};
  }
  std::string respond(const std::string& line) {
    last_ = proto_->auth_response(line + "\r\n");
    return last_.reply ? proto_->render(*last_.reply) : std::string{};
  }
  void greet_and_open() {
    say("EHLO client.test");
    ASSERT_EQ(say("MAIL FROM:<a@b.test>"), "250 2.1.0 Ok\r\n");
    ASSERT_EQ(say("RCPT TO:<c@d.test>"), "250 2.1.5 Ok\r\n");
  }

  Options options_;
  std::unique_ptr<Protocol> proto_;
  Outcome last_;
};

TEST_F(SmtpProtocol, Greeting) {
  start();
  EXPECT_EQ(proto_->render(proto_->greeting()), "220 localhost ESMTP protofarm\r\n");
  options_.greeting = {"mx.test ESMTP first", "second"};
  start();
  EXPECT_EQ(proto_->render(proto_->greeting()), "220-mx.test ESMTP first\r\n220 second\r\n");
}

TEST_F(SmtpProtocol, EhloAdvertisesTheExtensions) {
  start();
  EXPECT_EQ(say("EHLO client.test"),
            "250-localhost\r\n250-PIPELINING\r\n250-SIZE 10485760\r\n250-STARTTLS\r\n"
            "250-AUTH PLAIN LOGIN CRAM-MD5\r\n250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n"
            "250-SMTPUTF8\r\n250 CHUNKING\r\n");
}

TEST_F(SmtpProtocol, EhloInTheScenariosOrderWithVerbatimExtras) {
  options_.extensions = {"SIZE", "X-EXPERIMENT on", "PIPELINING"};
  options_.size_limit = 0;
  options_.hostname = "mx.test";
  start();
  EXPECT_EQ(say("EHLO c"), "250-mx.test\r\n250-SIZE\r\n250-X-EXPERIMENT on\r\n250 PIPELINING\r\n");
  // Without ENHANCEDSTATUSCODES, replies carry no enhanced codes (RFC 2034).
  EXPECT_EQ(say("NOOP"), "250 Ok\r\n");
}

TEST_F(SmtpProtocol, EhloAndHeloNeedAnArgument) {
  start();
  EXPECT_EQ(say("EHLO"), "501 5.5.4 Syntax: EHLO hostname\r\n");
  EXPECT_EQ(say("HELO"), "501 5.5.4 Syntax: HELO hostname\r\n");
  EXPECT_EQ(say("HELO c"), "250 localhost\r\n");
}

TEST_F(SmtpProtocol, AWholeTransaction) {
  start();
  greet_and_open();
  EXPECT_EQ(say("RCPT TO:<e@f.test>"), "250 2.1.5 Ok\r\n");
  EXPECT_EQ(say("DATA"), "354 End data with <CR><LF>.<CR><LF>\r\n");
  EXPECT_EQ(last_.effect, Effect::read_data);
  EXPECT_EQ(proto_->envelope().mail_from, "a@b.test");
  EXPECT_EQ(proto_->envelope().recipients, (std::vector<std::string>{"c@d.test", "e@f.test"}));
  const Outcome o = proto_->end_of_message(Body{10, 0}, 1);
  ASSERT_TRUE(o.reply);
  EXPECT_TRUE(o.accepted);
  EXPECT_EQ(proto_->render(*o.reply), "250 2.0.0 Ok: queued as " + o.queue_id + "\r\n");
  EXPECT_EQ(o.queue_id, queue_id(0, "mail", 1, 1));
  EXPECT_FALSE(proto_->in_transaction());
  EXPECT_EQ(say("QUIT"), "221 2.0.0 Bye\r\n");
  EXPECT_EQ(last_.effect, Effect::close);
}

TEST_F(SmtpProtocol, SequencingErrors) {
  start();
  EXPECT_EQ(say("MAIL FROM:<a@b.test>"), "503 5.5.1 Error: send HELO/EHLO first\r\n");
  EXPECT_EQ(say("RCPT TO:<a@b.test>"), "503 5.5.1 Error: need MAIL command\r\n");
  EXPECT_EQ(say("DATA"), "503 5.5.1 Error: need MAIL command\r\n");
  say("EHLO c");
  EXPECT_EQ(say("MAIL FROM:<a@b.test>"), "250 2.1.0 Ok\r\n");
  EXPECT_EQ(say("MAIL FROM:<a@b.test>"), "503 5.5.1 Error: nested MAIL command\r\n");
  EXPECT_EQ(say("DATA"), "503 5.5.1 Error: need RCPT command\r\n");
  EXPECT_EQ(say("RCPT TO:<bad"), "501 5.5.4 Syntax: RCPT TO:<address>\r\n");
  // RFC 5321 3.3: once RCPTs were tried and none was accepted, 554.
  EXPECT_EQ(say("DATA"), "554 5.5.1 Error: no valid recipients\r\n");
  EXPECT_EQ(say("RSET"), "250 2.0.0 Ok\r\n");
  EXPECT_EQ(say("RCPT TO:<a@b.test>"), "503 5.5.1 Error: need MAIL command\r\n");
}

TEST_F(SmtpProtocol, ArgumentsWhereNoneBelong) {
  start();
  say("EHLO c");
  EXPECT_EQ(say("RSET now"), "501 5.5.4 Syntax: RSET\r\n");
  EXPECT_EQ(say("STARTTLS please"), "501 5.5.4 Syntax: STARTTLS\r\n");
  greet_and_open();
  EXPECT_EQ(say("DATA now"), "501 5.5.4 Syntax: DATA\r\n");
}

TEST_F(SmtpProtocol, UnknownAndUnimplementedCommands) {
  start();
  EXPECT_EQ(say("FOO bar"), "500 5.5.2 Error: command not recognized\r\n");
  EXPECT_EQ(say(""), "500 5.5.2 Error: bad syntax\r\n");
  EXPECT_EQ(say("TURN"), "502 5.5.1 Error: command not implemented\r\n");
  EXPECT_EQ(say("EXPN staff"), "502 5.5.1 Error: EXPN not available\r\n");
  EXPECT_EQ(say("NOOP anything"), "250 2.0.0 Ok\r\n");
}

TEST_F(SmtpProtocol, NulAndEightBitInCommands) {
  start();
  EXPECT_EQ(say(std::string("NOOP a\0b", 8)), "500 5.5.2 Error: NUL character in command\r\n");
  EXPECT_EQ(say("NOOP caf\xc3\xa9"), "500 5.5.2 Error: 8-bit character in command\r\n");
  say("EHLO c");
  EXPECT_EQ(say("MAIL FROM:<a\xff@b.test>"), "500 5.5.2 Error: invalid UTF-8 in command\r\n");
}

TEST_F(SmtpProtocol, Smtputf8Addresses) {
  start();
  say("EHLO c");
  EXPECT_EQ(say("MAIL FROM:<j\xc3\xb6rg@b.test>"),
            "553 5.6.7 Must declare SMTPUTF8 to send a UTF-8 address\r\n");
  EXPECT_EQ(say("MAIL FROM:<j\xc3\xb6rg@b.test> SMTPUTF8"), "250 2.1.0 Ok\r\n");
  EXPECT_TRUE(proto_->envelope().smtputf8);
  EXPECT_EQ(say("RCPT TO:<\xc3\xbc@b\xc3\xbc.test>"), "250 2.1.5 Ok\r\n");
  options_.extensions = {"ENHANCEDSTATUSCODES"};
  start();
  say("EHLO c");
  EXPECT_EQ(say("MAIL FROM:<a@b.test> SMTPUTF8"), "555 5.5.4 Unsupported option: SMTPUTF8\r\n");
}

TEST_F(SmtpProtocol, MailParameters) {
  options_.size_limit = 1000;
  start();
  say("EHLO c");
  EXPECT_EQ(say("MAIL FROM:<a@b.test> SIZE=1001"),
            "552 5.3.4 Message size exceeds fixed limit\r\n");
  EXPECT_EQ(say("MAIL FROM:<a@b.test> SIZE=big"), "501 5.5.4 Bad message size syntax\r\n");
  EXPECT_EQ(say("MAIL FROM:<a@b.test> BODY=9BIT"), "501 5.5.4 Bad BODY keyword value\r\n");
  EXPECT_EQ(say("MAIL FROM:<a@b.test> BODY=BINARYMIME"), "501 5.5.4 Bad BODY keyword value\r\n");
  EXPECT_EQ(say("MAIL FROM:<a@b.test> RET=FULL"), "555 5.5.4 Unsupported option: RET\r\n");
  EXPECT_EQ(say("MAIL FROM:<a@b.test> SIZE=1000 BODY=8bitmime AUTH=<>"), "250 2.1.0 Ok\r\n");
  EXPECT_EQ(proto_->envelope().declared_size, 1000u);
  EXPECT_EQ(proto_->envelope().body, "8BITMIME");
  EXPECT_EQ(say("RCPT TO:<c@d.test> NOTIFY=NEVER"), "555 5.5.4 Unsupported option: NOTIFY\r\n");
}

TEST_F(SmtpProtocol, DsnParametersWhenAdvertised) {
  options_.extensions.push_back("DSN");
  start();
  say("EHLO c");
  EXPECT_EQ(say("MAIL FROM:<a@b.test> RET=HDRS ENVID=x1"), "250 2.1.0 Ok\r\n");
  EXPECT_EQ(say("RCPT TO:<c@d.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;c@d.test"),
            "250 2.1.5 Ok\r\n");
}

TEST_F(SmtpProtocol, NoParametersAfterHelo) {
  start();
  say("HELO c");
  EXPECT_EQ(say("MAIL FROM:<a@b.test> SIZE=10"), "555 5.5.4 Unsupported option: SIZE\r\n");
  EXPECT_EQ(say("MAIL FROM:<a@b.test>"), "250 2.1.0 Ok\r\n");
}

TEST_F(SmtpProtocol, BadAddresses) {
  start();
  say("EHLO c");
  EXPECT_EQ(say("MAIL FROM:a@b.test"), "501 5.5.4 Syntax: MAIL FROM:<address>\r\n");
  EXPECT_EQ(say("MAIL FROM:<a@@b>"), "501 5.1.7 Bad sender address syntax\r\n");
  EXPECT_EQ(say("MAIL FROM:<>"), "250 2.1.0 Ok\r\n");
  EXPECT_EQ(say("RCPT TO:<>"), "501 5.1.3 Bad recipient address syntax\r\n");
}

TEST_F(SmtpProtocol, TooManyRecipients) {
  options_.max_recipients = 2;
  start();
  say("EHLO c");
  say("MAIL FROM:<a@b.test>");
  EXPECT_EQ(say("RCPT TO:<1@b.test>"), "250 2.1.5 Ok\r\n");
  EXPECT_EQ(say("RCPT TO:<2@b.test>"), "250 2.1.5 Ok\r\n");
  EXPECT_EQ(say("RCPT TO:<3@b.test>"), "452 4.5.3 Error: too many recipients\r\n");
}

TEST_F(SmtpProtocol, MessageOverTheLimitOrWithLongLines) {
  options_.size_limit = 100;
  start();
  greet_and_open();
  say("DATA");
  Outcome o = proto_->end_of_message(Body{101, 0}, 1);
  EXPECT_EQ(proto_->render(*o.reply), "552 5.3.4 Message size exceeds fixed limit\r\n");
  EXPECT_FALSE(o.accepted);
  EXPECT_EQ(o.reason, "size");
  greet_and_open();
  say("DATA");
  o = proto_->end_of_message(Body{50, 1}, 2);
  EXPECT_EQ(proto_->render(*o.reply), "500 5.5.2 Error: line too long\r\n");
  EXPECT_EQ(o.reason, "line_too_long");
}

TEST_F(SmtpProtocol, Vrfy) {
  start();
  EXPECT_EQ(say("VRFY"), "501 5.5.4 Syntax: VRFY address\r\n");
  EXPECT_EQ(say("VRFY alice"), "250 2.1.5 <alice@localhost>\r\n");
  EXPECT_EQ(say("VRFY <alice@localhost>"), "250 2.1.5 <alice@localhost>\r\n");
  EXPECT_EQ(say("VRFY bob"),
            "252 2.0.0 Cannot VRFY user, but will accept message and attempt delivery\r\n");
}

TEST_F(SmtpProtocol, Help) {
  start();
  EXPECT_EQ(say("HELP"),
            "214-2.0.0 Commands: HELO EHLO MAIL RCPT DATA BDAT RSET NOOP VRFY HELP QUIT STARTTLS "
            "AUTH\r\n214 2.0.0 End of HELP info\r\n");
}

// --- BDAT --------------------------------------------------------------------------------------

TEST_F(SmtpProtocol, Chunking) {
  start();
  greet_and_open();
  const Command first = parse_command("BDAT 5\r\n");
  ASSERT_TRUE(proto_->bdat_args(first));
  EXPECT_EQ(proto_->bdat_args(first)->size, 5u);
  Outcome o = proto_->bdat(first, "Hello", 5);
  EXPECT_EQ(proto_->render(*o.reply), "250 2.0.0 Ok: 5 octets received\r\n");
  EXPECT_EQ(say("DATA"), "503 5.5.1 Error: DATA after BDAT\r\n");
  o = proto_->bdat(parse_command("BDAT 3 LAST\r\n"), "!\r\n", 3);
  EXPECT_FALSE(o.reply);
  EXPECT_EQ(o.effect, Effect::message);
  EXPECT_EQ(proto_->chunk_total(), 8u);
  EXPECT_EQ(proto_->take_chunks(), "Hello!\r\n");
  o = proto_->end_of_message(Body{}, 1);
  EXPECT_TRUE(o.accepted);
}

TEST_F(SmtpProtocol, ChunkingErrors) {
  options_.size_limit = 10;
  start();
  say("EHLO c");
  // Not in a transaction: the chunk is read, then refused.
  const Command c = parse_command("BDAT 4\r\n");
  EXPECT_TRUE(proto_->bdat_args(c));
  EXPECT_EQ(proto_->chunk_room(), 0u);
  EXPECT_EQ(proto_->render(*proto_->bdat(c, "", 4).reply),
            "503 5.5.1 Error: need MAIL command\r\n");
  EXPECT_FALSE(proto_->bdat_args(parse_command("BDAT x\r\n")));
  EXPECT_EQ(say("BDAT x"), "501 5.5.4 Syntax: BDAT count [LAST]\r\n");
  greet_and_open();
  EXPECT_EQ(proto_->chunk_room(), 11u);
  const Outcome o = proto_->bdat(parse_command("BDAT 11\r\n"), "01234567890", 11);
  EXPECT_EQ(proto_->render(*o.reply), "552 5.3.4 Message size exceeds fixed limit\r\n");
  ASSERT_EQ(o.events.size(), 1u);
  EXPECT_EQ(o.events[0].first, "message_aborted");
  EXPECT_FALSE(proto_->in_transaction());
}

TEST_F(SmtpProtocol, NoBdatWithoutChunking) {
  options_.extensions = {"PIPELINING", "ENHANCEDSTATUSCODES"};
  start();
  greet_and_open();
  EXPECT_FALSE(proto_->bdat_args(parse_command("BDAT 4 LAST\r\n")));
  EXPECT_EQ(say("BDAT 4 LAST"), "502 5.5.1 Error: command not implemented\r\n");
}

// --- STARTTLS ------------------------------------------------------------------------------------

TEST_F(SmtpProtocol, StarttlsResetsTheSession) {
  start();
  greet_and_open();
  EXPECT_EQ(say("STARTTLS"), "220 2.0.0 Ready to start TLS\r\n");
  EXPECT_EQ(last_.effect, Effect::start_tls);
  proto_->tls_started();
  EXPECT_FALSE(proto_->in_transaction());
  // RFC 3207 4.2: the client must say EHLO again; STARTTLS is no longer offered.
  EXPECT_EQ(say("MAIL FROM:<a@b.test>"), "503 5.5.1 Error: send HELO/EHLO first\r\n");
  const std::string ehlo = say("EHLO c");
  EXPECT_EQ(ehlo.find("STARTTLS"), std::string::npos);
  EXPECT_EQ(say("STARTTLS"), "503 5.5.1 Error: TLS already active\r\n");
}

TEST_F(SmtpProtocol, StarttlsAdvertisedWithoutTls) {
  options_.tls_configured = false;
  start();
  say("EHLO c");
  EXPECT_EQ(say("STARTTLS"), "454 4.7.0 TLS not available due to temporary reason\r\n");
  options_.extensions = {"PIPELINING", "ENHANCEDSTATUSCODES"};
  start();
  EXPECT_EQ(say("STARTTLS"), "502 5.5.1 Error: command not implemented\r\n");
}

TEST_F(SmtpProtocol, RequireTls) {
  options_.require_tls = true;
  start();
  say("EHLO c");
  EXPECT_EQ(say("MAIL FROM:<a@b.test>"), "530 5.7.0 Must issue a STARTTLS command first\r\n");
  EXPECT_EQ(say("AUTH PLAIN"), "530 5.7.0 Must issue a STARTTLS command first\r\n");
  EXPECT_EQ(say("EHLO c").find("AUTH"), std::string::npos);  // not offered before TLS
  start(true);                                               // implicit TLS
  EXPECT_NE(say("EHLO c").find("AUTH PLAIN"), std::string::npos);
  EXPECT_EQ(say("MAIL FROM:<a@b.test>"), "250 2.1.0 Ok\r\n");
}

// --- AUTH
// ------------------------------------------------------------------------------------------

TEST_F(SmtpProtocol, AuthPlainWithInitialResponse) {
  start();
  say("EHLO c");
  const std::string ok = base64_encode(std::string("\0alice\0secret", 13));
  EXPECT_EQ(say("AUTH PLAIN " + ok), "235 2.7.0 Authentication successful\r\n");
  EXPECT_TRUE(proto_->authenticated());
  EXPECT_EQ(proto_->user(), "alice");
  ASSERT_EQ(last_.events.size(), 1u);
  EXPECT_EQ(last_.events[0].first, "auth");
  EXPECT_EQ(last_.events[0].second["success"], true);
  EXPECT_EQ(say("AUTH PLAIN " + ok), "503 5.5.1 Error: already authenticated\r\n");
}

TEST_F(SmtpProtocol, AuthPlainInTwoSteps) {
  start();
  say("EHLO c");
  EXPECT_EQ(say("AUTH PLAIN"), "334 \r\n");
  EXPECT_EQ(last_.effect, Effect::auth);
  EXPECT_EQ(respond(base64_encode(std::string("\0alice\0wrong", 12))),
            "535 5.7.8 Authentication credentials invalid\r\n");
  EXPECT_EQ(last_.events[0].second["success"], false);
  EXPECT_FALSE(proto_->authenticated());
}

TEST_F(SmtpProtocol, AuthLogin) {
  start();
  say("EHLO c");
  EXPECT_EQ(say("AUTH LOGIN"), "334 VXNlcm5hbWU6\r\n");
  EXPECT_EQ(respond(base64_encode("alice")), "334 UGFzc3dvcmQ6\r\n");
  EXPECT_EQ(respond(base64_encode("secret")), "235 2.7.0 Authentication successful\r\n");
}

TEST_F(SmtpProtocol, AuthLoginWithInitialUser) {
  start();
  say("EHLO c");
  EXPECT_EQ(say("AUTH LOGIN " + base64_encode("alice")), "334 UGFzc3dvcmQ6\r\n");
  EXPECT_EQ(respond(base64_encode("nope")), "535 5.7.8 Authentication credentials invalid\r\n");
}

TEST_F(SmtpProtocol, AuthCramMd5) {
  start();
  say("EHLO c");
  const std::string challenge_line = say("AUTH CRAM-MD5");
  ASSERT_EQ(challenge_line.substr(0, 4), "334 ");
  const auto challenge = decode_sasl_base64(challenge_line.substr(4, challenge_line.size() - 6));
  ASSERT_TRUE(challenge);
  const std::string answer = "alice " + hmac_md5_hex("secret", *challenge);
  EXPECT_EQ(respond(base64_encode(answer)), "235 2.7.0 Authentication successful\r\n");
}

TEST_F(SmtpProtocol, AuthErrors) {
  start();
  EXPECT_EQ(say("AUTH PLAIN"), "503 5.5.1 Error: send EHLO first\r\n");
  say("EHLO c");
  EXPECT_EQ(say("AUTH"), "501 5.5.4 Syntax: AUTH mechanism\r\n");
  EXPECT_EQ(say("AUTH GSSAPI"), "504 5.5.4 Unrecognized authentication type\r\n");
  EXPECT_EQ(say("AUTH PLAIN !!!"), "501 5.5.2 Cannot decode response\r\n");
  EXPECT_EQ(say("AUTH CRAM-MD5 " + base64_encode("x")),
            "501 5.5.2 Initial response not allowed\r\n");
  say("AUTH LOGIN");
  EXPECT_EQ(respond("*"), "501 5.7.0 Authentication aborted\r\n");
  say("AUTH LOGIN");
  EXPECT_EQ(respond("not base64"), "501 5.5.2 Cannot decode response\r\n");
  say("MAIL FROM:<a@b.test>");
  EXPECT_EQ(say("AUTH PLAIN"), "503 5.5.1 Error: MAIL transaction in progress\r\n");
  options_.extensions = {"ENHANCEDSTATUSCODES"};
  start();
  say("EHLO c");
  EXPECT_EQ(say("AUTH PLAIN"), "502 5.5.1 Error: authentication not enabled\r\n");
}

TEST_F(SmtpProtocol, RequireAuth) {
  options_.require_auth = true;
  start();
  say("EHLO c");
  EXPECT_EQ(say("MAIL FROM:<a@b.test>"), "530 5.7.0 Authentication required\r\n");
  say("AUTH PLAIN " + base64_encode(std::string("\0alice\0secret", 13)));
  EXPECT_EQ(say("MAIL FROM:<a@b.test>"), "250 2.1.0 Ok\r\n");
}

// --- scripted replies ---------------------------------------------------------------------------

TEST_F(SmtpProtocol, ScriptedRepliesKeepTheStateInStep) {
  start();
  EXPECT_EQ(proto_->follow_reply(parse_command("EHLO c\r\n"), 250), Effect::none);
  EXPECT_EQ(proto_->follow_reply(parse_command("MAIL FROM:<a@b.test>\r\n"), 250), Effect::none);
  EXPECT_TRUE(proto_->in_transaction());
  proto_->follow_reply(parse_command("RCPT TO:<x@y.test>\r\n"), 550);
  EXPECT_TRUE(proto_->envelope().recipients.empty());
  proto_->follow_reply(parse_command("RCPT TO:<c@d.test>\r\n"), 251);
  EXPECT_EQ(proto_->envelope().recipients, std::vector<std::string>{"c@d.test"});
  EXPECT_EQ(proto_->follow_reply(parse_command("DATA\r\n"), 354), Effect::read_data);
  EXPECT_EQ(proto_->follow_reply(Command{"MESSAGE", ""}, 250), Effect::none);
  EXPECT_FALSE(proto_->in_transaction());
  EXPECT_EQ(proto_->follow_reply(parse_command("DATA\r\n"), 451), Effect::none);
  EXPECT_EQ(proto_->follow_reply(parse_command("STARTTLS\r\n"), 220), Effect::start_tls);
  EXPECT_EQ(proto_->follow_reply(parse_command("NOOP\r\n"), 421), Effect::close);
  EXPECT_EQ(proto_->follow_reply(parse_command("QUIT\r\n"), 0), Effect::close);
}

TEST_F(SmtpProtocol, ScriptedGreeting554MeansNoService) {
  start();
  EXPECT_EQ(proto_->follow_reply(Command{"CONNECT", ""}, 554), Effect::none);
  EXPECT_EQ(say("EHLO c"), "503 5.5.1 Error: no SMTP service here\r\n");
  EXPECT_EQ(say("QUIT"), "221 2.0.0 Bye\r\n");
  start();
  EXPECT_EQ(proto_->follow_reply(Command{"CONNECT", ""}, 421), Effect::close);
}

TEST_F(SmtpProtocol, ScriptedBdat) {
  start();
  greet_and_open();
  EXPECT_EQ(proto_->follow_reply(parse_command("BDAT 2\r\n"), 250, "ab", 2), Effect::none);
  EXPECT_EQ(proto_->follow_reply(parse_command("BDAT 1 LAST\r\n"), 250, "c", 1),
            Effect::accept_message);
  EXPECT_EQ(proto_->take_chunks(), "abc");
  greet_and_open();
  proto_->follow_reply(parse_command("BDAT 2\r\n"), 250, "ab", 2);
  proto_->follow_reply(parse_command("BDAT 2\r\n"), 452, "cd", 2);
  EXPECT_FALSE(proto_->in_transaction());
}

}  // namespace
}  // namespace protofarm::smtp
