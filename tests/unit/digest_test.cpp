// MD5 and HMAC-MD5 in hex, against the RFCs' own examples.
#include "fakes/common/digest.hpp"

#include <gtest/gtest.h>

#include <string>

#include "fakes/common/bytes.hpp"

namespace protofarm {
namespace {

TEST(Digest, Md5) {
  EXPECT_EQ(md5_hex(""), "d41d8cd98f00b204e9800998ecf8427e");  // RFC 1321 A.5
  EXPECT_EQ(md5_hex("abc"), "900150983cd24fb0d6963f7d28e17f72");
  // RFC 1939 7, the APOP example: MD5 of the greeting's timestamp followed by the secret.
  EXPECT_EQ(md5_hex("<1896.697170952@dbc.mtview.ca.us>tanstaaf"),
            "c4c9334bac560ecc979e58001b3e22fb");
}

TEST(Digest, HmacMd5) {
  // RFC 2195 2's example.
  EXPECT_EQ(hmac_md5_hex("tanstaaftanstaaf", "<1896.697170952@postoffice.reston.mci.net>"),
            "b913a602c7eda7a495b4e6e7334d3890");
  // RFC 2104 Appendix (RFC 2202 2, test case 1).
  EXPECT_EQ(hmac_md5_hex(std::string(16, '\x0b'), "Hi There"), "9294727a3638bb1c13f48ef8158bfc9d");
}

TEST(Digest, HexDigestsCompareIgnoringCase) {
  EXPECT_TRUE(iequals("C4C9334BAC560ECC979E58001B3E22FB", "c4c9334bac560ecc979e58001b3e22fb"));
  EXPECT_FALSE(iequals("c4c9", "c4c9334bac560ecc979e58001b3e22fb"));
  EXPECT_FALSE(iequals("c4c9334bac560ecc979e58001b3e22fa", "c4c9334bac560ecc979e58001b3e22fb"));
  // ASCII letters only: other bytes must match exactly.
  EXPECT_TRUE(iequals("", ""));
  EXPECT_FALSE(iequals("\xe4", "\xc4"));
  EXPECT_FALSE(iequals("[", "{"));
}

}  // namespace
}  // namespace protofarm
