// Message digests as line protocols write them: lower-case hex, compared with iequals()
// (fakes/common/bytes.hpp) since clients may send upper case.
//
// MD5 is long broken as a security measure; it is here because the login mechanisms the fakes
// must speak are defined with it: APOP (RFC 1939 7) and CRAM-MD5 (RFC 2195 2).
#pragma once

#include <string>
#include <string_view>

namespace protofarm {

// The MD5 digest of bytes (RFC 1321), 32 lower-case hex digits.
std::string md5_hex(std::string_view bytes);
// HMAC-MD5 (RFC 2104) of message under key, 32 lower-case hex digits.
std::string hmac_md5_hex(std::string_view key, std::string_view message);

}  // namespace protofarm
