// The Boost.Asio names the fakes use, in one place.
#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/basic_socket_acceptor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/generic/datagram_protocol.hpp>
#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace protofarm {

namespace asio = boost::asio;
using boost::system::error_code;
using StreamSocket = asio::generic::stream_protocol::socket;
using DatagramSocket = asio::generic::datagram_protocol::socket;
template <typename T = void>
using Task = asio::awaitable<T>;
inline constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

}  // namespace protofarm
