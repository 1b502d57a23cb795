// The ftp fake as the farm runs it, without a network: scenario keys through the farm's own
// loader, and whole control sessions in memory (no data connection is opened here; transfers
// are covered by ftp_protocol_test and the end-to-end tests).
#include <gtest/gtest.h>

#include <string>

#include "fakes/ftp/ftp_fake.hpp"
#include "tests/unit/fake_fixture.hpp"

namespace protofarm {
namespace {

using namespace std::string_literals;

class FtpFake : public FakeFixture {
 protected:
  FtpFake() : FakeFixture("ftp", "ftp", ftp::factory()) {}
};

constexpr const char* kGreeting = "220 protofarm FTP ready\r\n";

constexpr const char* kTree = R"(
protocol: ftp
tree:
  /pub/readme.txt: hello
  /pub/big.bin: {size: 1MiB, mtime: "2025-06-30T12:00:00Z"}
  /pub/empty/: {}
)";

TEST_F(FtpFake, ServesAWholeControlSession) {
  ASSERT_EQ(load(kTree), "");
  EXPECT_EQ(converse_in_memory("USER anonymous\r\nPASS guest@example.test\r\nPWD\r\nCWD pub\r\n"
                               "PWD\r\nSIZE big.bin\r\nMDTM big.bin\r\nTYPE I\r\nQUIT\r\n"),
            std::string(kGreeting) +
                "331 Please specify the password.\r\n"
                "230 Login successful.\r\n"
                "257 \"/\" is the current directory\r\n"
                "250 Directory successfully changed.\r\n"
                "257 \"/pub\" is the current directory\r\n"
                "213 1048576\r\n"
                "213 20250630120000\r\n"
                "200 Switching to Binary mode.\r\n"
                "221 Goodbye.\r\n");
}

TEST_F(FtpFake, QuitEndsTheSessionWhateverFollows) {
  ASSERT_EQ(load(kTree), "");
  EXPECT_EQ(converse_in_memory("QUIT\r\nNOOP\r\nNOOP\r\n"),
            std::string(kGreeting) + "221 Goodbye.\r\n");
}

TEST_F(FtpFake, StatListsOverTheControlConnection) {
  ASSERT_EQ(load(kTree), "");
  // The scenario's clock (2026-01-01) is both the default mtime and "now": the time for
  // what is recent, the year for big.bin (six months old).
  const std::string out = converse_in_memory("USER ftp\r\nPASS\r\nSTAT /pub\r\nQUIT\r\n");
  EXPECT_NE(out.find("213-Status follows:\r\n"
                     " -rw-r--r--   1 ftp      ftp       1048576 Jun 30  2025 big.bin\r\n"
                     " drwxr-xr-x   2 ftp      ftp             0 Jan 01 00:00 empty\r\n"
                     " -rw-r--r--   1 ftp      ftp             5 Jan 01 00:00 readme.txt\r\n"
                     "213 End of status\r\n221 Goodbye.\r\n"),
            std::string::npos)
      << out;
}

TEST_F(FtpFake, TooLongLineGets500AndTheSessionGoesOn) {
  ASSERT_EQ(load(kTree), "");
  const std::string out =
      converse_in_memory("NOOP " + std::string(5000, 'a') + "\r\nNOOP\r\nQUIT\r\n");
  EXPECT_EQ(out, std::string(kGreeting) +
                     "500 Command line too long (the limit is 4096 bytes).\r\n"
                     "200 NOOP ok.\r\n"
                     "221 Goodbye.\r\n");
}

TEST_F(FtpFake, MaxLineSetsTheCommandLimit) {
  ASSERT_EQ(load(std::string(kTree) + "max_line: 100\n"), "");
  const std::string out =
      converse_in_memory("USER " + std::string(200, 'a') + "\r\nNOOP\r\nQUIT\r\n");
  EXPECT_EQ(out, std::string(kGreeting) +
                     "500 Command line too long (the limit is 100 bytes).\r\n"
                     "200 NOOP ok.\r\n"
                     "221 Goodbye.\r\n");
}

TEST_F(FtpFake, EndlessLineEndsTheSession) {
  ASSERT_EQ(load(kTree), "");
  // More than 1 MiB without a line feed is not FTP: 500, then the connection is closed.
  const std::string out =
      converse_in_memory("NOOP " + std::string(std::size_t{2} << 20, 'a') + "\r\nNOOP\r\n");
  EXPECT_EQ(out,
            std::string(kGreeting) + "500 Command line too long (the limit is 4096 bytes).\r\n");
}

TEST_F(FtpFake, BinaryJunkGetsAnErrorAndTheSessionGoesOn) {
  ASSERT_EQ(load(kTree), "");
  const std::string out = converse_in_memory("\x00\x01\x02\r\n\x80\x81\xfe\r\n\r\n"s +
                                             "USER anonymous\r\nPASS x\r\nNOOP\r\nQUIT\r\n");
  EXPECT_EQ(out, std::string(kGreeting) +
                     "500 Unknown command.\r\n"  // RFC 959 4.2: no command, whatever it holds
                     "500 Unknown command.\r\n"
                     "500 Unknown command.\r\n"
                     "331 Please specify the password.\r\n"
                     "230 Login successful.\r\n"
                     "200 NOOP ok.\r\n"
                     "221 Goodbye.\r\n");
}

TEST_F(FtpFake, BareLineFeedsAreAccepted) {
  ASSERT_EQ(load(kTree), "");
  EXPECT_EQ(converse_in_memory("USER anonymous\nPASS x\nPWD\nQUIT\n"),
            std::string(kGreeting) +
                "331 Please specify the password.\r\n"
                "230 Login successful.\r\n"
                "257 \"/\" is the current directory\r\n"
                "221 Goodbye.\r\n");
}

TEST_F(FtpFake, UsersAndHomes) {
  ASSERT_EQ(load(R"(
protocol: ftp
greeting: "ftp.example.test ready"
users:
  alice: {password: secret, home: /home/alice, write: true}
tree:
  /home/alice/: {write: true}
)"),
            "");
  const std::string out = converse_in_memory(
      "USER anonymous\r\nPASS x\r\nUSER alice\r\nPASS wrong\r\nUSER alice\r\nPASS secret\r\n"
      "PWD\r\nMKD docs\r\nQUIT\r\n");
  EXPECT_EQ(out,
            "220 ftp.example.test ready\r\n"
            "331 Please specify the password.\r\n"
            "530 Login incorrect.\r\n"  // once users are listed, anonymous is not among them
            "331 Please specify the password.\r\n"
            "530 Login incorrect.\r\n"
            "331 Please specify the password.\r\n"
            "230 Login successful.\r\n"
            "257 \"/home/alice\" is the current directory\r\n"
            "257 \"/home/alice/docs\" created\r\n"
            "221 Goodbye.\r\n");
  const std::string doc = session_doc(1);
  EXPECT_NE(doc.find("login_failed"), std::string::npos) << doc;
  // The folder made lasts for the rest of the run.
  EXPECT_NE(converse_in_memory("USER alice\r\nPASS secret\r\nCWD docs\r\nQUIT\r\n")
                .find("250 Directory successfully changed.\r\n"),
            std::string::npos);
}

TEST_F(FtpFake, ScriptedFailureOnceThenCwdWorks) {
  ASSERT_EQ(load(std::string(kTree) + R"(
rules:
  - {on: CWD, times: 1, reply: "550 try again"}
)"),
            "");
  // A scripted 550 changes nothing: the working folder stays; the next CWD is the fake's own.
  EXPECT_EQ(converse_in_memory(
                "USER anonymous\r\nPASS x\r\nCWD /pub\r\nPWD\r\nCWD /pub\r\nPWD\r\nQUIT\r\n"),
            std::string(kGreeting) +
                "331 Please specify the password.\r\n"
                "230 Login successful.\r\n"
                "550 try again\r\n"
                "257 \"/\" is the current directory\r\n"
                "250 Directory successfully changed.\r\n"
                "257 \"/pub\" is the current directory\r\n"
                "221 Goodbye.\r\n");
}

TEST_F(FtpFake, Scripted230ToPassLogsIn) {
  ASSERT_EQ(load(std::string(kTree) + R"(
users:
  alice: {password: secret}
rules:
  - {on: PASS, reply: "230 Welcome, whoever you are"}
)"),
            "");
  EXPECT_EQ(converse_in_memory("USER mallory\r\nPASS nothing\r\nPWD\r\nQUIT\r\n"),
            std::string(kGreeting) +
                "331 Please specify the password.\r\n"
                "230 Welcome, whoever you are\r\n"
                "257 \"/\" is the current directory\r\n"
                "221 Goodbye.\r\n");
}

TEST_F(FtpFake, Scripted421GreetingCloses) {
  ASSERT_EQ(load(std::string(kTree) + R"(
rules:
  - {on: connect, reply: "421 Service not available, closing control connection."}
)"),
            "");
  EXPECT_EQ(converse_in_memory("USER anonymous\r\nPASS x\r\n"),
            "421 Service not available, closing control connection.\r\n");
}

TEST_F(FtpFake, TransferWithoutDataConnection) {
  ASSERT_EQ(load(kTree), "");
  EXPECT_EQ(converse_in_memory("USER anonymous\r\nPASS x\r\nRETR /pub/readme.txt\r\nQUIT\r\n"),
            std::string(kGreeting) +
                "331 Please specify the password.\r\n"
                "230 Login successful.\r\n"
                "425 Use PORT or PASV first.\r\n"
                "221 Goodbye.\r\n");
}

TEST_F(FtpFake, PassiveNeedsATcpControlConnection) {
  ASSERT_EQ(load(kTree), "");
  // Over a Unix socketpair there is no address for a 227 reply.
  EXPECT_EQ(converse("USER anonymous\r\nPASS x\r\nPASV\r\nRETR /pub/readme.txt\r\nQUIT\r\n"),
            std::string(kGreeting) +
                "331 Please specify the password.\r\n"
                "230 Login successful.\r\n"
                "425 Passive mode needs a TCP control connection.\r\n"
                "425 Use PORT or PASV first.\r\n"
                "221 Goodbye.\r\n");
}

TEST_F(FtpFake, TreePathsMustBePlain) {
  const std::string e = load("protocol: ftp\ntree:\n  /a/../b: x\n");
  EXPECT_NE(e.find("'/a/../b' is not a plain path (no .., backslashes or NUL bytes)"),
            std::string::npos)
      << e;
}

}  // namespace
}  // namespace protofarm
