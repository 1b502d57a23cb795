// A session's extra channels (a passive port, a connection made out) and a Connection used by
// two coroutines at once: what FTP's data connections and ABOR during a paced transfer need.
#include "fakes/common/channels.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <chrono>

#include "fakes/common/fake.hpp"

namespace protofarm {
namespace {

using namespace std::chrono_literals;
using namespace asio::experimental::awaitable_operators;

TEST(PortRange, Parses) {
  EXPECT_EQ(parse_port_range("40000-40100")->first, 40000);
  EXPECT_EQ(parse_port_range("40000-40100")->last, 40100);
  EXPECT_EQ(parse_port_range("21")->last, 21);
  EXPECT_FALSE(parse_port_range("0-10"));
  EXPECT_FALSE(parse_port_range("10-9"));
  EXPECT_FALSE(parse_port_range("1-70000"));
  EXPECT_FALSE(parse_port_range("a-b"));
  EXPECT_FALSE(parse_port_range(""));
}

class Channels : public ::testing::Test {
 protected:
  // Runs a coroutine to its end on the test's loop, failing the test after 10 s.
  template <typename F>
  void run(F f) {
    bool done = false;
    asio::co_spawn(io_, f(), [&](std::exception_ptr e) {
      done = true;
      if (e) std::rethrow_exception(e);
    });
    io_.run_for(10s);
    EXPECT_TRUE(done) << "the coroutine did not finish";
  }
  asio::io_context io_;
  TranscriptSink sink_;  // not recording: the recorder calls are cheap no-ops
};

TEST_F(Channels, APassivePortAcceptsWithinItsDeadlineOrTimesOut) {
  run([&]() -> Task<void> {
    error_code ec;
    auto port = PassivePort::open(io_.get_executor(), "127.0.0.1", {}, 0, ec);
    EXPECT_TRUE(port) << ec.message();
    if (!port) co_return;
    EXPECT_NE(port->port(), 0);
    // Nobody connects: the accept times out.
    auto none = co_await port->accept(50ms, ec);
    EXPECT_FALSE(none);
    EXPECT_EQ(ec, asio::error::timed_out);
    // A client connects: accepted, and bytes flow through a channel Connection.
    asio::ip::tcp::socket client(io_);
    client.connect({asio::ip::make_address("127.0.0.1"), port->port()});
    auto socket = co_await port->accept(5s, ec);
    EXPECT_TRUE(socket) << ec.message();
    if (!socket) co_return;
    SessionRecorder rec(sink_, "f", "ftp", 1, "p", "l");
    Connection conn(std::move(*socket), rec, nullptr, 5s);
    conn.set_channel("data");
    EXPECT_TRUE(co_await conn.write("hello"));
    char buf[5];
    asio::read(client, asio::buffer(buf));
    EXPECT_EQ(std::string(buf, 5), "hello");
  });
}

TEST_F(Channels, APortRangeSkipsPortsInUse) {
  error_code ec;
  auto first = PassivePort::open(io_.get_executor(), "127.0.0.1", {}, 0, ec);
  ASSERT_TRUE(first);
  const std::uint16_t p = first->port();
  // A range of exactly the busy port: nothing free.
  EXPECT_FALSE(PassivePort::open(io_.get_executor(), "127.0.0.1", {p, p}, 0, ec));
  EXPECT_TRUE(ec);
  // The range goes on past it: the next port is taken instead (unless also busy, then later).
  if (p < 65535) {
    auto second =
        PassivePort::open(io_.get_executor(), "127.0.0.1",
                          {p, static_cast<std::uint16_t>(std::min(65535, p + 20))}, 0, ec);
    ASSERT_TRUE(second) << ec.message();
    EXPECT_NE(second->port(), p);
  }
}

TEST_F(Channels, ConnectOutReachesAListenerAndReportsRefusal) {
  run([&]() -> Task<void> {
    asio::ip::tcp::acceptor acceptor(io_, {asio::ip::make_address("127.0.0.1"), 0});
    const std::uint16_t port = acceptor.local_endpoint().port();
    error_code ec;
    auto out = co_await connect_out(io_.get_executor(), "127.0.0.1", port, 5s, ec);
    EXPECT_TRUE(out) << ec.message();
    acceptor.close();
    auto refused = co_await connect_out(io_.get_executor(), "127.0.0.1", port, 5s, ec);
    EXPECT_FALSE(refused);
    EXPECT_EQ(ec, asio::error::connection_refused);
    auto bad = co_await connect_out(io_.get_executor(), "not an address", port, 5s, ec);
    EXPECT_FALSE(bad);
    EXPECT_TRUE(ec);
  });
}

// One coroutine reads (an ABOR on the control connection) while another writes slowly on the
// same Connection: neither cancels the other's deadline or sleep, and the read's idle timeout
// still fires on its own.
TEST_F(Channels, AReadAndAPacedWriteRunAtOnce) {
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  StreamSocket server(io_, asio::generic::stream_protocol(AF_UNIX, SOCK_STREAM), fds[0]);
  StreamSocket client(io_, asio::generic::stream_protocol(AF_UNIX, SOCK_STREAM), fds[1]);
  SessionRecorder rec(sink_, "f", "ftp", 1, "p", "l");
  Connection conn(std::move(server), rec, nullptr, 300ms);
  Shaping paced;
  paced.fragment = 1;
  paced.gap = Duration(20ms);
  bool wrote = false;
  IoResult read;
  run([&]() -> Task<void> {
    auto writer = [&]() -> Task<void> {
      WriteOptions o;
      o.shaping = &paced;
      wrote = co_await conn.write("0123456789", o);  // about 200 ms of 20 ms gaps
    };
    auto reader = [&]() -> Task<void> {
      char buf[16];
      read = co_await conn.read_some(asio::buffer(buf));
    };
    auto drain = [&]() -> Task<void> {
      char buf[16];
      std::size_t got = 0;
      while (got < 10) {
        auto [ec, n] = co_await client.async_read_some(asio::buffer(buf), use_tuple);
        if (ec) break;
        got += n;
      }
      // The client says something while the write is still going on? No: after it, the
      // read times out on its own deadline (300 ms idle), which the writes kept re-arming
      // only for themselves.
    };
    co_await (writer() && reader() && drain());
  });
  EXPECT_TRUE(wrote);
  EXPECT_EQ(read.status, IoStatus::timeout);
  EXPECT_EQ(conn.close_reason(), CloseReason::timeout);
}

}  // namespace
}  // namespace protofarm
