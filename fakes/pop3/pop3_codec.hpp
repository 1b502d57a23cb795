// The POP3 codec: bytes to commands and replies to bytes, with no sockets and no state.
//
// Everything here is a pure function, unit-tested byte by byte (tests/unit/pop3_codec_test.cpp):
// command-line parsing (RFC 1939 3), reply rendering, the message transformations behind exact
// octet counts and dot-stuffing (RFC 1939 3 and 11), TOP's head extraction, the APOP digest
// (RFC 1939 7) and the SASL decoding for AUTH PLAIN and LOGIN (RFC 5034, RFC 4616).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

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
// A multi-line reply: the +OK line, each line dot-stuffed and CRLF-terminated, then ".\r\n".
std::string multiline(std::string_view first, const std::vector<std::string>& lines);

// A message as it is sent (RFC 1939 3 and RFC 5322 2.3): every bare LF becomes CRLF, and a
// message that does not end with a line end gets CRLF added (a bare CR at the end gets LF). Its
// size() is the exact octet count that LIST, STAT and RETR report. The empty message stays empty.
std::string normalize_message(std::string_view bytes);
// The body of a multi-line reply for a normalized message: a "." that begins a line is doubled
// (RFC 1939 3, "byte-stuffed"), and the terminating ".\r\n" is appended.
std::string dot_stuff(std::string_view normalized);
// TOP (RFC 1939 7): the header, the blank line after it and the first `lines` lines of the body
// of a normalized message. A message without a blank line is all header and comes back whole.
std::string message_top(std::string_view normalized, std::size_t lines);

// The lowercase hex MD5 of timestamp + secret (RFC 1939 7, APOP).
std::string apop_digest(std::string_view timestamp, std::string_view secret);
// Hex digests compare case-insensitively.
bool digest_equal(std::string_view a, std::string_view b);

// RFC 4616: message = [authzid] NUL authcid NUL passwd.
struct PlainCredentials {
  std::string authzid, authcid, password;
};
// Splits a decoded PLAIN response; nullopt unless it is three NUL-separated fields with a
// non-empty authcid.
std::optional<PlainCredentials> parse_sasl_plain(std::string_view decoded);
// The same from base64; nullopt also when it is not base64.
std::optional<PlainCredentials> decode_sasl_plain(std::string_view base64);
// A SASL response line (RFC 5034 4): "*" cancels; "=" is an empty initial response.
bool is_sasl_cancel(std::string_view line);
// base64 text, or nullopt when the line is not valid base64 (strips the line end).
std::optional<std::string> decode_sasl_line(std::string_view line);

// RFC 1939 7: a unique-id is 1 to 70 characters from 0x21 to 0x7E.
bool valid_unique_id(std::string_view uid);

// A deterministic 64-bit FNV-1a hash, for default unique-ids and APOP timestamps.
std::uint64_t fnv1a(std::string_view bytes, std::uint64_t seed = 0xcbf29ce484222325ULL);

// Strips one trailing CRLF or LF.
std::string_view strip_line_end(std::string_view line);

}  // namespace protofarm::pop3
