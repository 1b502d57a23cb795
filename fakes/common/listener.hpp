// Listeners: TCP over IPv4 and IPv6, Unix stream sockets, UDP and Unix datagram sockets.
//
// bind() happens before the farm is ready, so that the ready file can name the real ports;
// start() spawns the accept loop (one coroutine per accepted connection, each owning its
// socket) or the datagram fake; stop() closes the listening socket and removes a Unix socket
// file. A stream session is set up here for every protocol alike: transcript, connection-level
// faults (refuse, silence, reset after N bytes, pacing, latency), implicit TLS, then the fake's
// serve(), then recording of unread input, an orderly close and the transcript's end.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "fakes/common/fake.hpp"

namespace protofarm {

class Listener {
 public:
  // Binds the server's `listen` address. Throws std::runtime_error naming the server and the
  // address when it cannot (in use, no permission, no such address).
  Listener(Server& server, Transport transport);
  ~Listener();

  void start();
  void stop();

  Server& server() const { return server_; }
  // The bound address: host and port for IP, path for Unix sockets.
  const std::string& host() const { return host_; }
  std::uint16_t port() const { return port_; }
  const std::string& path() const { return path_; }
  std::string url_authority() const;  // "127.0.0.1:40123", "[::1]:40123" or "unix:/path"

 private:
  Task<void> accept_loop();

  Server& server_;
  Transport transport_;
  std::optional<asio::basic_socket_acceptor<asio::generic::stream_protocol>> acceptor_;
  std::optional<DatagramSocket> datagram_;
  std::string host_;
  std::uint16_t port_ = 0;
  std::string path_;
  bool stopped_ = false;
};

// One stream session, from accept to transcript (exposed for tests: on a MemoryPeer's
// transport, a whole session runs without a socket).
Task<void> run_stream_session(Server& server, StreamSocket socket);
Task<void> run_stream_session(Server& server, std::unique_ptr<ByteStream> transport);

}  // namespace protofarm
