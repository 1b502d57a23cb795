// The control API and the live page (docs/control-api.md), served over HTTP/1.1 with Beast on the
// farm's own io_context. It is not a fake: nothing it serves is recorded.
//
// Requests are read with Beast's parser (heads capped at 16 KiB, bodies at 1 MiB) and answered by
// handle(), which is synchronous: every endpoint is quick, on data the farm holds. Only
// GET /api/events lasts: it streams from the hub's shared event buffer at its own position, with
// a deadline on each write, so a client that stops reading is dropped and never buffered for.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "fakes/common/asio.hpp"
#include "fakes/common/net.hpp"

namespace protofarm {
class Farm;
}

namespace protofarm::control {

class Hub;

using HttpRequest = boost::beast::http::request<boost::beast::http::string_body>;
using HttpResponse = boost::beast::http::response<boost::beast::http::string_body>;

// Whether an address is a loopback one (127.0.0.0/8, ::1, "localhost").
bool is_loopback(const std::string& host);

// Compares a request's `Authorization: Bearer ...` with the token in constant time (both are
// hashed first, so not even their lengths show).
bool token_matches(std::string_view authorization, const std::string& token);

// A query string's form: "a%20b" -> "a b", '+' -> ' '.
std::string percent_decode(std::string_view text);

class ControlServer {
 public:
  static constexpr std::size_t kMaxBody = std::size_t{1} << 20;
  static constexpr std::size_t kMaxHead = std::size_t{16} * 1024;

  ControlServer(asio::io_context& io, Farm& farm, Hub& hub);
  ~ControlServer();
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  // Binds (throws std::runtime_error); start() accepts; stop() closes the listener and every
  // connection (SSE streams included), so the farm's loop can end.
  void bind(const ListenAddress& address);
  void start();
  void stop();

  std::string host() const { return host_; }
  std::uint16_t port() const { return port_; }
  std::string url() const;

  // One request's answer. `after` is set when something must happen once the answer is sent
  // (POST /api/stop stops the farm then). Public for the unit tests.
  HttpResponse handle(const HttpRequest& request, std::function<void()>& after);

 private:
  Task<void> accept_loop();
  Task<void> serve(asio::ip::tcp::socket socket);
  Task<void> stream_events(asio::ip::tcp::socket& socket, const HttpRequest& request);

  asio::io_context& io_;
  Farm& farm_;
  Hub& hub_;
  std::optional<asio::ip::tcp::acceptor> acceptor_;
  std::string host_;
  std::uint16_t port_ = 0;
  bool stopped_ = false;
  std::set<asio::ip::tcp::socket*> connections_;
};

}  // namespace protofarm::control
