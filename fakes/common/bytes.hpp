// Byte helpers shared by the recorder, the rule engine and the fakes: base64 and hex codecs,
// UTF-8 checking, ASCII case, deterministic hashing, and scenario payloads given as text, hex or
// base64.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "fakes/common/config.hpp"

namespace protofarm {

std::string base64_encode(std::string_view bytes);
std::optional<std::string> base64_decode(std::string_view text);  // ignores whitespace
// The first word of a frame, what rules compare `on` with in the raw fakes: from the first
// character that is not a space or tab, up to a space, tab, CR or LF.
std::string first_word(std::string_view frame);

std::optional<std::string> hex_decode(std::string_view text);  // "35 35 30 0a", "3535300a"
// "35 35 30 0a"; with separator "", "3535300a" (as digests are written)
std::string hex_encode(std::string_view bytes, std::string_view separator = " ");
bool is_valid_utf8(std::string_view bytes);
// "%2F" and "%2f" become "/"; a '%' not followed by two hex digits stays as it is (a JSON
// pointer in a $ref, the control API's paths). HTTP's docroot decodes strictly instead.
std::string percent_decode_lenient(std::string_view text);
// The length of the valid multi-byte UTF-8 character that starts at s[i], or 0 when s[i] does
// not start one (ASCII, or a broken sequence): what escapers keep readable.
std::size_t utf8_char_at(std::string_view s, std::size_t i);
// Appends "\xHH" for byte c.
void append_hex_escape(std::string& out, unsigned char c);
// Printable rendering for people: \r \n \t \xNN for control bytes and invalid UTF-8.
std::string escape_bytes(std::string_view bytes, bool keep_newlines = false);

// ASCII upper case (protocol keywords compare case-insensitively; other bytes stay as they are).
std::string to_upper(std::string_view s);
std::string to_lower(std::string_view s);
// Whether a and b are equal but for ASCII case (keywords, hex digests).
bool iequals(std::string_view a, std::string_view b);
// A line without its line end: one trailing LF, and a CR before it, are removed.
std::string_view strip_line_end(std::string_view line);
// A deterministic 64-bit FNV-1a hash, for ids and timestamps that follow from the seed.
std::uint64_t fnv1a(std::string_view bytes, std::uint64_t seed = 0xcbf29ce484222325ULL);
// One step of SplitMix64: mixes a seed into a well-spread 64-bit value.
std::uint64_t splitmix64(std::uint64_t x);

// A payload in a scenario: a plain string is text; a map has exactly one of
// `text`, `hex` or `base64`. Records an error and returns nullopt when it cannot be decoded.
std::optional<std::string> parse_payload(const Cfg& cfg);

// Replaces ${1}..${9} and ${0} with regex captures; `${` without a known name stays as it is.
std::string substitute_captures(std::string_view templ, const std::vector<std::string>& captures);

}  // namespace protofarm
