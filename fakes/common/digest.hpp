// Message digests as line protocols write them: lower-case hex, compared with iequals()
// (fakes/common/bytes.hpp) since clients may send upper case.
//
// SHA-256 names payloads in transcripts (FTP uploads and downloads), computed as the bytes pass.
//
// MD5 is long broken as a security measure; it is here because the login mechanisms the fakes
// must speak are defined with it: APOP (RFC 1939 7) and CRAM-MD5 (RFC 2195 2).
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace protofarm {

// The MD5 digest of bytes (RFC 1321), 32 lower-case hex digits.
std::string md5_hex(std::string_view bytes);
// HMAC-MD5 (RFC 2104) of message under key, 32 lower-case hex digits.
std::string hmac_md5_hex(std::string_view key, std::string_view message);

// SHA-256 (FIPS 180-4), 64 lower-case hex digits.
std::string sha256_hex(std::string_view bytes);

// SHA-256 of bytes that arrive in pieces.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(Sha256&&) noexcept;
  Sha256& operator=(Sha256&&) noexcept;
  void update(std::string_view bytes);
  // The digest of everything so far, 64 lower-case hex digits (the state is kept).
  std::string hex() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace protofarm
