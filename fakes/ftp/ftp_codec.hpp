// The FTP codec: command lines, data-channel addresses, virtual paths, listings and ASCII
// conversion, as pure functions with no sockets and no state (tests/unit/ftp_codec_test.cpp).
//
// RFC 959 (commands, replies, PORT/PASV, TYPE A), RFC 2428 (EPRT/EPSV), RFC 3659 (MLSx facts,
// MDTM/SIZE time and size formats). Paths are the fake's virtual tree (file_tree.hpp): whatever
// a client sends, resolve_path() gives an absolute path inside it or nothing.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace protofarm::ftp {

// RFC 959 does not bound a command line; vsftpd reads 4 KiB, ProFTPD 512 bytes + path max.
inline constexpr std::size_t kMaxCommandLine = 4096;

struct Command {
  std::string verb;  // upper case ("RETR"); "" for an empty line
  std::string arg;   // everything after the first space, line end removed (spaces kept)
  bool has_nul = false;
  bool bare_lf = false;  // ended in LF without CR (accepted, as real servers do)
};

// Parses one line as read (terminator included). Telnet IAC sequences (IAC IP, IAC DM that
// clients put before an urgent ABOR, RFC 959 4.1.3) are dropped, IAC IAC is one 0xFF byte.
Command parse_command(std::string_view line);

// A data-channel address from PORT (RFC 959 4.1.2: h1,h2,h3,h4,p1,p2) or EPRT (RFC 2428 2:
// <d><net-prt><d><net-addr><d><tcp-port><d>).
struct HostPort {
  std::string host;  // numeric IPv4 or IPv6
  std::uint16_t port = 0;
  bool v6 = false;
};
std::optional<HostPort> parse_port(std::string_view arg);
// For EPRT, `unsupported_family` is set when the syntax is right but the protocol is neither 1
// nor 2 (RFC 2428 2: reply 522).
std::optional<HostPort> parse_eprt(std::string_view arg, bool& unsupported_family);
// "227 Entering Passive Mode (h1,h2,h3,h4,p1,p2)." — host is an IPv4 address (an IPv4-mapped
// IPv6 address is written as its IPv4 part); nullopt for an IPv6 host (PASV cannot say it).
std::optional<std::string> pasv_reply(std::string_view host, std::uint16_t port);
// "229 Entering Extended Passive Mode (|||port|)"
std::string epsv_reply(std::uint16_t port);
// The address family of a host as EPRT/EPSV number it (1 IPv4, 2 IPv6).
int address_family(std::string_view host);
// An IPv4-mapped IPv6 address ("::ffff:1.2.3.4") as its IPv4 part; other hosts unchanged.
std::string unmap_v4(std::string_view host);

// The absolute, normalized path that `arg` names from the working directory `cwd` (itself
// absolute and normalized). "." and empty components are dropped; ".." goes up and stops at the
// root (as in a chroot). nullopt for a NUL byte or a backslash (never part of a name here), so
// that nothing a client sends can name a place outside the tree. An empty arg is cwd.
std::optional<std::string> resolve_path(std::string_view cwd, std::string_view arg);
// The parent folder of a normalized absolute path ("/" for "/" and "/a"), and its last name.
std::string parent_of(std::string_view path);
std::string base_name(std::string_view path);

// A path in a reply: RFC 959 appendix II doubles every quote inside the quoted name.
std::string quote_path(std::string_view path);

// What a listing line shows of an entry.
struct EntryInfo {
  std::string name;
  bool dir = false;
  std::uint64_t size = 0;
  std::chrono::system_clock::time_point mtime;
  unsigned mode = 0644;   // permission bits
  bool writable = false;  // for MLSx `perm`
};
enum class ListFormat { unix, dos };
// One line of LIST (with CRLF): `ls -l` style ("-rw-r--r--   1 ftp      ftp          5 Jan 01
// 2020 name"; the time instead of the year within six months of `now`), or IIS's DOS style
// ("01-01-20  12:00AM       <DIR>          name").
std::string list_line(const EntryInfo& e, ListFormat format,
                      std::chrono::system_clock::time_point now);
// RFC 3659 7: "type=file;size=5;modify=20200101000000;perm=r; name" (no line end); `cdir` for
// the folder itself in MLSD, `pdir` for its parent.
std::string mlsx_facts(const EntryInfo& e, std::string_view type_override = {});
// RFC 3659 2.3: YYYYMMDDHHMMSS in UTC.
std::string ftp_time(std::chrono::system_clock::time_point t);

// TYPE A conversion (RFC 959 3.1.1.1): on the wire every line ends in CRLF. Stateful across
// chunks: a CR at the end of one chunk and LF at the start of the next are one line end.
class AsciiEncoder {  // store (LF) -> wire (CRLF): a bare LF becomes CRLF
 public:
  std::string encode(std::string_view chunk);

 private:
  bool last_cr_ = false;
};
class AsciiDecoder {  // wire (CRLF) -> store (LF): CRLF becomes LF, a lone CR stays
 public:
  std::string decode(std::string_view chunk);
  std::string finish();  // a CR held back at the end

 private:
  bool pending_cr_ = false;
};

// A reply: one line "code text\r\n"; or a multi-line reply in RFC 959 4.2's other form, which
// FEAT (RFC 2389 3.2), STAT, HELP and MLST (RFC 3659 7.2) use: the first line gets "code-", the
// last "code ", and the lines between are sent as given (FEAT's " MDTM", MLST's " type=file;...").
std::string reply(int code, std::string_view text);
std::string reply(int code, const std::vector<std::string>& lines);

}  // namespace protofarm::ftp
