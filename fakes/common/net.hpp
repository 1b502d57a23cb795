// Addresses: parsing `listen:` values and describing endpoints for transcripts.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <string>

namespace protofarm {

struct ListenAddress {
  enum class Kind { inet, unix_path };
  Kind kind = Kind::inet;
  std::string host = "127.0.0.1";  // numeric IPv4 or IPv6 (without brackets), or "localhost"
  std::uint16_t port = 0;          // 0: pick a free port
  std::string path;                // for unix sockets
  std::string text;                // as written
};

// Parses "127.0.0.1:0", "[::1]:2525", "0.0.0.0:25", ":8080" (all IPv4 interfaces), "localhost:0",
// "unix:/tmp/x.sock". On failure returns nullopt and sets `why`.
std::optional<ListenAddress> parse_listen(const std::string& text, std::string& why);

// "127.0.0.1:40123", "[::1]:40123", "unix:/tmp/x.sock" ("unix:" for an unnamed peer).
std::string describe_endpoint(const sockaddr* sa, std::size_t len);

}  // namespace protofarm
