// The FTP codec, byte by byte: command lines (Telnet IAC included), PORT/EPRT/PASV/EPSV
// addresses, virtual paths, LIST/MLSx lines, TYPE A conversion and replies.
#include <gtest/gtest.h>

#include <chrono>

#include "fakes/ftp/ftp_codec.hpp"

namespace protofarm::ftp {
namespace {

using namespace std::string_literals;
using namespace std::chrono_literals;
using TimePoint = std::chrono::system_clock::time_point;

// A UTC time.
TimePoint utc(int y, unsigned m, unsigned d, int h = 0, int mi = 0, int s = 0) {
  return std::chrono::sys_days{std::chrono::year{y} / std::chrono::month{m} / std::chrono::day{d}} +
         std::chrono::hours{h} + std::chrono::minutes{mi} + std::chrono::seconds{s};
}

const TimePoint kNow = utc(2026, 1, 1);

// --- command lines (RFC 959 4.1, 5.3) --------------------------------------------------------

TEST(FtpCodec, ParsesVerbUpperCasedAndArgument) {
  const Command c = parse_command("retr /pub/readme.txt\r\n");
  EXPECT_EQ(c.verb, "RETR");
  EXPECT_EQ(c.arg, "/pub/readme.txt");
  EXPECT_FALSE(c.bare_lf);
  EXPECT_FALSE(c.has_nul);
  const Command none = parse_command("Pwd\r\n");
  EXPECT_EQ(none.verb, "PWD");
  EXPECT_EQ(none.arg, "");
}

TEST(FtpCodec, ArgumentKeepsItsSpaces) {
  // The argument is everything after the first space: a file name may hold spaces, even at its
  // ends (vsftpd splits the same way).
  const Command c = parse_command("STOR  my file.txt \r\n");
  EXPECT_EQ(c.verb, "STOR");
  EXPECT_EQ(c.arg, " my file.txt ");
  // The argument's case is kept; only the verb is upper-cased.
  EXPECT_EQ(parse_command("cwd Pub/Mixed\r\n").arg, "Pub/Mixed");
  // Spaces before the verb are skipped.
  const Command lead = parse_command("  noop\r\n");
  EXPECT_EQ(lead.verb, "NOOP");
  EXPECT_EQ(lead.arg, "");
}

TEST(FtpCodec, FlagsBareLfAndNul) {
  const Command lf = parse_command("NOOP\n");
  EXPECT_EQ(lf.verb, "NOOP");
  EXPECT_TRUE(lf.bare_lf);
  EXPECT_TRUE(parse_command("\n").bare_lf);
  const Command nul = parse_command("USER a\0b\r\n"s);
  EXPECT_TRUE(nul.has_nul);
  EXPECT_EQ(nul.verb, "USER");
  EXPECT_EQ(nul.arg, "a\0b"s);
  const Command empty = parse_command("\r\n");
  EXPECT_EQ(empty.verb, "");
  EXPECT_EQ(empty.arg, "");
  EXPECT_FALSE(empty.bare_lf);
  // A line without its terminator (the last bytes before EOF) is neither.
  const Command no_end = parse_command("QUIT");
  EXPECT_EQ(no_end.verb, "QUIT");
  EXPECT_FALSE(no_end.bare_lf);
  // A CR alone before the LF is the line end; a CR elsewhere stays in the argument.
  EXPECT_EQ(parse_command("CWD a\rb\r\n").arg, "a\rb");
}

TEST(FtpCodec, TelnetInterruptBeforeAborIsDropped) {
  // RFC 959 4.1.3: clients send IAC IP, IAC DM (the Synch) before an urgent ABOR.
  const Command c = parse_command(
      "\xff\xf4\xff\xf2"
      "ABOR\r\n");
  EXPECT_EQ(c.verb, "ABOR");
  EXPECT_EQ(c.arg, "");
  EXPECT_FALSE(c.bare_lf);
  // WILL/WONT/DO/DONT carry an option byte, dropped with them.
  EXPECT_EQ(parse_command("\xff\xfb\x01NOOP\r\n").verb, "NOOP");
  EXPECT_EQ(parse_command("\xff\xfe\x22NOOP\r\n").verb, "NOOP");
}

TEST(FtpCodec, IacIacIsOneFfByte) {
  // RFC 854: a data byte 255 is sent doubled.
  const Command c = parse_command(
      "STOR a\xff\xff"
      "b\r\n");
  EXPECT_EQ(c.verb, "STOR");
  EXPECT_EQ(c.arg,
            "a\xff"
            "b");
  EXPECT_EQ(parse_command("STOR \xff\xff\xff\xff\r\n").arg, "\xff\xff");
}

// --- PORT and EPRT (RFC 959 4.1.2, RFC 2428 2) ------------------------------------------------

TEST(FtpCodec, ParsesPort) {
  const auto hp = parse_port("192,0,2,10,4,1");
  ASSERT_TRUE(hp);
  EXPECT_EQ(hp->host, "192.0.2.10");
  EXPECT_EQ(hp->port, 1025);
  EXPECT_FALSE(hp->v6);
  // Spaces around the numbers are tolerated (some clients send them); leading zeros too.
  const auto spaced = parse_port(" 10, 0 ,0,001, 255,255");
  ASSERT_TRUE(spaced);
  EXPECT_EQ(spaced->host, "10.0.0.1");
  EXPECT_EQ(spaced->port, 65535);
}

TEST(FtpCodec, RefusesBadPort) {
  EXPECT_EQ(parse_port("192,0,2,256,4,1"), std::nullopt);   // out of range
  EXPECT_EQ(parse_port("192,0,2,10,4,256"), std::nullopt);  // out of range
  EXPECT_EQ(parse_port("192,0,2,10,4"), std::nullopt);      // five numbers
  EXPECT_EQ(parse_port("192,0,2,10,4,1,7"), std::nullopt);  // seven
  EXPECT_EQ(parse_port("192,0,2,10,0,0"), std::nullopt);    // port 0
  EXPECT_EQ(parse_port("192,0,2,-1,4,1"), std::nullopt);
  EXPECT_EQ(parse_port("192,0,2,+1,4,1"), std::nullopt);
  EXPECT_EQ(parse_port("192,0,2,,4,1"), std::nullopt);
  EXPECT_EQ(parse_port("192,0,2,x,4,1"), std::nullopt);
  EXPECT_EQ(parse_port("192.0.2.10:1025"), std::nullopt);
  EXPECT_EQ(parse_port(""), std::nullopt);
}

TEST(FtpCodec, ParsesEprt) {
  // The examples of RFC 2428 2.
  bool unsupported = true;
  const auto v4 = parse_eprt("|1|132.235.1.2|6275|", unsupported);
  EXPECT_FALSE(unsupported);
  ASSERT_TRUE(v4);
  EXPECT_EQ(v4->host, "132.235.1.2");
  EXPECT_EQ(v4->port, 6275);
  EXPECT_FALSE(v4->v6);
  const auto v6 = parse_eprt("|2|1080::8:800:200C:417A|5282|", unsupported);
  EXPECT_FALSE(unsupported);
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "1080::8:800:200c:417a");  // written the normal way
  EXPECT_EQ(v6->port, 5282);
  EXPECT_TRUE(v6->v6);
  // Any printable character but a digit may be the delimiter.
  const auto bang = parse_eprt("!1!132.235.1.2!6275!", unsupported);
  ASSERT_TRUE(bang);
  EXPECT_EQ(bang->host, "132.235.1.2");
}

TEST(FtpCodec, RefusesBadEprt) {
  bool unsupported = true;
  EXPECT_EQ(parse_eprt("5152.235.1.25627555", unsupported), std::nullopt);  // digit delimiter
  EXPECT_FALSE(unsupported);
  EXPECT_EQ(parse_eprt(" 1 132.235.1.2 6275 ", unsupported), std::nullopt);  // space
  EXPECT_EQ(parse_eprt("\x7f"
                       "1\x7f"
                       "132.235.1.2\x7f"
                       "6275\x7f",
                       unsupported),
            std::nullopt);
  EXPECT_EQ(parse_eprt("|1|132.235.1.2|6275", unsupported), std::nullopt);    // no closing
  EXPECT_EQ(parse_eprt("|1|132.235.1.2|6275|x", unsupported), std::nullopt);  // trailing
  EXPECT_EQ(parse_eprt("|1|132.235.1.2|0|", unsupported), std::nullopt);      // port 0
  EXPECT_EQ(parse_eprt("|1|132.235.1.2|65536|", unsupported), std::nullopt);  // port > 65535
  EXPECT_EQ(parse_eprt("|1|132.235.1|6275|", unsupported), std::nullopt);     // not an address
  EXPECT_EQ(parse_eprt("|1|host.example|6275|", unsupported), std::nullopt);  // a name
  EXPECT_EQ(parse_eprt("|||6275|", unsupported), std::nullopt);
  EXPECT_EQ(parse_eprt("", unsupported), std::nullopt);
  EXPECT_FALSE(unsupported);
}

TEST(FtpCodec, EprtFamilyMismatchIsASyntaxError) {
  bool unsupported = true;
  EXPECT_EQ(parse_eprt("|1|::1|6275|", unsupported), std::nullopt);
  EXPECT_FALSE(unsupported);
  unsupported = true;
  EXPECT_EQ(parse_eprt("|2|132.235.1.2|6275|", unsupported), std::nullopt);
  EXPECT_FALSE(unsupported);
}

TEST(FtpCodec, EprtUnknownFamilyIsFlagged) {
  // RFC 2428 2: a well-formed EPRT naming a protocol the server does not speak gets 522.
  bool unsupported = false;
  EXPECT_EQ(parse_eprt("|3|132.235.1.2|6275|", unsupported), std::nullopt);
  EXPECT_TRUE(unsupported);
  unsupported = false;
  EXPECT_EQ(parse_eprt("|0|whatever|6275|", unsupported), std::nullopt);
  EXPECT_TRUE(unsupported);
  // The flag is cleared by the next call.
  EXPECT_TRUE(parse_eprt("|1|132.235.1.2|6275|", unsupported));
  EXPECT_FALSE(unsupported);
}

// --- PASV, EPSV and address helpers -------------------------------------------------------------

TEST(FtpCodec, PasvReplyBytes) {
  // RFC 959 4.1.2: h1,h2,h3,h4,p1,p2 with port = p1 * 256 + p2.
  EXPECT_EQ(pasv_reply("192.0.2.10", 1025), "227 Entering Passive Mode (192,0,2,10,4,1).\r\n");
  EXPECT_EQ(pasv_reply("10.0.0.1", 65535), "227 Entering Passive Mode (10,0,0,1,255,255).\r\n");
  EXPECT_EQ(pasv_reply("127.0.0.1", 21), "227 Entering Passive Mode (127,0,0,1,0,21).\r\n");
  // An IPv4-mapped IPv6 address is written as its IPv4 part.
  EXPECT_EQ(pasv_reply("::ffff:192.0.2.10", 40000),
            "227 Entering Passive Mode (192,0,2,10,156,64).\r\n");
  // PASV cannot name an IPv6 address (RFC 2428: use EPSV).
  EXPECT_EQ(pasv_reply("::1", 40000), std::nullopt);
  EXPECT_EQ(pasv_reply("2001:db8::1", 40000), std::nullopt);
  EXPECT_EQ(pasv_reply("not an address", 40000), std::nullopt);
}

TEST(FtpCodec, EpsvReplyBytes) {
  // RFC 2428 3: only the port, between the delimiters.
  EXPECT_EQ(epsv_reply(6446), "229 Entering Extended Passive Mode (|||6446|)\r\n");
  EXPECT_EQ(epsv_reply(65535), "229 Entering Extended Passive Mode (|||65535|)\r\n");
}

TEST(FtpCodec, UnmapsIpv4MappedAddresses) {
  EXPECT_EQ(unmap_v4("::ffff:192.0.2.10"), "192.0.2.10");
  EXPECT_EQ(unmap_v4("::FFFF:10.1.2.3"), "10.1.2.3");
  EXPECT_EQ(unmap_v4("192.0.2.10"), "192.0.2.10");
  EXPECT_EQ(unmap_v4("::1"), "::1");
  EXPECT_EQ(unmap_v4("2001:db8::1"), "2001:db8::1");
  EXPECT_EQ(unmap_v4("memory"), "memory");
  EXPECT_EQ(unmap_v4(""), "");
}

TEST(FtpCodec, AddressFamilies) {
  // RFC 2428: 1 is IPv4, 2 is IPv6.
  EXPECT_EQ(address_family("192.0.2.10"), 1);
  EXPECT_EQ(address_family("::1"), 2);
  EXPECT_EQ(address_family("2001:db8::1"), 2);
  EXPECT_EQ(address_family("::ffff:192.0.2.10"), 1);
  EXPECT_EQ(address_family("garbage"), 1);
}

// --- virtual paths ------------------------------------------------------------------------------

TEST(FtpCodec, ResolvesRelativeAndAbsolutePaths) {
  EXPECT_EQ(resolve_path("/", "pub"), "/pub");
  EXPECT_EQ(resolve_path("/pub", "readme.txt"), "/pub/readme.txt");
  EXPECT_EQ(resolve_path("/pub", "/etc"), "/etc");
  EXPECT_EQ(resolve_path("/pub", ""), "/pub");  // an empty argument is the working folder
  EXPECT_EQ(resolve_path("/", ""), "/");
  EXPECT_EQ(resolve_path("/pub", "/"), "/");
}

TEST(FtpCodec, NormalizesDotsAndSlashes) {
  EXPECT_EQ(resolve_path("/pub", "a/../b"), "/pub/b");
  EXPECT_EQ(resolve_path("/pub", "./x/./y"), "/pub/x/y");
  EXPECT_EQ(resolve_path("/pub", "x//y/"), "/pub/x/y");
  EXPECT_EQ(resolve_path("/pub", "//x///y"), "/x/y");
  EXPECT_EQ(resolve_path("/a/b", ".."), "/a");
  EXPECT_EQ(resolve_path("/a/b", "."), "/a/b");
}

TEST(FtpCodec, RootCannotBeLeft) {
  // As in a chroot: ".." at the root stays at the root.
  EXPECT_EQ(resolve_path("/", ".."), "/");
  EXPECT_EQ(resolve_path("/pub", "../../../etc/passwd"), "/etc/passwd");
  EXPECT_EQ(resolve_path("/pub", "/.."), "/");
  EXPECT_EQ(resolve_path("/", "../../.."), "/");
  EXPECT_EQ(resolve_path("/a", "../../b/../../c"), "/c");
}

TEST(FtpCodec, BackslashAndNulNameNothing) {
  EXPECT_EQ(resolve_path("/", "a\\..\\b"), std::nullopt);
  EXPECT_EQ(resolve_path("/", "..\\"), std::nullopt);
  EXPECT_EQ(resolve_path("/", "a\0b"s), std::nullopt);
  EXPECT_EQ(resolve_path("/pub", "\0"s), std::nullopt);
}

TEST(FtpCodec, EncodedLookingNamesStayLiteral) {
  // Nothing is decoded: "%2e%2e" is a name, not "..".
  EXPECT_EQ(resolve_path("/", "%2e%2e/x"), "/%2e%2e/x");
  EXPECT_EQ(resolve_path("/pub", "..%2f..%2fetc"), "/pub/..%2f..%2fetc");
  EXPECT_EQ(resolve_path("/", "..."), "/...");
  EXPECT_EQ(resolve_path("/", "~"), "/~");
  EXPECT_EQ(resolve_path("/", "a b"), "/a b");
}

TEST(FtpCodec, ParentAndBaseName) {
  EXPECT_EQ(parent_of("/"), "/");
  EXPECT_EQ(parent_of("/a"), "/");
  EXPECT_EQ(parent_of("/a/b"), "/a");
  EXPECT_EQ(parent_of("/a/b/c.txt"), "/a/b");
  EXPECT_EQ(base_name("/"), "");
  EXPECT_EQ(base_name("/a"), "a");
  EXPECT_EQ(base_name("/a/b/c.txt"), "c.txt");
}

TEST(FtpCodec, QuotePathDoublesQuotes) {
  // RFC 959 appendix II: a quote in the name is doubled inside the quoted path.
  EXPECT_EQ(quote_path("/"), "\"/\"");
  EXPECT_EQ(quote_path("/pub"), "\"/pub\"");
  EXPECT_EQ(quote_path("/say \"hi\""), "\"/say \"\"hi\"\"\"");
  EXPECT_EQ(quote_path("/\"\""), "\"/\"\"\"\"\"");
}

// --- listings -----------------------------------------------------------------------------------

EntryInfo file(std::string name, std::uint64_t size, TimePoint mtime, unsigned mode = 0644) {
  EntryInfo e;
  e.name = std::move(name);
  e.size = size;
  e.mtime = mtime;
  e.mode = mode;
  return e;
}

EntryInfo folder(std::string name, TimePoint mtime, unsigned mode = 0755) {
  EntryInfo e = file(std::move(name), 0, mtime, mode);
  e.dir = true;
  return e;
}

TEST(FtpCodec, UnixListLineOldFileShowsTheYear) {
  EXPECT_EQ(list_line(file("readme.txt", 5, utc(2020, 1, 1)), ListFormat::unix, kNow),
            "-rw-r--r--   1 ftp      ftp             5 Jan 01  2020 readme.txt\r\n");
  // Exactly 182 days old is no longer recent.
  EXPECT_EQ(list_line(file("big", 123456789, utc(2025, 7, 3), 0751), ListFormat::unix, kNow),
            "-rwxr-x--x   1 ftp      ftp      123456789 Jul 03  2025 big\r\n");
  // A time in the future shows the year too, as ls does.
  EXPECT_EQ(list_line(file("later", 1, utc(2026, 3, 1, 10, 0)), ListFormat::unix, kNow),
            "-rw-r--r--   1 ftp      ftp             1 Mar 01  2026 later\r\n");
}

TEST(FtpCodec, UnixListLineRecentEntryShowsTheTime) {
  EXPECT_EQ(list_line(folder("pub", utc(2025, 12, 24, 13, 5, 9)), ListFormat::unix, kNow),
            "drwxr-xr-x   2 ftp      ftp             0 Dec 24 13:05 pub\r\n");
  EXPECT_EQ(list_line(file("a b", 7, utc(2025, 7, 4), 0600), ListFormat::unix, kNow),
            "-rw-------   1 ftp      ftp             7 Jul 04 00:00 a b\r\n");
  EXPECT_EQ(list_line(file("now", 0, kNow, 0), ListFormat::unix, kNow),
            "----------   1 ftp      ftp             0 Jan 01 00:00 now\r\n");
}

TEST(FtpCodec, DosListLines) {
  // IIS's MS-DOS style.
  EXPECT_EQ(list_line(folder("pub", utc(2020, 1, 1)), ListFormat::dos, kNow),
            "01-01-20  12:00AM       <DIR>          pub\r\n");
  EXPECT_EQ(list_line(folder("x", utc(2025, 12, 24, 13, 5, 9)), ListFormat::dos, kNow),
            "12-24-25  01:05PM       <DIR>          x\r\n");
}

// IIS writes a file's size right-aligned in 21 columns after the time, so that file and folder
// names start in the same column (39): "02-02-19  11:18PM [17 spaces]1024 .rnd" next to
// "02-25-19  09:15PM       <DIR>          inetpub" (real IIS output; FAR's parser: "the file
// size always ends at position 37").
TEST(FtpCodec, DosListLineFileSizeEndsInColumn37) {
  const std::string dir =
      list_line(folder("inetpub", utc(2019, 2, 25, 21, 15)), ListFormat::dos, kNow);
  const std::string f =
      list_line(file(".rnd", 1024, utc(2019, 2, 2, 23, 18)), ListFormat::dos, kNow);
  EXPECT_EQ(dir, "02-25-19  09:15PM       <DIR>          inetpub\r\n");
  EXPECT_EQ(f, "02-02-19  11:18PM                 1024 .rnd\r\n");
  EXPECT_EQ(dir.find("inetpub"), f.find(".rnd"));
}

TEST(FtpCodec, MlsxFacts) {
  // RFC 3659 7: facts separated by ";", then one space and the name.
  EXPECT_EQ(mlsx_facts(file("readme.txt", 5, utc(2020, 1, 1))),
            "type=file;size=5;modify=20200101000000;perm=r;UNIX.mode=0644; readme.txt");
  EntryInfo w = file("up.bin", 0, utc(2025, 12, 24, 13, 5, 9), 0600);
  w.writable = true;
  EXPECT_EQ(mlsx_facts(w),
            "type=file;size=0;modify=20251224130509;perm=radfw;UNIX.mode=0600; up.bin");
  EXPECT_EQ(mlsx_facts(folder("pub", utc(2020, 1, 1))),
            "type=dir;modify=20200101000000;perm=el;UNIX.mode=0755; pub");
  EntryInfo wd = folder("incoming", utc(2020, 1, 1), 0777);
  wd.writable = true;
  EXPECT_EQ(mlsx_facts(wd), "type=dir;modify=20200101000000;perm=elcmpdf;UNIX.mode=0777; incoming");
  // MLSD names the listed folder cdir (RFC 3659 7.5.1).
  EXPECT_EQ(mlsx_facts(folder(".", utc(2020, 1, 1)), "cdir"),
            "type=cdir;modify=20200101000000;perm=el;UNIX.mode=0755; .");
  // Only the permission bits are shown, in four octal digits.
  EXPECT_EQ(mlsx_facts(file("s", 1, utc(2020, 1, 1), 04755)),
            "type=file;size=1;modify=20200101000000;perm=r;UNIX.mode=4755; s");
}

TEST(FtpCodec, FtpTimeIsUtcDigits) {
  // RFC 3659 2.3: YYYYMMDDHHMMSS.
  EXPECT_EQ(ftp_time(utc(2020, 1, 1)), "20200101000000");
  EXPECT_EQ(ftp_time(utc(2025, 12, 24, 13, 5, 9)), "20251224130509");
  EXPECT_EQ(ftp_time(TimePoint{}), "19700101000000");
  // Fractions of a second are dropped.
  EXPECT_EQ(ftp_time(utc(1999, 12, 31, 23, 59, 59) + 999ms), "19991231235959");
}

// --- TYPE A (RFC 959 3.1.1.1)
// ---------------------------------------------------------------------

TEST(FtpCodec, AsciiEncoderAddsCrBeforeBareLf) {
  AsciiEncoder e;
  EXPECT_EQ(e.encode("a\nb\r\nc\n"), "a\r\nb\r\nc\r\n");
  EXPECT_EQ(e.encode("\n\n"), "\r\n\r\n");
  EXPECT_EQ(e.encode("lone\rcr"), "lone\rcr");
  EXPECT_EQ(e.encode(""), "");
}

TEST(FtpCodec, AsciiEncoderAcrossChunks) {
  // A CR at the end of one chunk and the LF at the start of the next are one line end.
  AsciiEncoder e;
  EXPECT_EQ(e.encode("a\r"), "a\r");
  EXPECT_EQ(e.encode("\nb\n"), "\nb\r\n");
  // A LF that starts a chunk after anything but CR gets its CR.
  EXPECT_EQ(e.encode("c"), "c");
  EXPECT_EQ(e.encode("\n"), "\r\n");
}

TEST(FtpCodec, AsciiDecoderTurnsCrLfIntoLf) {
  AsciiDecoder d;
  EXPECT_EQ(d.decode("a\r\nb\r\n"), "a\nb\n");
  // A lone CR stays; CR CR LF keeps the first.
  EXPECT_EQ(d.decode("x\ry\r\r\n"), "x\ry\r\n");
  // A bare LF stays a LF.
  EXPECT_EQ(d.decode("z\n"), "z\n");
  EXPECT_EQ(d.finish(), "");
}

TEST(FtpCodec, AsciiDecoderAcrossChunks) {
  AsciiDecoder d;
  EXPECT_EQ(d.decode("a\r"), "a");  // the CR is held back
  EXPECT_EQ(d.decode("\nb"), "\nb");
  EXPECT_EQ(d.decode("c\r"), "c");
  EXPECT_EQ(d.decode("d"), "\rd");  // it was a lone CR after all
  EXPECT_EQ(d.decode("\r"), "");
  EXPECT_EQ(d.decode(""), "");
  EXPECT_EQ(d.finish(), "\r");  // a CR at the very end is kept
  EXPECT_EQ(d.finish(), "");
}

// --- replies (RFC 959 4.2)
// ------------------------------------------------------------------------

TEST(FtpCodec, SingleLineReply) {
  EXPECT_EQ(reply(200, "NOOP ok."), "200 NOOP ok.\r\n");
  EXPECT_EQ(reply(550, ""), "550 \r\n");
  EXPECT_EQ(reply(200, std::vector<std::string>{"one"}), "200 one\r\n");
  EXPECT_EQ(reply(200, std::vector<std::string>{}), "200 \r\n");
}

TEST(FtpCodec, MultiLineReply) {
  // The first line "code-", the last "code ", the lines between as given (RFC 2389 3.2).
  EXPECT_EQ(reply(211, std::vector<std::string>{"Features:", " MDTM", " SIZE", "End"}),
            "211-Features:\r\n MDTM\r\n SIZE\r\n211 End\r\n");
  EXPECT_EQ(reply(214, std::vector<std::string>{"a", "b"}), "214-a\r\n214 b\r\n");
}

}  // namespace
}  // namespace protofarm::ftp
