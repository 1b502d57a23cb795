#include <gtest/gtest.h>

#include "fakes/common/bytes.hpp"

TEST(Smoke, Base64RoundTrip) {
  EXPECT_EQ(protofarm::base64_encode("hello"), "aGVsbG8=");
  EXPECT_EQ(protofarm::base64_decode("aGVsbG8="), "hello");
}
