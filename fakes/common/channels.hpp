// A session's extra channels: a passive port it opens on demand (FTP's PASV/EPSV: an acceptor
// on a port from a range), and a connection it makes out (active FTP's PORT/EPRT).
//
// Each gives a StreamSocket that open_channel() turns into a Connection of the same session:
// the same recorder (its events carry the channel's name), the server's connection faults and
// shaping, its idle timeout as the deadline of every read and write, and the farm's connection
// registry, so shutdown ends channels like main connections. TLS on a channel is the
// Connection's start_tls(), as on the main connection.
//
// Errors are values: a port range with no free port, a refused or timed-out connect, an
// accept that times out or is cancelled all come back as std::nullopt plus an error_code.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "fakes/common/asio.hpp"
#include "fakes/common/connection.hpp"

namespace protofarm {

class Server;

struct PortRange {
  std::uint16_t first = 0, last = 0;  // both 0: any free port
  bool any() const { return first == 0 && last == 0; }
};
// "40000-40100" or "40000"; nullopt when malformed, reversed or out of 1..65535.
std::optional<PortRange> parse_port_range(std::string_view text);

// One passive port. Owned by the session that opened it; closing it cancels a pending accept.
class PassivePort {
 public:
  // Binds `host` (a numeric IPv4 or IPv6 address) on the first free port of the range, trying
  // them in an order that starts at a place chosen from `salt` (so parallel sessions do not all
  // race for the first port). nullopt with ec set when none is free.
  static std::unique_ptr<PassivePort> open(const asio::any_io_executor& ex, const std::string& host,
                                           PortRange range, std::uint64_t salt, error_code& ec);
  std::uint16_t port() const { return port_; }
  const std::string& host() const { return host_; }
  // Accepts one connection within `timeout`; nullopt when it passes (ec = timed_out), when
  // close() is called (operation_aborted) or on error.
  Task<std::optional<StreamSocket>> accept(Duration timeout, error_code& ec);
  void close();
  bool is_open() const { return acceptor_.is_open(); }

 private:
  explicit PassivePort(const asio::any_io_executor& ex) : acceptor_(ex) {}
  asio::ip::tcp::acceptor acceptor_;
  std::string host_;
  std::uint16_t port_ = 0;
};

// Connects to host:port within `timeout` (active FTP). nullopt with ec set on failure.
Task<std::optional<StreamSocket>> connect_out(asio::any_io_executor ex, const std::string& host,
                                              std::uint16_t port, Duration timeout, error_code& ec);

// A Connection for a channel of a session of `server`, recording into `recorder` with
// `channel` on every event, under the server's connection faults (when they apply to the
// session) and idle timeout.
std::unique_ptr<Connection> open_channel(Server& server, SessionRecorder& recorder,
                                         StreamSocket socket, std::string channel);

}  // namespace protofarm
