#include "fakes/common/net.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <charconv>
#include <cstddef>
#include <cstring>

namespace protofarm {

std::optional<ListenAddress> parse_listen(const std::string& text, std::string& why) {
  ListenAddress a;
  a.text = text;
  if (text.rfind("unix:", 0) == 0) {
    a.kind = ListenAddress::Kind::unix_path;
    a.path = text.substr(5);
    if (a.path.empty()) {
      why = "a unix socket needs a path, like unix:/tmp/protofarm.sock";
      return std::nullopt;
    }
    if (a.path.size() >= sizeof(sockaddr_un::sun_path)) {
      why = "unix socket path is longer than the system allows (" +
            std::to_string(sizeof(sockaddr_un::sun_path) - 1) + " bytes)";
      return std::nullopt;
    }
    return a;
  }
  std::string host, port;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      why = "expected [IPv6]:PORT, like [::1]:0";
      return std::nullopt;
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
    unsigned char v6[sizeof(in6_addr)];
    if (inet_pton(AF_INET6, host.c_str(), v6) != 1) {
      // Without this, "[]:0" would become every IPv4 interface below.
      why = "expected an IPv6 address inside the brackets, like [::1]:0";
      return std::nullopt;
    }
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string::npos) {
      why = "expected HOST:PORT (like 127.0.0.1:0) or unix:PATH";
      return std::nullopt;
    }
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string::npos) {
      why = "write an IPv6 address in brackets, like [::1]:0";
      return std::nullopt;
    }
  }
  if (host.empty()) host = "0.0.0.0";
  if (host == "localhost") host = "127.0.0.1";
  unsigned char buf[sizeof(in6_addr)];
  if (inet_pton(AF_INET, host.c_str(), buf) != 1 && inet_pton(AF_INET6, host.c_str(), buf) != 1) {
    why =
        "'" + host + "' is not a numeric IP address (names other than localhost are not looked up)";
    return std::nullopt;
  }
  unsigned value = 0;
  const auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc{} || p != port.data() + port.size() || value > 65535) {
    why = "'" + port + "' is not a port number from 0 to 65535";
    return std::nullopt;
  }
  a.host = host;
  a.port = static_cast<std::uint16_t>(value);
  return a;
}

std::string describe_endpoint(const sockaddr* sa, std::size_t len) {
  if (!sa || len < sizeof(sa_family_t)) return "unknown";
  char buf[INET6_ADDRSTRLEN] = {0};
  switch (sa->sa_family) {
    case AF_INET: {
      const auto* in = reinterpret_cast<const sockaddr_in*>(sa);
      inet_ntop(AF_INET, &in->sin_addr, buf, sizeof buf);
      return std::string(buf) + ":" + std::to_string(ntohs(in->sin_port));
    }
    case AF_INET6: {
      const auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
      inet_ntop(AF_INET6, &in6->sin6_addr, buf, sizeof buf);
      return "[" + std::string(buf) + "]:" + std::to_string(ntohs(in6->sin6_port));
    }
    case AF_UNIX: {
      const auto* un = reinterpret_cast<const sockaddr_un*>(sa);
      const std::size_t offset = offsetof(sockaddr_un, sun_path);
      if (len <= offset || un->sun_path[0] == '\0') return "unix:";
      return "unix:" + std::string(un->sun_path, strnlen(un->sun_path, len - offset));
    }
    default:
      return "unknown";
  }
}

}  // namespace protofarm
