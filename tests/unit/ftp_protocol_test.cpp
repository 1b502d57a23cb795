// The FTP state machine as whole conversations, without sockets: every reply byte for byte,
// login, the tree commands and their permissions, transfer parameters, what a transfer command
// asks the session to do, FTPS sequencing (RFC 4217), and how scripted replies keep the state.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>

#include "fakes/ftp/ftp_protocol.hpp"

namespace protofarm::ftp {
namespace {

using namespace std::string_literals;

TimePoint utc(int y, unsigned m, unsigned d, int h = 0, int mi = 0, int s = 0) {
  return std::chrono::sys_days{std::chrono::year{y} / std::chrono::month{m} / std::chrono::day{d}} +
         std::chrono::hours{h} + std::chrono::minutes{mi} + std::chrono::seconds{s};
}

// The scenario clock: the tree's default time and the protocol's "now".
const TimePoint kNow = utc(2026, 1, 1);
constexpr const char* kPeer = "192.0.2.10";

Content text(std::string s) {
  Content c;
  c.bytes = std::make_shared<const std::string>(std::move(s));
  return c;
}

class FtpProtocol : public ::testing::Test {
 protected:
  void SetUp() override {
    // /pub: read-only; /incoming: writable; /home/alice: alice's writable home.
    tree.put_file("/pub/readme.txt", text("hello"), utc(2020, 1, 1));
    tree.make_dirs("/pub/empty");
    tree.put_file("/incoming/old.txt", text("0123456789"), utc(2020, 1, 1));
    tree.find("/incoming")->write = true;
    tree.make_dirs("/home/alice")->write = true;
    config.users.emplace("anonymous", User{});
    config.users.emplace("ftp", User{});
    config.users.emplace("alice", User{"secret", "/home/alice", true});
  }

  std::unique_ptr<Protocol> session(std::string peer = kPeer, bool tls = false) {
    return std::make_unique<Protocol>(config, tree, std::move(peer), tls, kNow);
  }
  static Reply handle(Protocol& p, std::string_view line) { return p.handle(parse_command(line)); }
  static std::string send(Protocol& p, std::string_view line) { return handle(p, line).bytes; }
  static void login(Protocol& p, const std::string& user, const std::string& password) {
    ASSERT_EQ(send(p, "USER " + user + "\r\n"), "331 Please specify the password.\r\n");
    ASSERT_EQ(send(p, "PASS " + password + "\r\n"), "230 Login successful.\r\n");
  }
  static void anonymous(Protocol& p) { login(p, "anonymous", "guest@example.test"); }
  static void alice(Protocol& p) { login(p, "alice", "secret"); }
  // PASV, the session opening the port, then `line`.
  static Reply passive_then(Protocol& p, std::string_view line) {
    const Reply pasv = handle(p, "PASV\r\n");
    EXPECT_EQ(pasv.effect, Effect::passive);
    p.passive_opened();
    return handle(p, line);
  }
  std::string content_of(std::string_view path) const {
    const Node* n = tree.find(path);
    if (!n || n->dir) return "<none>";
    return read_content(n->content, 0, 1 << 20);
  }

