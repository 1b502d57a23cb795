// ftp_load: the client of the ftp sessions/s benchmark (bench/ftp_bench.py).
//
//   ftp_load HOST PORT CLIENTS SESSIONS_EACH
//
// Runs CLIENTS clients at once, each doing SESSIONS_EACH whole sessions one after the other:
// connect, USER anonymous, PASS, PASV + LIST (read to the end), PASV + RETR small.txt (read to
// the end), QUIT. Prints "<sessions> <seconds>" when all are done; exits 1 at the first reply
// that is not the one expected (it is printed). A C++ client, so that the server is what the
// benchmark measures: a Python client is slower than pyftpdlib itself.
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "fakes/common/asio.hpp"

namespace {

using namespace protofarm;
using tcp = asio::ip::tcp;

struct Control {
  explicit Control(const asio::any_io_executor& ex) : socket(ex) {}
  tcp::socket socket;
  asio::streambuf buffer;

  // One reply (multi-line replies too); throws unless its code starts with `expect` ('*': any).
  Task<std::string> reply(char expect) {
    std::string text;
    for (;;) {
      co_await asio::async_read_until(socket, buffer, "\r\n", asio::use_awaitable);
      std::istream in(&buffer);
      std::string line;
      std::getline(in, line);
      text += line + "\n";
      if (line.size() >= 4 && line[3] == ' ') break;
    }
    if (text.empty() || (expect != '*' && text[0] != expect))
      throw std::runtime_error("unexpected reply: " + text);
    co_return text;
  }
  Task<std::string> command(const std::string& line, char expect) {
    const std::string out = line + "\r\n";
    co_await asio::async_write(socket, asio::buffer(out), asio::use_awaitable);
    co_return co_await reply(expect);
  }
};

// The port of a 227 reply: the last two numbers in its parentheses.
unsigned short pasv_port(const std::string& reply) {
  const std::size_t close = reply.rfind(')');
  const std::size_t c2 = reply.rfind(',', close);
  const std::size_t c1 = reply.rfind(',', c2 - 1);
  if (close == std::string::npos || c2 == std::string::npos || c1 == std::string::npos)
    throw std::runtime_error("no port in: " + reply);
  const int hi = std::atoi(reply.c_str() + c1 + 1), lo = std::atoi(reply.c_str() + c2 + 1);
  return static_cast<unsigned short>(hi * 256 + lo);
}

Task<void> transfer(Control& c, const tcp::endpoint& server, const std::string& command) {
  const std::string pasv = co_await c.command("PASV", '2');
  tcp::socket data(c.socket.get_executor());
  co_await data.async_connect(tcp::endpoint(server.address(), pasv_port(pasv)),
                              asio::use_awaitable);
  co_await c.command(command, '1');
  char buf[16384];
  for (;;) {
    auto [ec, n] = co_await data.async_read_some(asio::buffer(buf), use_tuple);
    if (ec) break;
  }
  // As ftplib and curl do: the data connection is closed at its end, then the 226 is read.
  data.close();
  co_await c.reply('2');
}

Task<void> client(tcp::endpoint server, int sessions, int& done, int& failed) {
  auto ex = co_await asio::this_coro::executor;
  for (int i = 0; i < sessions; ++i) {
    try {
      Control c(ex);
      co_await c.socket.async_connect(server, asio::use_awaitable);
      c.socket.set_option(tcp::no_delay(true));
      co_await c.reply('2');
      // vsftpd with no_anon_password logs anonymous in at USER (230); others ask (331).
      if ((co_await c.command("USER anonymous", '*'))[0] == '3')
        co_await c.command("PASS bench@", '2');
      co_await transfer(c, server, "LIST");
      co_await transfer(c, server, "RETR small.txt");
      co_await c.command("QUIT", '2');
      ++done;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "ftp_load: %s\n", e.what());
      ++failed;
      co_return;
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: ftp_load HOST PORT CLIENTS SESSIONS_EACH\n");
    return 2;
  }
  const tcp::endpoint server(asio::ip::make_address(argv[1]),
                             static_cast<unsigned short>(std::atoi(argv[2])));
  const int clients = std::atoi(argv[3]), each = std::atoi(argv[4]);
  asio::io_context io;
  int done = 0, failed = 0;
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < clients; ++i)
    asio::co_spawn(io, client(server, each, done, failed), asio::detached);
  io.run();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("%d %.6f\n", done, seconds);
  return failed ? 1 : 0;
}
