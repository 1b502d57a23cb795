#include "fakes/common/digest.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "fakes/common/bytes.hpp"

namespace protofarm {

namespace {

std::string hex_of(const unsigned char* md, unsigned int len) {
  return hex_encode(std::string_view(reinterpret_cast<const char*>(md), len), "");
}

}  // namespace

std::string md5_hex(std::string_view bytes) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(bytes.data(), bytes.size(), md, &len, EVP_md5(), nullptr);
  return hex_of(md, len);
}

std::string hmac_md5_hex(std::string_view key, std::string_view message) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_md5(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), md, &len);
  return hex_of(md, len);
}

}  // namespace protofarm