  Config config;
  FileTree tree{kNow};
};

// --- greeting and access control (RFC 959 4.1.1, 5.4) ------------------------------------------

TEST_F(FtpProtocol, Greeting) {
  auto p = session();
  EXPECT_EQ(p->greeting(), "220 protofarm FTP ready\r\n");
  // Text without a code gets 220; a code given is kept.
  config.greeting = "Welcome to the fake";
  EXPECT_EQ(p->greeting(), "220 Welcome to the fake\r\n");
  config.greeting = "421 Too many users";
  EXPECT_EQ(p->greeting(), "421 Too many users\r\n");
}

TEST_F(FtpProtocol, OnlyLoginAndInformationBeforeLogin) {
  auto p = session();
  for (const char* line :
       {"PWD\r\n", "CWD /pub\r\n", "RETR /pub/readme.txt\r\n", "LIST\r\n", "PASV\r\n", "EPSV\r\n",
        "TYPE I\r\n", "SIZE /pub/readme.txt\r\n", "MKD /x\r\n", "STAT /pub\r\n"})
    EXPECT_EQ(send(*p, line), "530 Please login with USER and PASS.\r\n") << line;
  EXPECT_EQ(send(*p, "SYST\r\n"), "215 UNIX Type: L8\r\n");
  EXPECT_EQ(send(*p, "NOOP\r\n"), "200 NOOP ok.\r\n");
  EXPECT_EQ(send(*p, "HELP USER\r\n"), "214 Syntax: USER <name>\r\n");
  EXPECT_EQ(send(*p, "ABOR\r\n"), "225 No transfer to ABOR.\r\n");
  EXPECT_FALSE(p->logged_in());
}

TEST_F(FtpProtocol, BadCommands) {
  auto p = session();
  // RFC 959 4.2: 500 for an unknown command, 501 for a bad argument.
  EXPECT_EQ(send(*p, "SITE CHMOD 777 x\r\n"), "500 Unknown command.\r\n");
  EXPECT_EQ(send(*p, "\r\n"), "500 Unknown command.\r\n");
  EXPECT_EQ(send(*p, "USER\r\n"), "501 USER needs an argument: USER <name>\r\n");
  EXPECT_EQ(send(*p, "USER a\0b\r\n"s), "501 Syntax error: NUL byte in the argument.\r\n");
  EXPECT_EQ(send(*p, "PASS x\r\n"), "503 Login with USER first.\r\n");
}

TEST_F(FtpProtocol, AnonymousTakesAnyPasswordAndAnyCase) {
  auto p = session();
  // RFC 1635: "anonymous" in any case, any password (an e-mail address by custom).
  EXPECT_EQ(send(*p, "USER AnonYmous\r\n"), "331 Please specify the password.\r\n");
  const Reply r = handle(*p, "PASS whoever@example.test\r\n");
  EXPECT_EQ(r.bytes, "230 Login successful.\r\n");
  EXPECT_EQ(r.effect, Effect::none);
  ASSERT_EQ(r.events.size(), 1u);
  EXPECT_EQ(r.events[0].first, "login");
  EXPECT_EQ(r.events[0].second["user"], "anonymous");
  EXPECT_TRUE(p->logged_in());
  EXPECT_EQ(p->cwd(), "/");
  EXPECT_EQ(send(*p, "PASS again\r\n"), "230 Already logged in.\r\n");

  auto q = session();
  EXPECT_EQ(send(*q, "USER FTP\r\n"), "331 Please specify the password.\r\n");
  const Reply empty = handle(*q, "PASS\r\n");  // no password at all
  EXPECT_EQ(empty.bytes, "230 Login successful.\r\n");
  ASSERT_EQ(empty.events.size(), 1u);
  EXPECT_EQ(empty.events[0].second["user"], "ftp");
}

TEST_F(FtpProtocol, AnonymousOnlyWhenListed) {
  config.users.erase("ftp");
  {
    auto p = session();
    // "ftp" is anonymous too.
    EXPECT_EQ(send(*p, "USER ftp\r\n"), "331 Please specify the password.\r\n");
    const Reply r = handle(*p, "PASS x\r\n");
    EXPECT_EQ(r.bytes, "230 Login successful.\r\n");
    EXPECT_EQ(r.events.at(0).second["user"], "anonymous");
  }
  // Without them in the users, no anonymous login.
  config.users.erase("anonymous");
  auto q = session();
  EXPECT_EQ(send(*q, "USER anonymous\r\n"), "331 Please specify the password.\r\n");
  EXPECT_EQ(send(*q, "PASS x\r\n"), "530 Login incorrect.\r\n");
  EXPECT_FALSE(q->logged_in());
}

TEST_F(FtpProtocol, UserWithAPassword) {
  auto p = session();
  EXPECT_EQ(send(*p, "USER alice\r\n"), "331 Please specify the password.\r\n");
  const Reply bad = handle(*p, "PASS wrong\r\n");
  EXPECT_EQ(bad.bytes, "530 Login incorrect.\r\n");
  ASSERT_EQ(bad.events.size(), 1u);
  EXPECT_EQ(bad.events[0].first, "login_failed");
  EXPECT_EQ(bad.events[0].second["user"], "alice");
  EXPECT_FALSE(p->logged_in());
  // The USER is forgotten after a failure.
  EXPECT_EQ(send(*p, "PASS secret\r\n"), "503 Login with USER first.\r\n");
  // Passwords and user names are compared exactly.
  EXPECT_EQ(send(*p, "USER alice\r\n"), "331 Please specify the password.\r\n");
  EXPECT_EQ(send(*p, "PASS SECRET\r\n"), "530 Login incorrect.\r\n");
  EXPECT_EQ(send(*p, "USER Alice\r\n"), "331 Please specify the password.\r\n");
  EXPECT_EQ(send(*p, "PASS secret\r\n"), "530 Login incorrect.\r\n");
  EXPECT_EQ(send(*p, "USER nobody\r\n"), "331 Please specify the password.\r\n");
  EXPECT_EQ(send(*p, "PASS secret\r\n"), "530 Login incorrect.\r\n");
  // Right: the session starts in the home folder.
  EXPECT_EQ(send(*p, "USER alice\r\n"), "331 Please specify the password.\r\n");
  const Reply ok = handle(*p, "PASS secret\r\n");
  EXPECT_EQ(ok.bytes, "230 Login successful.\r\n");
  EXPECT_EQ(ok.events.at(0).first, "login");
  EXPECT_EQ(ok.events.at(0).second["user"], "alice");
  EXPECT_EQ(p->cwd(), "/home/alice");
  EXPECT_EQ(send(*p, "PWD\r\n"), "257 \"/home/alice\" is the current directory\r\n");
}

TEST_F(FtpProtocol, PasswordMayHoldSpaces) {
  config.users["alice"].password = "two words ";
  auto p = session();
  login(*p, "alice", "two words ");
}

TEST_F(FtpProtocol, HomeMissingFromTheTreeStartsAtTheRoot) {
  config.users.emplace("bob", User{"pw", "/nowhere", false});
  auto p = session();
  login(*p, "bob", "pw");
  EXPECT_EQ(p->cwd(), "/");
}

TEST_F(FtpProtocol, UserAgainStartsANewLogin) {
  auto p = session();
  alice(*p);
  EXPECT_EQ(send(*p, "USER anonymous\r\n"), "331 Please specify the password.\r\n");
  EXPECT_FALSE(p->logged_in());
  EXPECT_EQ(p->cwd(), "/");
  EXPECT_EQ(send(*p, "PWD\r\n"), "530 Please login with USER and PASS.\r\n");
}

// --- navigation
// -----------------------------------------------------------------------------------

TEST_F(FtpProtocol, CwdCdupPwd) {
  auto p = session();
  anonymous(*p);
  EXPECT_EQ(send(*p, "PWD\r\n"), "257 \"/\" is the current directory\r\n");
  EXPECT_EQ(send(*p, "CWD pub\r\n"), "250 Directory successfully changed.\r\n");
  EXPECT_EQ(send(*p, "PWD\r\n"), "257 \"/pub\" is the current directory\r\n");
  EXPECT_EQ(send(*p, "CWD empty\r\n"), "250 Directory successfully changed.\r\n");
  EXPECT_EQ(send(*p, "XPWD\r\n"), "257 \"/pub/empty\" is the current directory\r\n");
  EXPECT_EQ(send(*p, "CDUP\r\n"), "250 Directory successfully changed.\r\n");
  EXPECT_EQ(p->cwd(), "/pub");
  EXPECT_EQ(send(*p, "XCUP\r\n"), "250 Directory successfully changed.\r\n");
  EXPECT_EQ(p->cwd(), "/");
  EXPECT_EQ(send(*p, "CDUP\r\n"), "250 Directory successfully changed.\r\n");  // stays at /
  EXPECT_EQ(p->cwd(), "/");
  // A file, or nothing, is no folder to change to.
  EXPECT_EQ(send(*p, "CWD /pub/readme.txt\r\n"), "550 Failed to change directory.\r\n");
  EXPECT_EQ(send(*p, "CWD /nope\r\n"), "550 Failed to change directory.\r\n");
  EXPECT_EQ(send(*p, "CWD a\\b\r\n"), "550 Failed to change directory.\r\n");
  EXPECT_EQ(p->cwd(), "/");
  // ".." cannot leave the root.
  EXPECT_EQ(send(*p, "XCWD /pub/../../../pub\r\n"), "250 Directory successfully changed.\r\n");
  EXPECT_EQ(p->cwd(), "/pub");
  // CWD without an argument goes to the root.
  EXPECT_EQ(send(*p, "CWD\r\n"), "250 Directory successfully changed.\r\n");
  EXPECT_EQ(p->cwd(), "/");
}

TEST_F(FtpProtocol, PwdDoublesQuotes) {
  // RFC 959 appendix II: 257 "/say ""hi""".
  tree.make_dirs("/say \"hi\"");
  auto p = session();
  anonymous(*p);
  EXPECT_EQ(send(*p, "CWD /say \"hi\"\r\n"), "250 Directory successfully changed.\r\n");
  EXPECT_EQ(send(*p, "PWD\r\n"), "257 \"/say \"\"hi\"\"\" is the current directory\r\n");
}

// --- changing the tree: the user's write and the folder's write are both needed ------------------

TEST_F(FtpProtocol, AnonymousCannotWriteEvenInAWritableFolder) {
  tree.make_dirs("/incoming/sub");
  auto p = session();
  anonymous(*p);
  EXPECT_EQ(send(*p, "MKD /incoming/new\r\n"), "550 Permission denied.\r\n");
  EXPECT_EQ(send(*p, "RMD /incoming/sub\r\n"), "550 Permission denied.\r\n");
  EXPECT_EQ(send(*p, "DELE /incoming/old.txt\r\n"), "550 Permission denied.\r\n");
  EXPECT_EQ(send(*p, "RNFR /incoming/old.txt\r\n"), "550 Permission denied.\r\n");
  EXPECT_EQ(send(*p, "RNTO /incoming/x\r\n"), "503 RNFR required first.\r\n");
  EXPECT_EQ(send(*p, "STOR /incoming/up.txt\r\n"), "550 Permission denied.\r\n");
  EXPECT_EQ(send(*p, "APPE /incoming/old.txt\r\n"), "550 Permission denied.\r\n");
  EXPECT_EQ(tree.find("/incoming/new"), nullptr);
  EXPECT_NE(tree.find("/incoming/sub"), nullptr);
  EXPECT_EQ(content_of("/incoming/old.txt"), "0123456789");
}

TEST_F(FtpProtocol, WriterCannotWriteInAReadOnlyFolder) {
  auto p = session();
  alice(*p);
  EXPECT_EQ(send(*p, "MKD /pub/new\r\n"), "550 Permission denied.\r\n");
  EXPECT_EQ(send(*p, "RMD /pub/empty\r\n"), "550 Permission denied.\r\n");
  EXPECT_EQ(send(*p, "DELE /pub/readme.txt\r\n"), "550 Permission denied.\r\n");
  EXPECT_EQ(send(*p, "RNFR /pub/readme.txt\r\n"), "550 Permission denied.\r\n");
  EXPECT_EQ(send(*p, "STOR /pub/up.txt\r\n"), "550 Permission denied.\r\n");
  EXPECT_EQ(tree.find("/pub/new"), nullptr);
  EXPECT_NE(tree.find("/pub/empty"), nullptr);
  EXPECT_EQ(content_of("/pub/readme.txt"), "hello");
}

TEST_F(FtpProtocol, MkdAndRmd) {
  auto p = session();
  alice(*p);
  EXPECT_EQ(send(*p, "MKD /incoming/new\r\n"), "257 \"/incoming/new\" created\r\n");
  ASSERT_NE(tree.find("/incoming/new"), nullptr);
  EXPECT_TRUE(tree.find("/incoming/new")->dir);
  EXPECT_EQ(send(*p, "MKD /incoming/new\r\n"),
            "550 Create directory operation failed: it exists.\r\n");
  EXPECT_EQ(send(*p, "MKD /incoming/old.txt\r\n"),
            "550 Create directory operation failed: it exists.\r\n");
  // The parent must be there (MKD makes one folder).
  EXPECT_EQ(send(*p, "MKD /incoming/a/b\r\n"), "553 Could not create file.\r\n");
  EXPECT_EQ(send(*p, "MKD /incoming/old.txt/x\r\n"), "553 Could not create file.\r\n");
  EXPECT_EQ(send(*p, "MKD /\r\n"), "553 Could not create file.\r\n");
  EXPECT_EQ(send(*p, "MKD\r\n"), "501 MKD needs an argument: MKD <path>\r\n");
  // Relative to the working folder; a quote in the name is doubled in the reply.
  EXPECT_EQ(send(*p, "MKD docs\r\n"), "257 \"/home/alice/docs\" created\r\n");
  EXPECT_EQ(send(*p, "XMKD say\"q\r\n"), "257 \"/home/alice/say\"\"q\" created\r\n");
  EXPECT_NE(tree.find("/home/alice/say\"q"), nullptr);

  EXPECT_EQ(send(*p, "RMD /incoming/new\r\n"), "250 Remove directory operation successful.\r\n");
  EXPECT_EQ(tree.find("/incoming/new"), nullptr);
  EXPECT_EQ(send(*p, "RMD /incoming/new\r\n"), "550 Remove directory operation failed.\r\n");
  EXPECT_EQ(send(*p, "RMD /incoming/old.txt\r\n"), "550 Remove directory operation failed.\r\n");
  tree.put_file("/incoming/full/f", text("x"));
  EXPECT_EQ(send(*p, "XRMD /incoming/full\r\n"),
            "550 Remove directory operation failed: it is not empty.\r\n");
  EXPECT_NE(tree.find("/incoming/full/f"), nullptr);
  EXPECT_EQ(send(*p, "RMD /\r\n"), "550 Permission denied.\r\n");
  // /incoming itself is in /, which is not writable.
  EXPECT_EQ(send(*p, "RMD /incoming\r\n"), "550 Permission denied.\r\n");
  EXPECT_EQ(send(*p, "RMD docs\r\n"), "250 Remove directory operation successful.\r\n");
}

TEST_F(FtpProtocol, Dele) {
  auto p = session();
  alice(*p);
  EXPECT_EQ(send(*p, "DELE /incoming/old.txt\r\n"), "250 Delete operation successful.\r\n");
  EXPECT_EQ(tree.find("/incoming/old.txt"), nullptr);
  EXPECT_EQ(send(*p, "DELE /incoming/old.txt\r\n"), "550 Delete operation failed.\r\n");
  // DELE removes files only.
  EXPECT_EQ(send(*p, "DELE /incoming\r\n"), "550 Delete operation failed.\r\n");
  EXPECT_NE(tree.find("/incoming"), nullptr);
}

TEST_F(FtpProtocol, RnfrThenRnto) {
  auto p = session();
  alice(*p);
  // RFC 959 4.1.3: RNTO only right after RNFR.
  EXPECT_EQ(send(*p, "RNTO /incoming/x\r\n"), "503 RNFR required first.\r\n");
  EXPECT_EQ(send(*p, "RNFR /incoming/old.txt\r\n"), "350 Ready for RNTO.\r\n");
  EXPECT_EQ(send(*p, "RNTO /incoming/new.txt\r\n"), "250 Rename successful.\r\n");
  EXPECT_EQ(tree.find("/incoming/old.txt"), nullptr);
  EXPECT_EQ(content_of("/incoming/new.txt"), "0123456789");
  // One RNFR, one RNTO.
  EXPECT_EQ(send(*p, "RNTO /incoming/again.txt\r\n"), "503 RNFR required first.\r\n");
  // Relative names.
  EXPECT_EQ(send(*p, "CWD /incoming\r\n"), "250 Directory successfully changed.\r\n");
  EXPECT_EQ(send(*p, "RNFR new.txt\r\n"), "350 Ready for RNTO.\r\n");
  EXPECT_EQ(send(*p, "RNTO renamed.txt\r\n"), "250 Rename successful.\r\n");
  EXPECT_EQ(content_of("/incoming/renamed.txt"), "0123456789");
  EXPECT_EQ(send(*p, "RNFR missing.txt\r\n"), "550 RNFR command failed.\r\n");
}

TEST_F(FtpProtocol, ACommandBetweenRnfrAndRntoCancelsIt) {
  auto p = session();
  alice(*p);
  EXPECT_EQ(send(*p, "RNFR /incoming/old.txt\r\n"), "350 Ready for RNTO.\r\n");
  EXPECT_EQ(send(*p, "NOOP\r\n"), "200 NOOP ok.\r\n");
  EXPECT_EQ(send(*p, "RNTO /incoming/new.txt\r\n"), "503 RNFR required first.\r\n");
  // Even an unknown command.
  EXPECT_EQ(send(*p, "RNFR /incoming/old.txt\r\n"), "350 Ready for RNTO.\r\n");
  EXPECT_EQ(send(*p, "BOGUS\r\n"), "500 Unknown command.\r\n");
  EXPECT_EQ(send(*p, "RNTO /incoming/new.txt\r\n"), "503 RNFR required first.\r\n");
  EXPECT_EQ(content_of("/incoming/old.txt"), "0123456789");
  EXPECT_EQ(tree.find("/incoming/new.txt"), nullptr);
}

TEST_F(FtpProtocol, RntoRefusals) {
  tree.make_dirs("/incoming/dir/sub");
  auto p = session();
  alice(*p);
  // Into a read-only folder: refused, and the RNFR is used up.
  EXPECT_EQ(send(*p, "RNFR /incoming/old.txt\r\n"), "350 Ready for RNTO.\r\n");
  EXPECT_EQ(send(*p, "RNTO /pub/old.txt\r\n"), "550 Permission denied.\r\n");
  EXPECT_EQ(send(*p, "RNTO /incoming/x.txt\r\n"), "503 RNFR required first.\r\n");
  EXPECT_EQ(content_of("/incoming/old.txt"), "0123456789");
  // Into a folder that is not there.
  EXPECT_EQ(send(*p, "RNFR /incoming/old.txt\r\n"), "350 Ready for RNTO.\r\n");
  EXPECT_EQ(send(*p, "RNTO /incoming/nope/x\r\n"), "553 Could not create file.\r\n");
  // A folder into itself, or onto a folder.
  EXPECT_EQ(send(*p, "RNFR /incoming/dir\r\n"), "350 Ready for RNTO.\r\n");
  EXPECT_EQ(send(*p, "RNTO /incoming/dir/sub/dir\r\n"), "550 Rename failed.\r\n");
  EXPECT_EQ(send(*p, "RNFR /incoming/old.txt\r\n"), "350 Ready for RNTO.\r\n");
  EXPECT_EQ(send(*p, "RNTO /incoming/dir\r\n"), "550 Rename failed.\r\n");
  EXPECT_EQ(content_of("/incoming/old.txt"), "0123456789");
  EXPECT_NE(tree.find("/incoming/dir/sub"), nullptr);
}

// --- SIZE, MDTM, MLST (RFC 3659 3, 4, 7)
// ----------------------------------------------------------

TEST_F(FtpProtocol, SizeAndMdtm) {
  Content big;
  big.kind = Content::Kind::generated;
  big.size = std::uint64_t{5} << 30;
  tree.put_file("/pub/big.bin", big);
  auto p = session();
  anonymous(*p);
  EXPECT_EQ(send(*p, "SIZE /pub/readme.txt\r\n"), "213 5\r\n");
  EXPECT_EQ(send(*p, "SIZE /pub/big.bin\r\n"), "213 5368709120\r\n");
  EXPECT_EQ(send(*p, "SIZE /pub\r\n"), "550 Could not get file size.\r\n");
  EXPECT_EQ(send(*p, "SIZE /nope\r\n"), "550 Could not get file size.\r\n");
  EXPECT_EQ(send(*p, "MDTM /pub/readme.txt\r\n"), "213 20200101000000\r\n");
  EXPECT_EQ(send(*p, "MDTM /pub/big.bin\r\n"), "213 20260101000000\r\n");
  EXPECT_EQ(send(*p, "MDTM /pub\r\n"), "550 Could not get file modification time.\r\n");
  EXPECT_EQ(send(*p, "MDTM /nope\r\n"), "550 Could not get file modification time.\r\n");
  EXPECT_EQ(send(*p, "CWD /pub\r\n"), "250 Directory successfully changed.\r\n");
  EXPECT_EQ(send(*p, "SIZE readme.txt\r\n"), "213 5\r\n");
  EXPECT_EQ(send(*p, "SIZE\r\n"), "501 SIZE needs an argument: SIZE <path>\r\n");
}

// SIZE gives the stored size in TYPE A too, as vsftpd does (RFC 3659 4 would count the CRs a
// TYPE A transfer adds; ftplib's size() after a listing is still in TYPE A and wants the size).
TEST_F(FtpProtocol, SizeIsTheStoredSizeInEitherType) {
  tree.put_file("/pub/lines.txt", text("a\nb\n"));
  auto p = session();
  anonymous(*p);
  EXPECT_EQ(send(*p, "SIZE /pub/lines.txt\r\n"), "213 4\r\n");
  EXPECT_EQ(send(*p, "TYPE A\r\n"), "200 Switching to ASCII mode.\r\n");
  EXPECT_EQ(send(*p, "SIZE /pub/lines.txt\r\n"), "213 4\r\n");
}

TEST_F(FtpProtocol, Mlst) {
  auto p = session();
  anonymous(*p);
  // RFC 3659 7.2: the facts line starts with one space; the name is the full path.
  EXPECT_EQ(send(*p, "MLST /pub/readme.txt\r\n"),
            "250-Listing /pub/readme.txt\r\n"
            " type=file;size=5;modify=20200101000000;perm=r;UNIX.mode=0644; /pub/readme.txt\r\n"
            "250 End\r\n");
  EXPECT_EQ(send(*p, "CWD /pub\r\n"), "250 Directory successfully changed.\r\n");
  // Without an argument: the working folder.
  EXPECT_EQ(send(*p, "MLST\r\n"),
            "250-Listing /pub\r\n"
            " type=dir;modify=20260101000000;perm=el;UNIX.mode=0755; /pub\r\n"
            "250 End\r\n");
  EXPECT_EQ(send(*p, "MLST nope\r\n"), "550 No such file or directory.\r\n");
}

TEST_F(FtpProtocol, MlstPermForAWriter) {
  auto p = session();
  alice(*p);
  EXPECT_EQ(send(*p, "MLST /incoming/old.txt\r\n"),
            "250-Listing /incoming/old.txt\r\n"
            " type=file;size=10;modify=20200101000000;perm=radfw;UNIX.mode=0644; "
            "/incoming/old.txt\r\n"
            "250 End\r\n");
}

// RFC 3659 7.5.5: "perm" tells what the current user may do: an anonymous user (write: false,
// refused 550 on STOR/APPE/DELE/RNFR in /incoming, see AnonymousCannotWriteEvenInAWritableFolder)
// is told perm=r there, as in MLSD lines.
TEST_F(FtpProtocol, MlstPermFollowsTheUsersWrite) {
  auto p = session();
  anonymous(*p);
  EXPECT_EQ(send(*p, "MLST /incoming/old.txt\r\n"),
            "250-Listing /incoming/old.txt\r\n"
            " type=file;size=10;modify=20200101000000;perm=r;UNIX.mode=0644; "
            "/incoming/old.txt\r\n"
            "250 End\r\n");
}

// --- transfer parameters (RFC 959 4.1.2)
// ----------------------------------------------------------

TEST_F(FtpProtocol, TypeModeStru) {
  auto p = session();
  anonymous(*p);
  EXPECT_EQ(send(*p, "TYPE A\r\n"), "200 Switching to ASCII mode.\r\n");
  EXPECT_EQ(send(*p, "TYPE i\r\n"), "200 Switching to Binary mode.\r\n");
  EXPECT_EQ(send(*p, "TYPE a n\r\n"), "200 Switching to ASCII mode.\r\n");
  EXPECT_EQ(send(*p, "TYPE L 8\r\n"), "200 Switching to Binary mode.\r\n");
  EXPECT_EQ(send(*p, "TYPE E\r\n"), "504 TYPE E is not supported: use A or I.\r\n");
  EXPECT_EQ(send(*p, "TYPE\r\n"), "501 TYPE needs an argument: TYPE A|I\r\n");
  EXPECT_EQ(send(*p, "MODE S\r\n"), "200 Mode set to S.\r\n");
  EXPECT_EQ(send(*p, "MODE b\r\n"), "504 Bad MODE command: only S (stream) is supported.\r\n");
  EXPECT_EQ(send(*p, "STRU f\r\n"), "200 Structure set to F.\r\n");
  EXPECT_EQ(send(*p, "STRU R\r\n"), "504 Bad STRU command: only F (file) is supported.\r\n");
  // A refused TYPE leaves the type as it was (binary here).
  const Reply r = passive_then(*p, "RETR /pub/readme.txt\r\n");
  ASSERT_TRUE(r.transfer);
  EXPECT_FALSE(r.transfer->ascii);
}

TEST_F(FtpProtocol, PasvAndEpsvAskTheSessionForAPort) {
  auto p = session();
  anonymous(*p);
  const Reply pasv = handle(*p, "PASV\r\n");
  EXPECT_EQ(pasv.bytes, "");  // the session sends 227 once the port is open
  EXPECT_EQ(pasv.effect, Effect::passive);
  EXPECT_FALSE(pasv.extended);
  const Reply epsv = handle(*p, "EPSV\r\n");
  EXPECT_EQ(epsv.bytes, "");
  EXPECT_EQ(epsv.effect, Effect::passive);
  EXPECT_TRUE(epsv.extended);
  EXPECT_EQ(handle(*p, "EPSV 1\r\n").effect, Effect::passive);
  // RFC 2428 3: a protocol other than the control connection's gets 522.
  const Reply v6 = handle(*p, "EPSV 2\r\n");
  EXPECT_EQ(v6.bytes, "522 Network protocol not supported, use (1)\r\n");
  EXPECT_EQ(v6.effect, Effect::none);
}

TEST_F(FtpProtocol, EpsvFamiliesOfTheControlConnection) {
  auto v6 = session("2001:db8::10");
  anonymous(*v6);
  EXPECT_EQ(handle(*v6, "EPSV 2\r\n").effect, Effect::passive);
  EXPECT_EQ(send(*v6, "EPSV 1\r\n"), "522 Network protocol not supported, use (2)\r\n");
  // An IPv4 client on a dual-stack socket is an IPv4 client.
  auto mapped = session("::ffff:192.0.2.10");
  anonymous(*mapped);
  EXPECT_EQ(handle(*mapped, "EPSV 1\r\n").effect, Effect::passive);
  EXPECT_EQ(send(*mapped, "EPSV 2\r\n"), "522 Network protocol not supported, use (1)\r\n");
}

TEST_F(FtpProtocol, EpsvAllRefusesPortAndPasv) {
  auto p = session();
  anonymous(*p);
  // RFC 2428 4: after EPSV ALL, only EPSV sets up a data connection.
  EXPECT_EQ(send(*p, "EPSV ALL\r\n"), "200 EPSV ALL ok.\r\n");
  EXPECT_TRUE(p->epsv_all());
  EXPECT_EQ(send(*p, "PASV\r\n"), "500 PASV not allowed after EPSV ALL.\r\n");
  EXPECT_EQ(send(*p, "PORT 192,0,2,10,4,1\r\n"), "500 PORT not allowed after EPSV ALL.\r\n");
  EXPECT_EQ(send(*p, "EPRT |1|192.0.2.10|5000|\r\n"), "500 EPRT not allowed after EPSV ALL.\r\n");
  const Reply epsv = handle(*p, "EPSV\r\n");
  EXPECT_EQ(epsv.effect, Effect::passive);
  EXPECT_TRUE(epsv.extended);
}

TEST_F(FtpProtocol, PortAndEprtOnlyToTheClient) {
  auto p = session();
  anonymous(*p);
  const Reply port = handle(*p, "PORT 192,0,2,10,4,1\r\n");
  EXPECT_EQ(port.bytes, "200 PORT command successful. Consider using PASV.\r\n");
  EXPECT_EQ(port.effect, Effect::active);
  ASSERT_TRUE(port.active);
  EXPECT_EQ(port.active->host, "192.0.2.10");
  EXPECT_EQ(port.active->port, 1025);
  // RFC 2577 3 (the bounce attack): no other host, no privileged port.
  const Reply foreign = handle(*p, "PORT 198,51,100,7,4,1\r\n");
  EXPECT_EQ(foreign.bytes,
            "500 Illegal PORT command: only the client's own address is allowed.\r\n");
  EXPECT_EQ(foreign.effect, Effect::none);
  EXPECT_FALSE(foreign.active);
  EXPECT_EQ(send(*p, "PORT 192,0,2,10,0,25\r\n"),
            "500 Illegal PORT command: only the client's own address is allowed.\r\n");
  EXPECT_EQ(send(*p, "PORT 192,0,2,10,3,255\r\n"),  // 1023
            "500 Illegal PORT command: only the client's own address is allowed.\r\n");
  EXPECT_EQ(send(*p, "PORT 192,0,2,10,4,0\r\n"),  // 1024
            "200 PORT command successful. Consider using PASV.\r\n");
  EXPECT_EQ(send(*p, "PORT 1,2,3\r\n"), "501 Illegal PORT command.\r\n");
  EXPECT_EQ(send(*p, "PORT 192,0,2,10,0,0\r\n"), "501 Illegal PORT command.\r\n");

  const Reply eprt = handle(*p, "EPRT |1|192.0.2.10|5000|\r\n");
  EXPECT_EQ(eprt.bytes, "200 EPRT command successful. Consider using EPSV.\r\n");
  EXPECT_EQ(eprt.effect, Effect::active);
  ASSERT_TRUE(eprt.active);
  EXPECT_EQ(eprt.active->port, 5000);
  EXPECT_EQ(send(*p, "EPRT |1|198.51.100.7|5000|\r\n"),
            "500 Illegal EPRT command: only the client's own address is allowed.\r\n");
  EXPECT_EQ(send(*p, "EPRT |1|192.0.2.10|21|\r\n"),
            "500 Illegal EPRT command: only the client's own address is allowed.\r\n");
  EXPECT_EQ(send(*p, "EPRT |3|192.0.2.10|5000|\r\n"),
            "522 Network protocol not supported, use (1,2)\r\n");
  EXPECT_EQ(send(*p, "EPRT 192.0.2.10:5000\r\n"), "501 Illegal EPRT command.\r\n");
  EXPECT_EQ(send(*p, "EPRT |2|192.0.2.10|5000|\r\n"), "501 Illegal EPRT command.\r\n");
}

TEST_F(FtpProtocol, PortFromAMappedOrIpv6Client) {
  auto mapped = session("::ffff:192.0.2.10");
  anonymous(*mapped);
  EXPECT_EQ(send(*mapped, "PORT 192,0,2,10,4,1\r\n"),
            "200 PORT command successful. Consider using PASV.\r\n");
  auto v6 = session("2001:db8::10");
  anonymous(*v6);
  const Reply r = handle(*v6, "EPRT |2|2001:db8::10|5000|\r\n");
  EXPECT_EQ(r.bytes, "200 EPRT command successful. Consider using EPSV.\r\n");
  ASSERT_TRUE(r.active);
  EXPECT_TRUE(r.active->v6);
  EXPECT_EQ(r.active->host, "2001:db8::10");
  EXPECT_EQ(send(*v6, "EPRT |2|2001:db8::11|5000|\r\n"),
            "500 Illegal EPRT command: only the client's own address is allowed.\r\n");
  EXPECT_EQ(send(*v6, "PORT 192,0,2,10,4,1\r\n"),
            "500 Illegal PORT command: only the client's own address is allowed.\r\n");
}

TEST_F(FtpProtocol, AllowForeignPort) {
  config.allow_foreign_port = true;
  auto p = session();
  anonymous(*p);
  const Reply r = handle(*p, "PORT 198,51,100,7,0,20\r\n");
  EXPECT_EQ(r.bytes, "200 PORT command successful. Consider using PASV.\r\n");
  ASSERT_TRUE(r.active);
  EXPECT_EQ(r.active->host, "198.51.100.7");
  EXPECT_EQ(r.active->port, 20);
  EXPECT_EQ(send(*p, "EPRT |1|198.51.100.7|20|\r\n"),
            "200 EPRT command successful. Consider using EPSV.\r\n");
}

// --- transfers
// ------------------------------------------------------------------------------------

TEST_F(FtpProtocol, TransferCommandsNeedADataConnection) {
  auto p = session();
  alice(*p);
  // RFC 959 4.2: 425 Can't open data connection.
  for (const char* line : {"RETR /pub/readme.txt\r\n", "LIST\r\n", "NLST\r\n", "MLSD\r\n",
                           "STOR /incoming/x\r\n", "APPE /incoming/x\r\n", "STOU\r\n"}) {
    const Reply r = handle(*p, line);
    EXPECT_EQ(r.bytes, "425 Use PORT or PASV first.\r\n") << line;
    EXPECT_EQ(r.effect, Effect::none) << line;
    EXPECT_FALSE(r.transfer) << line;
  }
  // PASV alone is not enough: the session must have opened the port.
  EXPECT_EQ(handle(*p, "PASV\r\n").effect, Effect::passive);
  EXPECT_EQ(send(*p, "RETR /pub/readme.txt\r\n"), "425 Use PORT or PASV first.\r\n");
  // A port that was opened, then given up.
  p->passive_opened();
  p->data_failed();
  EXPECT_EQ(send(*p, "RETR /pub/readme.txt\r\n"), "425 Use PORT or PASV first.\r\n");
  // ABOR drops a data connection that was set up.
  p->passive_opened();
  EXPECT_EQ(send(*p, "ABOR\r\n"), "225 No transfer to ABOR.\r\n");
  EXPECT_EQ(send(*p, "RETR /pub/readme.txt\r\n"), "425 Use PORT or PASV first.\r\n");
}

TEST_F(FtpProtocol, RetrAfterPassive) {
  auto p = session();
  anonymous(*p);
  EXPECT_EQ(handle(*p, "PASV\r\n").effect, Effect::passive);
  p->passive_opened();
  EXPECT_EQ(send(*p, "REST 2\r\n"), "350 Restart position accepted (2).\r\n");
  const Reply r = handle(*p, "RETR /pub/readme.txt\r\n");
  EXPECT_EQ(r.bytes, "");  // the session sends 150 when the data connection is open
  EXPECT_EQ(r.effect, Effect::transfer);
  ASSERT_TRUE(r.transfer);
  const Transfer& t = *r.transfer;
  EXPECT_EQ(t.kind, Transfer::Kind::retr);
  EXPECT_EQ(t.path, "/pub/readme.txt");
  EXPECT_EQ(t.offset, 2u);
  EXPECT_FALSE(t.ascii);
  EXPECT_FALSE(t.upload());
  EXPECT_FALSE(t.listing_kind());
  EXPECT_EQ(t.listing, "");
  EXPECT_EQ(read_content(t.content, t.offset, 100), "llo");
  EXPECT_EQ(t.preliminary, "150 Opening BINARY mode data connection for readme.txt (5 bytes).\r\n");
  // One transfer per PASV; REST is used up.
  EXPECT_EQ(send(*p, "RETR /pub/readme.txt\r\n"), "425 Use PORT or PASV first.\r\n");
  const Reply again = passive_then(*p, "RETR /pub/readme.txt\r\n");
  ASSERT_TRUE(again.transfer);
  EXPECT_EQ(again.transfer->offset, 0u);
}

TEST_F(FtpProtocol, RetrInTypeAAndAfterPort) {
  auto p = session();
  anonymous(*p);
  EXPECT_EQ(send(*p, "CWD /pub\r\n"), "250 Directory successfully changed.\r\n");
  EXPECT_EQ(send(*p, "TYPE A\r\n"), "200 Switching to ASCII mode.\r\n");
  EXPECT_EQ(handle(*p, "PORT 192,0,2,10,4,1\r\n").effect, Effect::active);
  const Reply r = handle(*p, "RETR readme.txt\r\n");
  EXPECT_EQ(r.effect, Effect::transfer);
  ASSERT_TRUE(r.transfer);
  EXPECT_TRUE(r.transfer->ascii);
  EXPECT_EQ(r.transfer->path, "/pub/readme.txt");
  EXPECT_EQ(r.transfer->preliminary,
            "150 Opening ASCII mode data connection for readme.txt (5 bytes).\r\n");
  EXPECT_EQ(send(*p, "RETR readme.txt\r\n"), "425 Use PORT or PASV first.\r\n");
}

TEST_F(FtpProtocol, RetrOfNothing) {
  auto p = session();
  anonymous(*p);
  p->passive_opened();
  EXPECT_EQ(send(*p, "RETR /nope\r\n"), "550 Failed to open file.\r\n");
  EXPECT_EQ(send(*p, "RETR /pub\r\n"), "550 Failed to open file.\r\n");
  // The data connection is still there for the next try.
  EXPECT_EQ(handle(*p, "RETR /pub/readme.txt\r\n").effect, Effect::transfer);
}

TEST_F(FtpProtocol, RestBeyondTheEnd) {
  auto p = session();
  anonymous(*p);
  EXPECT_EQ(send(*p, "REST 6\r\n"), "350 Restart position accepted (6).\r\n");
  // RFC 3659 5.5: 554 when the restart point is past the end of the file.
  EXPECT_EQ(send(*p, "RETR /pub/readme.txt\r\n"),
            "554 Restart position beyond the end of the file (RFC 3659 5.5).\r\n");
  // The REST is gone with it.
  const Reply r = passive_then(*p, "RETR /pub/readme.txt\r\n");
  ASSERT_TRUE(r.transfer);
  EXPECT_EQ(r.transfer->offset, 0u);
  // At the very end is allowed: nothing is left to send.
  EXPECT_EQ(send(*p, "REST 5\r\n"), "350 Restart position accepted (5).\r\n");
  const Reply end = passive_then(*p, "RETR /pub/readme.txt\r\n");
  ASSERT_TRUE(end.transfer);
  EXPECT_EQ(end.transfer->offset, 5u);
  EXPECT_EQ(send(*p, "REST abc\r\n"), "501 REST requires a value greater than or equal to 0.\r\n");
  EXPECT_EQ(send(*p, "REST -1\r\n"), "501 REST requires a value greater than or equal to 0.\r\n");
  EXPECT_EQ(send(*p, "REST 5x\r\n"), "501 REST requires a value greater than or equal to 0.\r\n");
  EXPECT_EQ(send(*p, "REST\r\n"), "501 REST needs an argument: REST <offset>\r\n");
}

TEST_F(FtpProtocol, ListNlstMlsd) {
  auto p = session();
  anonymous(*p);
  EXPECT_EQ(send(*p, "CWD /pub\r\n"), "250 Directory successfully changed.\r\n");
  const Reply list = passive_then(*p, "LIST\r\n");
  EXPECT_EQ(list.effect, Effect::transfer);
  ASSERT_TRUE(list.transfer);
  EXPECT_EQ(list.transfer->kind, Transfer::Kind::list);
  EXPECT_EQ(list.transfer->path, "/pub");
  EXPECT_TRUE(list.transfer->listing_kind());
  EXPECT_EQ(list.transfer->offset, 0u);
  EXPECT_EQ(list.transfer->listing,
            "drwxr-xr-x   2 ftp      ftp             0 Jan 01 00:00 empty\r\n"
            "-rw-r--r--   1 ftp      ftp             5 Jan 01  2020 readme.txt\r\n");
  EXPECT_EQ(list.transfer->preliminary, "150 Here comes the directory listing.\r\n");
  // ls options are dropped; what is left is the path.
  const Reply la = passive_then(*p, "LIST -la\r\n");
  ASSERT_TRUE(la.transfer);
  EXPECT_EQ(la.transfer->path, "/pub");
  EXPECT_EQ(la.transfer->listing, list.transfer->listing);
  const Reply empty = passive_then(*p, "LIST -a -l /pub/empty\r\n");
  ASSERT_TRUE(empty.transfer);
  EXPECT_EQ(empty.transfer->path, "/pub/empty");
  EXPECT_EQ(empty.transfer->listing, "");
  const Reply one = passive_then(*p, "LIST readme.txt\r\n");
  ASSERT_TRUE(one.transfer);
  EXPECT_EQ(one.transfer->listing,
            "-rw-r--r--   1 ftp      ftp             5 Jan 01  2020 readme.txt\r\n");

  const Reply nlst = passive_then(*p, "NLST\r\n");
  ASSERT_TRUE(nlst.transfer);
  EXPECT_EQ(nlst.transfer->kind, Transfer::Kind::nlst);
  EXPECT_EQ(nlst.transfer->listing, "empty\r\nreadme.txt\r\n");
  const Reply nlst_file = passive_then(*p, "NLST /pub/readme.txt\r\n");
  ASSERT_TRUE(nlst_file.transfer);
  EXPECT_EQ(nlst_file.transfer->listing, "/pub/readme.txt\r\n");

  // RFC 3659 7.2: MLSD starts with the folder itself (cdir).
  const Reply mlsd = passive_then(*p, "MLSD\r\n");
  ASSERT_TRUE(mlsd.transfer);
  EXPECT_EQ(mlsd.transfer->kind, Transfer::Kind::mlsd);
  EXPECT_EQ(mlsd.transfer->listing,
            "type=cdir;modify=20260101000000;perm=el;UNIX.mode=0755; .\r\n"
            "type=dir;modify=20260101000000;perm=el;UNIX.mode=0755; empty\r\n"
            "type=file;size=5;modify=20200101000000;perm=r;UNIX.mode=0644; readme.txt\r\n");
  EXPECT_EQ(mlsd.transfer->preliminary, "150 Here comes the directory listing.\r\n");

  // Refusals come before the data connection is used.
  p->passive_opened();
  EXPECT_EQ(send(*p, "MLSD readme.txt\r\n"), "501 MLSD needs a folder; use MLST for a file.\r\n");
  EXPECT_EQ(send(*p, "MLSD /nope\r\n"), "550 No such file or directory.\r\n");
  EXPECT_EQ(send(*p, "LIST /nope\r\n"), "550 No such file or directory.\r\n");
  EXPECT_EQ(send(*p, "NLST /nope\r\n"), "550 No such file or directory.\r\n");
  EXPECT_EQ(handle(*p, "NLST\r\n").effect, Effect::transfer);
}

TEST_F(FtpProtocol, DosListing) {
  config.list_format = ListFormat::dos;
  auto p = session();
  anonymous(*p);
  const Reply r = passive_then(*p, "LIST /pub\r\n");
  ASSERT_TRUE(r.transfer);
  // The folder's line; the file's line is checked in ftp_codec_test.
  EXPECT_TRUE(
      r.transfer->listing.starts_with("01-01-26  12:00AM       <DIR>          empty\r\n"
                                      "01-01-20  12:00AM   "))
      << r.transfer->listing;
  EXPECT_TRUE(r.transfer->listing.ends_with("5 readme.txt\r\n")) << r.transfer->listing;
}

TEST_F(FtpProtocol, FinishTransferReplies) {
  auto p = session();
  Transfer retr;
  Transfer list;
  list.kind = Transfer::Kind::list;
  Transfer stor;
  stor.kind = Transfer::Kind::stor;
  using End = TransferOutcome::End;
  auto finish = [&](const Transfer& t, End end, bool too_big = false) {
    TransferOutcome o;
    o.end = end;
    o.upload_too_big = too_big;
    const Reply r = p->finish_transfer(t, o);
    EXPECT_EQ(r.effect, Effect::none);
    return r.bytes;
  };
  // RFC 959 4.2: 226 closing the data connection; 426 transfer aborted; RFC 959 552.
  EXPECT_EQ(finish(retr, End::complete), "226 Transfer complete.\r\n");
  EXPECT_EQ(finish(list, End::complete), "226 Directory send OK.\r\n");
  EXPECT_EQ(finish(stor, End::complete), "226 Transfer complete.\r\n");
  EXPECT_EQ(finish(stor, End::complete, true), "552 Exceeded storage allocation.\r\n");
  EXPECT_EQ(finish(retr, End::cut), "426 Failure writing network stream.\r\n");
  EXPECT_EQ(finish(retr, End::reset), "426 Failure writing network stream.\r\n");
  EXPECT_EQ(finish(list, End::failed), "426 Failure writing network stream.\r\n");
  EXPECT_EQ(finish(stor, End::cut), "426 Failure reading network stream.\r\n");
  EXPECT_EQ(finish(stor, End::failed), "426 Failure reading network stream.\r\n");
  EXPECT_EQ(finish(retr, End::aborted), "426 Transfer aborted. Data connection closed.\r\n");
  EXPECT_EQ(finish(stor, End::aborted), "426 Transfer aborted. Data connection closed.\r\n");
  EXPECT_EQ(finish(retr, End::tls_refused),
            "522 SSL connection failed; session reuse required\r\n");
}

// --- uploads
// ----------------------------------------------------------------------------------------

TEST_F(FtpProtocol, StorStoresWhatTheSessionReceived) {
  auto p = session();
  alice(*p);
  const Reply r = passive_then(*p, "STOR /incoming/up.txt\r\n");
  EXPECT_EQ(r.bytes, "");
  EXPECT_EQ(r.effect, Effect::transfer);
  ASSERT_TRUE(r.transfer);
  EXPECT_EQ(r.transfer->kind, Transfer::Kind::stor);
  EXPECT_EQ(r.transfer->path, "/incoming/up.txt");
  EXPECT_EQ(r.transfer->offset, 0u);
  EXPECT_TRUE(r.transfer->upload());
  EXPECT_EQ(r.transfer->preliminary, "150 Ok to send data.\r\n");
  EXPECT_EQ(tree.find("/incoming/up.txt"), nullptr);  // nothing until it is stored
  p->store_upload(*r.transfer, "data\0x"s);
  const Node* n = tree.find("/incoming/up.txt");
  ASSERT_NE(n, nullptr);
  EXPECT_EQ(content_of("/incoming/up.txt"), "data\0x"s);
  EXPECT_EQ(n->mtime, kNow);
  EXPECT_EQ(n->mode, 0644u);
  // Relative to the home folder; over a file, it replaces it.
  const Reply home = passive_then(*p, "STOR notes.txt\r\n");
  ASSERT_TRUE(home.transfer);
  EXPECT_EQ(home.transfer->path, "/home/alice/notes.txt");
  const Reply over = passive_then(*p, "STOR /incoming/old.txt\r\n");
  ASSERT_TRUE(over.transfer);
  p->store_upload(*over.transfer, "new");
  EXPECT_EQ(content_of("/incoming/old.txt"), "new");
  EXPECT_EQ(tree.find("/incoming/old.txt")->mtime, kNow);
}

TEST_F(FtpProtocol, StorRefusals) {
  tree.make_dirs("/incoming/sub");
  auto p = session();
  alice(*p);
  p->passive_opened();
  EXPECT_EQ(send(*p, "STOR /incoming/sub\r\n"), "553 Could not create file.\r\n");  // a folder
  EXPECT_EQ(send(*p, "STOR /\r\n"), "553 Could not create file.\r\n");
  EXPECT_EQ(send(*p, "STOR /incoming/nope/x\r\n"), "553 Could not create file.\r\n");
  EXPECT_EQ(send(*p, "STOR /incoming/a\\b\r\n"), "553 Could not create file.\r\n");
  EXPECT_EQ(send(*p, "STOR\r\n"), "501 STOR needs an argument: STOR <path>\r\n");
  // The data connection was not used by the refusals.
  EXPECT_EQ(handle(*p, "STOR /incoming/ok\r\n").effect, Effect::transfer);
}

TEST_F(FtpProtocol, AppeAppends) {
  auto p = session();
  alice(*p);
  const Reply r = passive_then(*p, "APPE /incoming/old.txt\r\n");
  ASSERT_TRUE(r.transfer);
  EXPECT_EQ(r.transfer->kind, Transfer::Kind::appe);
  EXPECT_TRUE(r.transfer->upload());
  EXPECT_EQ(r.transfer->preliminary, "150 Ok to send data.\r\n");
  p->store_upload(*r.transfer, "AB");
  EXPECT_EQ(content_of("/incoming/old.txt"), "0123456789AB");
  // APPE ignores REST: it always appends.
  EXPECT_EQ(send(*p, "REST 3\r\n"), "350 Restart position accepted (3).\r\n");
  const Reply again = passive_then(*p, "APPE /incoming/old.txt\r\n");
  ASSERT_TRUE(again.transfer);
  EXPECT_EQ(again.transfer->offset, 0u);
  p->store_upload(*again.transfer, "C");
  EXPECT_EQ(content_of("/incoming/old.txt"), "0123456789ABC");
  // To a file that is not there yet: it is created.
  const Reply fresh = passive_then(*p, "APPE /incoming/fresh\r\n");
  ASSERT_TRUE(fresh.transfer);
  p->store_upload(*fresh.transfer, "x");
  EXPECT_EQ(content_of("/incoming/fresh"), "x");
}

TEST_F(FtpProtocol, RestThenStorTruncatesThenWrites) {
  auto p = session();
  alice(*p);
  EXPECT_EQ(send(*p, "REST 4\r\n"), "350 Restart position accepted (4).\r\n");
  const Reply r = passive_then(*p, "STOR /incoming/old.txt\r\n");
  ASSERT_TRUE(r.transfer);
  EXPECT_EQ(r.transfer->offset, 4u);
  p->store_upload(*r.transfer, "xy");
  EXPECT_EQ(content_of("/incoming/old.txt"), "0123xy");
  // The REST was used: the next STOR replaces.
  const Reply next = passive_then(*p, "STOR /incoming/old.txt\r\n");
  ASSERT_TRUE(next.transfer);
  EXPECT_EQ(next.transfer->offset, 0u);
  p->store_upload(*next.transfer, "z");
  EXPECT_EQ(content_of("/incoming/old.txt"), "z");
}

TEST_F(FtpProtocol, StorInTypeA) {
  auto p = session();
  alice(*p);
  EXPECT_EQ(send(*p, "TYPE A\r\n"), "200 Switching to ASCII mode.\r\n");
  const Reply r = passive_then(*p, "STOR /incoming/t.txt\r\n");
  ASSERT_TRUE(r.transfer);
  EXPECT_TRUE(r.transfer->ascii);
}

TEST_F(FtpProtocol, StouPicksAFreeName) {
  auto p = session();
  alice(*p);
  EXPECT_EQ(send(*p, "CWD /incoming\r\n"), "250 Directory successfully changed.\r\n");
  const Reply r = passive_then(*p, "STOU\r\n");
  ASSERT_TRUE(r.transfer);
  EXPECT_EQ(r.transfer->kind, Transfer::Kind::stou);
  EXPECT_EQ(r.transfer->path, "/incoming/ftp.upload");
  EXPECT_TRUE(r.transfer->upload());
  // RFC 1123 4.1.2.9: the 150 names the file.
  EXPECT_EQ(r.transfer->preliminary, "150 FILE: ftp.upload\r\n");
  p->store_upload(*r.transfer, "u");
  EXPECT_EQ(content_of("/incoming/ftp.upload"), "u");
  const Reply second = passive_then(*p, "STOU\r\n");
  ASSERT_TRUE(second.transfer);
  EXPECT_EQ(second.transfer->path, "/incoming/ftp.upload.1");
  EXPECT_EQ(second.transfer->preliminary, "150 FILE: ftp.upload.1\r\n");
  const Reply named = passive_then(*p, "STOU old.txt\r\n");
  ASSERT_TRUE(named.transfer);
  EXPECT_EQ(named.transfer->path, "/incoming/old.txt.2");
  // Not where the user may not write.
  EXPECT_EQ(send(*p, "CWD /pub\r\n"), "250 Directory successfully changed.\r\n");
  EXPECT_EQ(send(*p, "STOU\r\n"), "550 Permission denied.\r\n");
}

// --- FTPS: RFC 4217
// ----------------------------------------------------------------------------------

TEST_F(FtpProtocol, AuthOnlyWhenStarttlsIsOffered) {
  auto p = session();
  EXPECT_EQ(send(*p, "AUTH TLS\r\n"), "502 AUTH is not offered by this server.\r\n");
  EXPECT_EQ(send(*p, "PBSZ 0\r\n"), "503 PBSZ not allowed on insecure control connection.\r\n");
  EXPECT_EQ(send(*p, "PROT P\r\n"), "503 PROT not allowed on insecure control connection.\r\n");
}

TEST_F(FtpProtocol, AuthTlsThenPbszThenProt) {
  config.tls = TlsMode::starttls;
  auto p = session();
  EXPECT_EQ(send(*p, "PBSZ 0\r\n"), "503 PBSZ not allowed on insecure control connection.\r\n");
  EXPECT_EQ(send(*p, "PROT P\r\n"), "503 PROT not allowed on insecure control connection.\r\n");
  EXPECT_EQ(send(*p, "AUTH SSH\r\n"), "504 Unknown AUTH type; only TLS is offered.\r\n");
  EXPECT_EQ(send(*p, "AUTH\r\n"), "501 AUTH needs an argument: AUTH TLS\r\n");
  const Reply auth = handle(*p, "AUTH tls\r\n");
  EXPECT_EQ(auth.bytes, "234 Proceed with negotiation.\r\n");
  EXPECT_EQ(auth.effect, Effect::start_tls);
  EXPECT_FALSE(p->tls_active());  // until the session says the handshake is done
  p->tls_started();
  EXPECT_TRUE(p->tls_active());
  EXPECT_EQ(send(*p, "AUTH TLS\r\n"), "503 Already using TLS.\r\n");
  // RFC 4217 9: PBSZ before PROT.
  EXPECT_EQ(send(*p, "PROT P\r\n"), "503 PBSZ must come before PROT (RFC 4217 9).\r\n");
  EXPECT_FALSE(p->protect_data());
  EXPECT_EQ(send(*p, "PBSZ 0\r\n"), "200 PBSZ=0\r\n");
  EXPECT_EQ(send(*p, "PROT P\r\n"), "200 PROT now Private.\r\n");
  EXPECT_TRUE(p->protect_data());
  EXPECT_EQ(send(*p, "PROT c\r\n"), "200 PROT now Clear.\r\n");
  EXPECT_FALSE(p->protect_data());
  EXPECT_EQ(send(*p, "PROT S\r\n"), "536 PROT level not supported.\r\n");
  EXPECT_EQ(send(*p, "PROT E\r\n"), "536 PROT level not supported.\r\n");
  EXPECT_EQ(send(*p, "PROT X\r\n"), "504 PROT takes C or P.\r\n");
  EXPECT_FALSE(p->protect_data());
  EXPECT_EQ(send(*p, "CCC\r\n"), "534 CCC refused: the control connection stays protected.\r\n");
}

TEST_F(FtpProtocol, AuthMechanismNames) {
  config.tls = TlsMode::starttls;
  for (const char* line : {"AUTH TLS-C\r\n", "AUTH ssl\r\n", "AUTH TLS\r\n"}) {
    auto p = session();
    EXPECT_EQ(handle(*p, line).effect, Effect::start_tls) << line;
  }
}

TEST_F(FtpProtocol, UserBeforeAuthIsForgotten) {
  config.tls = TlsMode::starttls;
  auto p = session();
  EXPECT_EQ(send(*p, "USER alice\r\n"), "331 Please specify the password.\r\n");
  EXPECT_EQ(handle(*p, "AUTH TLS\r\n").effect, Effect::start_tls);
  p->tls_started();
  EXPECT_EQ(send(*p, "PASS secret\r\n"), "503 Login with USER first.\r\n");
  alice(*p);
}

TEST_F(FtpProtocol, ImplicitTls) {
  config.tls = TlsMode::implicit;
  auto p = session(kPeer, true);
  EXPECT_TRUE(p->tls_active());
  EXPECT_EQ(send(*p, "AUTH TLS\r\n"), "502 AUTH is not offered by this server.\r\n");
  EXPECT_EQ(send(*p, "PBSZ 0\r\n"), "200 PBSZ=0\r\n");
  EXPECT_EQ(send(*p, "PROT P\r\n"), "200 PROT now Private.\r\n");
  EXPECT_TRUE(p->protect_data());
}

// --- information
// ------------------------------------------------------------------------------------

TEST_F(FtpProtocol, FeatPlain) {
  auto p = session();
  // RFC 2389 3.2: each feature on its own line, starting with a space.
  EXPECT_EQ(send(*p, "FEAT\r\n"),
            "211-Features:\r\n"
            " EPRT\r\n"
            " EPSV\r\n"
            " MDTM\r\n"
            " MLST type*;size*;modify*;perm*;UNIX.mode*;\r\n"
            " PASV\r\n"
            " REST STREAM\r\n"
            " SIZE\r\n"
            " TVFS\r\n"
            " UTF8\r\n"
            "211 End\r\n");
}

TEST_F(FtpProtocol, FeatWithStarttls) {
  config.tls = TlsMode::starttls;
  auto p = session();
  EXPECT_EQ(send(*p, "FEAT\r\n"),
            "211-Features:\r\n"
            " AUTH TLS\r\n"
            " EPRT\r\n"
            " EPSV\r\n"
            " MDTM\r\n"
            " MLST type*;size*;modify*;perm*;UNIX.mode*;\r\n"
            " PASV\r\n"
            " PBSZ\r\n"
            " PROT\r\n"
            " REST STREAM\r\n"
            " SIZE\r\n"
            " TVFS\r\n"
            " UTF8\r\n"
            "211 End\r\n");
}

TEST_F(FtpProtocol, FeatWithImplicitTls) {
  config.tls = TlsMode::implicit;
  auto p = session(kPeer, true);
  EXPECT_EQ(send(*p, "FEAT\r\n"),
            "211-Features:\r\n"
            " EPRT\r\n"
            " EPSV\r\n"
            " MDTM\r\n"
            " MLST type*;size*;modify*;perm*;UNIX.mode*;\r\n"
            " PASV\r\n"
            " PBSZ\r\n"
            " PROT\r\n"
            " REST STREAM\r\n"
            " SIZE\r\n"
            " TVFS\r\n"
            " UTF8\r\n"
            "211 End\r\n");
}

TEST_F(FtpProtocol, Opts) {
  auto p = session();
  EXPECT_EQ(send(*p, "OPTS UTF8 ON\r\n"), "200 Always in UTF8 mode.\r\n");
  EXPECT_EQ(send(*p, "OPTS utf8 on\r\n"), "200 Always in UTF8 mode.\r\n");
  EXPECT_EQ(send(*p, "OPTS UTF8 OFF\r\n"), "504 UTF8 cannot be turned off.\r\n");
  EXPECT_EQ(send(*p, "OPTS MLST type;size;\r\n"),
            "200 MLST OPTS type;size;modify;perm;UNIX.mode;\r\n");
  EXPECT_EQ(send(*p, "OPTS MODE Z\r\n"), "501 Option not understood.\r\n");
  EXPECT_EQ(send(*p, "OPTS\r\n"), "501 OPTS needs an argument: OPTS UTF8 ON\r\n");
}

TEST_F(FtpProtocol, Help) {
  auto p = session();
  EXPECT_EQ(send(*p, "HELP\r\n"),
            "214-The following commands are recognized.\r\n"
            " USER PASS ACCT AUTH PBSZ PROT CCC QUIT CWD XCWD CDUP XCUP PWD\r\n"
            " XPWD MKD XMKD RMD XRMD DELE RNFR RNTO SIZE MDTM MLST TYPE MODE\r\n"
            " STRU PASV EPSV PORT EPRT REST ALLO RETR STOR APPE STOU LIST NLST\r\n"
            " MLSD ABOR SYST FEAT OPTS HELP STAT NOOP\r\n"
            "214 Help OK.\r\n");
  EXPECT_EQ(send(*p, "HELP retr\r\n"), "214 Syntax: RETR <path>\r\n");
  EXPECT_EQ(send(*p, "HELP EPRT\r\n"), "214 Syntax: EPRT |af|addr|port|\r\n");
  EXPECT_EQ(send(*p, "HELP SITE\r\n"), "502 Unknown command SITE.\r\n");
}

TEST_F(FtpProtocol, StatWithoutArgument) {
  auto p = session();
  EXPECT_EQ(send(*p, "STAT\r\n"),
            "211-FTP server status:\r\n"
            "     Connected to 192.0.2.10\r\n"
            "     Not logged in\r\n"
            "     TYPE: BINARY\r\n"
            "     Control connection is plain text\r\n"
            "     Data connections are plain text (PROT C)\r\n"
            "211 End of status\r\n");
  anonymous(*p);
  EXPECT_EQ(send(*p, "TYPE A\r\n"), "200 Switching to ASCII mode.\r\n");
  EXPECT_EQ(send(*p, "STAT\r\n"),
            "211-FTP server status:\r\n"
            "     Connected to 192.0.2.10\r\n"
            "     Logged in as anonymous\r\n"
            "     TYPE: ASCII\r\n"
            "     Control connection is plain text\r\n"
            "     Data connections are plain text (PROT C)\r\n"
            "211 End of status\r\n");
}

TEST_F(FtpProtocol, StatOverTls) {
  config.tls = TlsMode::implicit;
  auto p = session("::ffff:192.0.2.10", true);
  EXPECT_EQ(send(*p, "PBSZ 0\r\n"), "200 PBSZ=0\r\n");
  EXPECT_EQ(send(*p, "PROT P\r\n"), "200 PROT now Private.\r\n");
  EXPECT_EQ(send(*p, "STAT\r\n"),
            "211-FTP server status:\r\n"
            "     Connected to 192.0.2.10\r\n"
            "     Not logged in\r\n"
            "     TYPE: BINARY\r\n"
            "     Control connection is TLS\r\n"
            "     Data connections are TLS (PROT P)\r\n"
            "211 End of status\r\n");
}

TEST_F(FtpProtocol, StatOfAPathListsOverTheControlConnection) {
  auto p = session();
  anonymous(*p);
  // RFC 959 4.1.3: STAT with a path: the listing in the reply, no data connection.
  const std::string expected =
      "213-Status follows:\r\n"
      " drwxr-xr-x   2 ftp      ftp             0 Jan 01 00:00 empty\r\n"
      " -rw-r--r--   1 ftp      ftp             5 Jan 01  2020 readme.txt\r\n"
      "213 End of status\r\n";
  EXPECT_EQ(send(*p, "STAT /pub\r\n"), expected);
  EXPECT_EQ(send(*p, "STAT -la /pub\r\n"), expected);
  EXPECT_EQ(send(*p, "STAT /pub/empty\r\n"), "213-Status follows:\r\n213 End of status\r\n");
  EXPECT_EQ(send(*p, "STAT /nope\r\n"), "550 No such file or directory.\r\n");
}

TEST_F(FtpProtocol, SmallCommands) {
  auto p = session();
  anonymous(*p);
  EXPECT_EQ(send(*p, "ACCT x\r\n"), "202 ACCT not needed: the login is complete without it.\r\n");
  EXPECT_EQ(send(*p, "ALLO 1000\r\n"), "202 ALLO command ignored.\r\n");
  EXPECT_EQ(send(*p, "ALLO\r\n"), "202 ALLO command ignored.\r\n");
  // An urgent ABOR with its Telnet Synch in front.
  EXPECT_EQ(send(*p,
                 "\xff\xf4\xff\xf2"
                 "ABOR\r\n"),
            "225 No transfer to ABOR.\r\n");
  const Reply quit = handle(*p, "QUIT\r\n");
  EXPECT_EQ(quit.bytes, "221 Goodbye.\r\n");
  EXPECT_EQ(quit.effect, Effect::close);
}

TEST_F(FtpProtocol, VerbNamesForRules) {
  const auto names = Protocol::verb_names();
  EXPECT_EQ(names.size(), 47u);
  EXPECT_EQ(names.front(), "USER");
  EXPECT_EQ(names.back(), "NOOP");
  for (const char* verb : {"RETR", "STOR", "MLSD", "XPWD", "EPSV", "PBSZ"})
    EXPECT_NE(std::find(names.begin(), names.end(), verb), names.end()) << verb;
}

// --- scripted replies (scenarios/README.md, "What a scripted reply does")
// ---------------------------

TEST_F(FtpProtocol, Scripted230ToPassLogsIn) {
  auto p = session();
  EXPECT_EQ(send(*p, "USER bob\r\n"), "331 Please specify the password.\r\n");  // not a user
  const Reply r = p->follow_reply(parse_command("PASS anything\r\n"), 230);
  EXPECT_EQ(r.effect, Effect::none);
  ASSERT_EQ(r.events.size(), 1u);
  EXPECT_EQ(r.events[0].first, "login");
  EXPECT_EQ(r.events[0].second["user"], "bob");
  EXPECT_TRUE(p->logged_in());
  EXPECT_EQ(send(*p, "PWD\r\n"), "257 \"/\" is the current directory\r\n");
}

TEST_F(FtpProtocol, Scripted230ToUserLogsInThere) {
  auto p = session();
  const Reply r = p->follow_reply(parse_command("USER alice\r\n"), 230);
  EXPECT_TRUE(p->logged_in());
  EXPECT_EQ(r.events.at(0).second["user"], "alice");
  EXPECT_EQ(p->cwd(), "/home/alice");
  // A 331 remembers the user for PASS.
  auto q = session();
  EXPECT_EQ(q->follow_reply(parse_command("USER alice\r\n"), 331).effect, Effect::none);
  EXPECT_FALSE(q->logged_in());
  EXPECT_EQ(send(*q, "PASS secret\r\n"), "230 Login successful.\r\n");
}

TEST_F(FtpProtocol, ScriptedFailureChangesNothing) {
  auto p = session();
  EXPECT_EQ(send(*p, "USER alice\r\n"), "331 Please specify the password.\r\n");
  // A refused PASS forgets the USER, as a real refusal does.
  const Reply r = p->follow_reply(parse_command("PASS secret\r\n"), 530);
  EXPECT_EQ(r.effect, Effect::none);
  EXPECT_TRUE(r.events.empty());
  EXPECT_FALSE(p->logged_in());
  EXPECT_EQ(send(*p, "PASS secret\r\n"), "503 Login with USER first.\r\n");
  alice(*p);
  EXPECT_EQ(p->follow_reply(parse_command("CWD /incoming\r\n"), 550).effect, Effect::none);
  EXPECT_EQ(p->cwd(), "/home/alice");
}

TEST_F(FtpProtocol, ScriptedClosingReplies) {
  auto p = session();
  EXPECT_EQ(p->follow_reply(parse_command("NOOP\r\n"), 421).effect, Effect::close);
  EXPECT_EQ(p->follow_reply(parse_command("RETR x\r\n"), 421).effect, Effect::close);
  EXPECT_EQ(p->follow_reply(parse_command("QUIT\r\n"), 221).effect, Effect::close);
  // A greeting that refuses service ends the session; a welcoming one does not.
  Command connect;
  connect.verb = "CONNECT";
  EXPECT_EQ(p->follow_reply(connect, 554).effect, Effect::close);
  EXPECT_EQ(p->follow_reply(connect, 220).effect, Effect::none);
  EXPECT_EQ(p->follow_reply(parse_command("RETR x\r\n"), 450).effect, Effect::none);
}

TEST_F(FtpProtocol, ScriptedSuccessDoesWhatTheCommandDoes) {
  auto p = session();
  alice(*p);
  EXPECT_EQ(p->follow_reply(parse_command("CWD /pub\r\n"), 250).effect, Effect::none);
  EXPECT_EQ(p->cwd(), "/pub");
  // A folder that is not there is not entered, whatever the reply said.
  p->follow_reply(parse_command("CWD /nope\r\n"), 250);
  EXPECT_EQ(p->cwd(), "/pub");
  p->follow_reply(parse_command("CDUP\r\n"), 250);
  EXPECT_EQ(p->cwd(), "/");
  p->follow_reply(parse_command("TYPE A\r\n"), 200);
  p->follow_reply(parse_command("REST 3\r\n"), 350);
  const Reply r = passive_then(*p, "RETR /pub/readme.txt\r\n");
  ASSERT_TRUE(r.transfer);
  EXPECT_TRUE(r.transfer->ascii);
  EXPECT_EQ(r.transfer->offset, 3u);
  // RNFR: the following RNTO renames.
  p->follow_reply(parse_command("RNFR /incoming/old.txt\r\n"), 350);
  EXPECT_EQ(send(*p, "RNTO /incoming/moved.txt\r\n"), "250 Rename successful.\r\n");
  EXPECT_EQ(content_of("/incoming/moved.txt"), "0123456789");
}

TEST_F(FtpProtocol, Scripted234ToAuthStartsTls) {
  auto p = session();  // even when the scenario offers no TLS: the rule said so
  EXPECT_EQ(p->follow_reply(parse_command("AUTH TLS\r\n"), 234).effect, Effect::start_tls);
  EXPECT_EQ(p->follow_reply(parse_command("AUTH TLS\r\n"), 534).effect, Effect::none);
}

TEST_F(FtpProtocol, ScriptedPassiveReplyLeavesNoDataConnection) {
  auto p = session();
  anonymous(*p);
  // A port was opened for an earlier PASV; a scripted 227 names a port nobody listens on.
  EXPECT_EQ(handle(*p, "PASV\r\n").effect, Effect::passive);
  p->passive_opened();
  EXPECT_EQ(p->follow_reply(parse_command("PASV\r\n"), 227).effect, Effect::none);
  EXPECT_EQ(send(*p, "RETR /pub/readme.txt\r\n"), "425 Use PORT or PASV first.\r\n");
  // The same for EPSV, PORT and EPRT.
  p->passive_opened();
  p->follow_reply(parse_command("EPSV\r\n"), 229);
  EXPECT_EQ(send(*p, "RETR /pub/readme.txt\r\n"), "425 Use PORT or PASV first.\r\n");
  EXPECT_EQ(handle(*p, "PORT 192,0,2,10,4,1\r\n").effect, Effect::active);
  p->follow_reply(parse_command("PORT 192,0,2,10,4,2\r\n"), 200);
  EXPECT_EQ(send(*p, "RETR /pub/readme.txt\r\n"), "425 Use PORT or PASV first.\r\n");
  EXPECT_EQ(handle(*p, "EPRT |1|192.0.2.10|5000|\r\n").effect, Effect::active);
  p->follow_reply(parse_command("EPRT |1|192.0.2.10|5001|\r\n"), 200);
  EXPECT_EQ(send(*p, "RETR /pub/readme.txt\r\n"), "425 Use PORT or PASV first.\r\n");
}

}  // namespace
}  // namespace protofarm::ftp
