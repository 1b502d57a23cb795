#include "fakes/common/channels.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <charconv>

#include "fakes/common/server.hpp"

namespace protofarm {

using namespace asio::experimental::awaitable_operators;

std::optional<PortRange> parse_port_range(std::string_view text) {
  auto number = [](std::string_view s) -> std::optional<std::uint16_t> {
    unsigned v = 0;
    const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || p != s.data() + s.size() || v < 1 || v > 65535) return std::nullopt;
    return static_cast<std::uint16_t>(v);
  };
  const std::size_t dash = text.find('-');
  const auto first = number(text.substr(0, dash));
  const auto last = dash == std::string_view::npos ? first : number(text.substr(dash + 1));
  if (!first || !last || *last < *first) return std::nullopt;
  return PortRange{*first, *last};
}

std::unique_ptr<PassivePort> PassivePort::open(const asio::any_io_executor& ex,
                                               const std::string& host, PortRange range,
                                               std::uint64_t salt, error_code& ec) {
  std::unique_ptr<PassivePort> p(new PassivePort(ex));
  const asio::ip::address address = asio::ip::make_address(host, ec);
  if (ec) return nullptr;
  const std::uint32_t count = range.any() ? 1u : range.last - range.first + 1u;
  const std::uint32_t start = static_cast<std::uint32_t>(salt % count);
  for (std::uint32_t i = 0; i < count; ++i) {
    const std::uint16_t port =
        range.any() ? 0 : static_cast<std::uint16_t>(range.first + (start + i) % count);
    const asio::ip::tcp::endpoint ep(address, port);
    error_code e;
    p->acceptor_.open(ep.protocol(), e);
    if (!e) p->acceptor_.set_option(asio::socket_base::reuse_address(true), e);
    if (!e) p->acceptor_.bind(ep, e);
    if (!e) p->acceptor_.listen(1, e);
    if (!e) {
      p->host_ = host;
      p->port_ = p->acceptor_.local_endpoint(e).port();
      ec = {};
      return p;
    }
    ec = e;
    p->acceptor_.close(e);
  }
  return nullptr;
}

Task<std::optional<StreamSocket>> PassivePort::accept(Duration timeout, error_code& ec) {
  asio::steady_timer timer(acceptor_.get_executor(), timeout);
  auto result = co_await (acceptor_.async_accept(use_tuple) || timer.async_wait(use_tuple));
  if (result.index() == 1) {
    ec = asio::error::timed_out;
    co_return std::nullopt;
  }
  auto [e, socket] = std::get<0>(std::move(result));
  ec = e;
  if (e) co_return std::nullopt;
  // A generic stream socket, like the listeners' (Connection takes those).
  const int protocol = socket.local_endpoint(e).protocol().family();
  StreamSocket out(acceptor_.get_executor(), asio::generic::stream_protocol(protocol, SOCK_STREAM),
                   socket.release(e));
  co_return std::optional<StreamSocket>(std::move(out));
}

void PassivePort::close() {
  error_code ec;
  acceptor_.close(ec);
}

Task<std::optional<StreamSocket>> connect_out(asio::any_io_executor ex, const std::string& host,
                                              std::uint16_t port, Duration timeout,
                                              error_code& ec) {
  const asio::ip::address address = asio::ip::make_address(host, ec);
  if (ec) co_return std::nullopt;
  asio::ip::tcp::socket socket(ex);
  asio::steady_timer timer(ex, timeout);
  auto result = co_await (socket.async_connect(asio::ip::tcp::endpoint(address, port), use_tuple) ||
                          timer.async_wait(use_tuple));
  if (result.index() == 1) {
    ec = asio::error::timed_out;
    co_return std::nullopt;
  }
  std::tie(ec) = std::get<0>(result);
  if (ec) co_return std::nullopt;
  error_code e;
  socket.set_option(asio::ip::tcp::no_delay(true), e);
  const int family = address.is_v6() ? AF_INET6 : AF_INET;
  StreamSocket out(ex, asio::generic::stream_protocol(family, SOCK_STREAM), socket.release(e));
  co_return std::optional<StreamSocket>(std::move(out));
}

std::unique_ptr<Connection> open_channel(Server& server, SessionRecorder& recorder,
                                         StreamSocket socket, std::string channel) {
  const ServerConfig& config = server.config();
  auto conn = std::make_unique<Connection>(std::move(socket), recorder,
                                           &server.services().connections, config.idle_timeout);
  conn->set_channel(std::move(channel));
  if (config.faults && config.faults->applies_to(recorder.session()))
    conn->faults() = config.faults->connection;
  return conn;
}

}  // namespace protofarm
