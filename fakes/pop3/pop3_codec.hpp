// The POP3 codec: bytes to commands and replies to bytes, with no sockets and no state.
//
// Everything here is a pure function, unit-tested byte by byte (tests/unit/pop3_codec_test.cpp):
// command-line parsing (RFC 1939 3), reply rendering and TOP's head extraction (RFC 1939 7).
// What POP3 shares with other line protocols lives in fakes/common: the exact octet counts and
// dot-stuffing of multi-line replies (multiline.hpp: normalize_message, dot_stuff), the APOP
// digest's MD5 (digest.hpp) and the SASL exchange behind AUTH (sasl.hpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fakes/common/multiline.hpp"

namespace protofarm::pop3 {

// RFC 2449 4: "command lines are at most 255 octets, including the terminating CRLF".
inline constexpr std::size_t kMaxCommandLine = 255;

// One command line as the client sent it.
struct Command {
  std::string verb;                // the keyword, upper case ("RETR"); "" for an empty line
  std::string args;                // the rest of the line after one space, without the line end
  std::vector<std::string> words;  // args split on runs of spaces (empty words dropped)
  bool has_nul = false;            // a NUL byte anywhere in the line
  bool eight_bit = false;          // a byte >= 0x80 anywhere in the line
  bool bare_lf = false;            // ended in LF without CR
};

// Parses one line as read (terminator included, or none at end of input). Never fails: odd
// input comes back flagged, for the protocol to reject with a clear -ERR.
Command parse_command(std::string_view line);

// A message number argument (RFC 1939 5): decimal digits only, 1 or more, no sign; nullopt for
// anything else, zero, or a number too large to be any message.
std::optional<std::size_t> parse_message_number(std::string_view word);
// A non-negative line count for TOP.
std::optional<std::size_t> parse_line_count(std::string_view word);

// "+OK text\r\n" / "-ERR text\r\n" (just "+OK\r\n" for empty text).
std::string ok(std::string_view text = {});
std::string err(std::string_view text);
// A multi-line reply (RFC 1939 3): the +OK line, each line dot-stuffed and CRLF-terminated, then
// ".\r\n". Messages are stored normalize_message()d, so that their size() is the exact octet
// count LIST, STAT and RETR report, and sent with dot_stuff() (fakes/common/multiline.hpp).
std::string multiline(std::string_view first, const std::vector<std::string>& lines);

// TOP (RFC 1939 7): the header, the blank line after it and the first `lines` lines of the body
// of a normalized message. A message without a blank line is all header and comes back whole.
std::string message_top(std::string_view normalized, std::size_t lines);

// RFC 1939 7: a unique-id is 1 to 70 characters from 0x21 to 0x7E.
bool valid_unique_id(std::string_view uid);

}  // namespace protofarm::pop3
