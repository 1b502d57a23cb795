// Listen addresses (`listen:` values) and endpoint descriptions in transcripts.
#include "fakes/common/net.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <cstddef>
#include <cstring>

namespace protofarm {
namespace {

ListenAddress parse_ok(const std::string& text) {
  std::string why;
  const auto a = parse_listen(text, why);
  EXPECT_TRUE(a.has_value()) << text << ": " << why;
  EXPECT_EQ(why, "") << text;
  return a.value_or(ListenAddress{});
}

std::string parse_error(const std::string& text) {
  std::string why;
  const auto a = parse_listen(text, why);
  EXPECT_FALSE(a.has_value()) << text << " was accepted";
  EXPECT_NE(why, "") << text;
  return why;
}

TEST(ParseListen, IPv4) {
  const auto a = parse_ok("127.0.0.1:0");
  EXPECT_EQ(a.kind, ListenAddress::Kind::inet);
  EXPECT_EQ(a.host, "127.0.0.1");
  EXPECT_EQ(a.port, 0);
  EXPECT_EQ(a.text, "127.0.0.1:0");

  const auto b = parse_ok("0.0.0.0:25");
  EXPECT_EQ(b.host, "0.0.0.0");
  EXPECT_EQ(b.port, 25);
  EXPECT_EQ(parse_ok("10.1.2.3:65535").port, 65535);
}

TEST(ParseListen, AnEmptyHostIsEveryIPv4Interface) {
  const auto a = parse_ok(":8080");
  EXPECT_EQ(a.host, "0.0.0.0");
  EXPECT_EQ(a.port, 8080);
}

TEST(ParseListen, LocalhostIsTheIPv4Loopback) {
  const auto a = parse_ok("localhost:0");
  EXPECT_EQ(a.host, "127.0.0.1");
  EXPECT_EQ(a.port, 0);
}

TEST(ParseListen, IPv6InBrackets) {
  const auto a = parse_ok("[::1]:2525");
  EXPECT_EQ(a.kind, ListenAddress::Kind::inet);
  EXPECT_EQ(a.host, "::1");
  EXPECT_EQ(a.port, 2525);
  EXPECT_EQ(parse_ok("[::]:0").host, "::");
  EXPECT_EQ(parse_ok("[fe80::1:2]:1").host, "fe80::1:2");
  EXPECT_EQ(parse_ok("[::ffff:127.0.0.1]:0").host, "::ffff:127.0.0.1");
}

TEST(ParseListen, UnixSocketPath) {
  const auto a = parse_ok("unix:/tmp/protofarm.sock");
  EXPECT_EQ(a.kind, ListenAddress::Kind::unix_path);
  EXPECT_EQ(a.path, "/tmp/protofarm.sock");
  EXPECT_EQ(parse_ok("unix:relative.sock").path, "relative.sock");
}

TEST(ParseListen, RejectsUnixWithoutPathOrTooLong) {
  EXPECT_EQ(parse_error("unix:"), "a unix socket needs a path, like unix:/tmp/protofarm.sock");
  const std::size_t max = sizeof(sockaddr_un::sun_path) - 1;
  parse_ok("unix:/" + std::string(max - 1, 'x'));
  EXPECT_EQ(
      parse_error("unix:/" + std::string(max, 'x')),
      "unix socket path is longer than the system allows (" + std::to_string(max) + " bytes)");
}

TEST(ParseListen, RejectsAddressesWithoutAPort) {
  EXPECT_EQ(parse_error("127.0.0.1"), "expected HOST:PORT (like 127.0.0.1:0) or unix:PATH");
  EXPECT_EQ(parse_error(""), "expected HOST:PORT (like 127.0.0.1:0) or unix:PATH");
  EXPECT_EQ(parse_error("127.0.0.1:"), "'' is not a port number from 0 to 65535");
}

TEST(ParseListen, RejectsBadPorts) {
  EXPECT_EQ(parse_error("127.0.0.1:65536"), "'65536' is not a port number from 0 to 65535");
  EXPECT_EQ(parse_error("127.0.0.1:-1"), "'-1' is not a port number from 0 to 65535");
  EXPECT_EQ(parse_error("127.0.0.1:8x"), "'8x' is not a port number from 0 to 65535");
  EXPECT_EQ(parse_error("127.0.0.1:99999999999"),
            "'99999999999' is not a port number from 0 to 65535");
  EXPECT_EQ(parse_error("[::1]:"), "'' is not a port number from 0 to 65535");
}

TEST(ParseListen, RejectsHostNamesAndBadAddresses) {
  EXPECT_EQ(parse_error("example.com:25"),
            "'example.com' is not a numeric IP address (names other than localhost are not "
            "looked up)");
  parse_error("256.1.1.1:0");
  parse_error("1.2.3:0");
}

TEST(ParseListen, RejectsIPv6WithoutBrackets) {
  EXPECT_EQ(parse_error("::1:0"), "write an IPv6 address in brackets, like [::1]:0");
}

TEST(ParseListen, RejectsMalformedBrackets) {
  EXPECT_EQ(parse_error("[::1]"), "expected [IPv6]:PORT, like [::1]:0");
  EXPECT_EQ(parse_error("[::1]0"), "expected [IPv6]:PORT, like [::1]:0");
  EXPECT_EQ(parse_error("[::1:0"), "expected [IPv6]:PORT, like [::1]:0");
}

TEST(ParseListen, BracketsHoldOnlyIPv6) {
  // "[]:0" must not quietly become every interface, nor an IPv4 address hide in brackets.
  EXPECT_EQ(parse_error("[]:0"), "expected an IPv6 address inside the brackets, like [::1]:0");
  EXPECT_EQ(parse_error("[127.0.0.1]:0"),
            "expected an IPv6 address inside the brackets, like [::1]:0");
}

TEST(DescribeEndpoint, IPv4) {
  sockaddr_in in{};
  in.sin_family = AF_INET;
  in.sin_port = htons(40123);
  inet_pton(AF_INET, "127.0.0.1", &in.sin_addr);
  EXPECT_EQ(describe_endpoint(reinterpret_cast<sockaddr*>(&in), sizeof in), "127.0.0.1:40123");
}

TEST(DescribeEndpoint, IPv6InBrackets) {
  sockaddr_in6 in6{};
  in6.sin6_family = AF_INET6;
  in6.sin6_port = htons(2525);
  inet_pton(AF_INET6, "::1", &in6.sin6_addr);
  EXPECT_EQ(describe_endpoint(reinterpret_cast<sockaddr*>(&in6), sizeof in6), "[::1]:2525");
}

TEST(DescribeEndpoint, UnixSockets) {
  sockaddr_un un{};
  un.sun_family = AF_UNIX;
  std::strcpy(un.sun_path, "/tmp/x.sock");
  const std::size_t len = offsetof(sockaddr_un, sun_path) + std::strlen(un.sun_path) + 1;
  EXPECT_EQ(describe_endpoint(reinterpret_cast<sockaddr*>(&un), len), "unix:/tmp/x.sock");
  // A client's unnamed socket.
  EXPECT_EQ(describe_endpoint(reinterpret_cast<sockaddr*>(&un), sizeof(sa_family_t)), "unix:");
  un.sun_path[0] = '\0';
  EXPECT_EQ(describe_endpoint(reinterpret_cast<sockaddr*>(&un), sizeof un), "unix:");
}

TEST(DescribeEndpoint, UnknownOrMissing) {
  EXPECT_EQ(describe_endpoint(nullptr, 0), "unknown");
  sockaddr sa{};
  sa.sa_family = AF_APPLETALK;
  EXPECT_EQ(describe_endpoint(&sa, sizeof sa), "unknown");
}

}  // namespace
}  // namespace protofarm
