#include "fakes/common/listener.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/local/datagram_protocol.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <iostream>

#include "fakes/common/session.hpp"

namespace protofarm {

namespace {

// Removes a stale Unix socket file left by an earlier run; anything else at that path is kept
// (binding then fails with a clear error).
void remove_stale_socket(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) ::unlink(path.c_str());
}

[[noreturn]] void bind_failed(const Server& server, const std::string& what,
                              const boost::system::system_error& e) {
  throw std::runtime_error("server '" + server.name() + "': cannot listen on " + what + ": " +
                           e.code().message());
}

void log_session_error(const std::string& server, const std::exception_ptr& e) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    std::cerr << "protofarm: server '" << server << "': session ended by an error: " << ex.what()
              << "\n";
  }
}

}  // namespace

Listener::Listener(Server& server, Transport transport) : server_(server), transport_(transport) {
  const ListenAddress& a = server.config().listen;
  auto& io = server.services().io;
  try {
    if (transport == Transport::stream) {
      acceptor_.emplace(io);
      if (a.kind == ListenAddress::Kind::unix_path) {
        remove_stale_socket(a.path);
        asio::generic::stream_protocol::endpoint ep{asio::local::stream_protocol::endpoint(a.path)};
        acceptor_->open(ep.protocol());
        acceptor_->bind(ep);
        path_ = a.path;
      } else {
        const auto address = asio::ip::make_address(a.host);
        asio::generic::stream_protocol::endpoint ep{asio::ip::tcp::endpoint(address, a.port)};
        acceptor_->open(ep.protocol());
        acceptor_->set_option(asio::socket_base::reuse_address(true));
        if (address.is_v6()) acceptor_->set_option(asio::ip::v6_only(true));
        acceptor_->bind(ep);
      }
      acceptor_->listen(asio::socket_base::max_listen_connections);
      if (path_.empty()) {
        const auto local = acceptor_->local_endpoint();
        const asio::ip::tcp::endpoint tcp_ep = [&] {
          asio::ip::tcp::endpoint e;
          std::memcpy(e.data(), local.data(), local.size());
          return e;
        }();
        host_ = tcp_ep.address().to_string();
        port_ = tcp_ep.port();
      }
    } else {
      datagram_.emplace(io);
      if (a.kind == ListenAddress::Kind::unix_path) {
        remove_stale_socket(a.path);
        asio::generic::datagram_protocol::endpoint ep{
            asio::local::datagram_protocol::endpoint(a.path)};
        datagram_->open(ep.protocol());
        datagram_->bind(ep);
        path_ = a.path;
      } else {
        const auto address = asio::ip::make_address(a.host);
        asio::generic::datagram_protocol::endpoint ep{asio::ip::udp::endpoint(address, a.port)};
        datagram_->open(ep.protocol());
        if (address.is_v6()) datagram_->set_option(asio::ip::v6_only(true));
        datagram_->bind(ep);
        const auto local = datagram_->local_endpoint();
        asio::ip::udp::endpoint udp_ep;
        std::memcpy(udp_ep.data(), local.data(), local.size());
        host_ = udp_ep.address().to_string();
        port_ = udp_ep.port();
      }
    }
  } catch (const boost::system::system_error& e) {
    bind_failed(server, a.text, e);
  }
}

Listener::~Listener() { stop(); }

std::string Listener::url_authority() const {
  if (!path_.empty()) return "unix:" + path_;
  if (host_.find(':') != std::string::npos) return "[" + host_ + "]:" + std::to_string(port_);
  return host_ + ":" + std::to_string(port_);
}

void Listener::start() {
  const std::string name = server_.name();
  if (acceptor_) {
    asio::co_spawn(acceptor_->get_executor(), accept_loop(),
                   [name](const std::exception_ptr& e) { log_session_error(name, e); });
  } else if (datagram_) {
    auto& fake = dynamic_cast<DatagramFake&>(server_.fake());
    asio::co_spawn(datagram_->get_executor(), fake.serve(*datagram_),
                   [name](const std::exception_ptr& e) { log_session_error(name, e); });
  }
}

void Listener::stop() {
  if (stopped_) return;
  stopped_ = true;
  error_code ec;
  if (acceptor_) acceptor_->close(ec);
  if (datagram_) datagram_->close(ec);
  if (!path_.empty()) ::unlink(path_.c_str());
}

Task<void> Listener::accept_loop() {
  asio::steady_timer backoff(acceptor_->get_executor());
  while (acceptor_->is_open()) {
    auto [ec, socket] = co_await acceptor_->async_accept(use_tuple);
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor_->is_open()) break;
      // Out of descriptors or similar: wait a little instead of spinning, then go on.
      std::cerr << "protofarm: server '" << server_.name() << "': accept failed: " << ec.message()
                << "\n";
      backoff.expires_after(std::chrono::milliseconds(50));
      co_await backoff.async_wait(use_tuple);
      continue;
    }
    const std::string name = server_.name();
    asio::co_spawn(acceptor_->get_executor(), run_stream_session(server_, std::move(socket)),
                   [name](const std::exception_ptr& e) { log_session_error(name, e); });
  }
}

Task<void> run_stream_session(Server& server, StreamSocket socket) {
  error_code ec;
  if (server.config().listen.kind == ListenAddress::Kind::inet) {
    socket.set_option(asio::ip::tcp::no_delay(true), ec);
    // Urgent data stays in the stream: without this the kernel takes a client's urgent byte
    // (ftplib sends ABOR's line end as MSG_OOB) out of band, and it is never read or recorded.
    socket.set_option(asio::detail::socket_option::boolean<SOL_SOCKET, SO_OOBINLINE>(true), ec);
  }
  return run_stream_session(server, socket_stream(std::move(socket)));
}

Task<void> run_stream_session(Server& server, std::unique_ptr<ByteStream> transport) {
  const ServerConfig& config = server.config();
  const std::uint64_t number = server.next_session();
  const std::string peer = transport->peer();
  const std::string local = transport->local();
  SessionRecorder rec(server.services().sink, config.name, config.protocol, number, peer, local);
  Connection conn(std::move(transport), rec, &server.services().connections, config.idle_timeout);

  bool serve = true;
  if (config.faults && config.faults->applies_to(number)) {
    const FaultConfig& f = *config.faults;
    conn.faults() = f.connection;
    if (f.refuse) {
      Json e = Json::object();
      e["fault"] = "refuse";
      rec.event("fault", std::move(e));
      conn.reset(CloseReason::fault);
      serve = false;
    } else if (f.silence) {
      Json e = Json::object();
      e["fault"] = "silence";
      rec.event("fault", std::move(e));
      conn.note_close_reason(CloseReason::fault);
      co_await conn.hang();
      serve = false;
    }
  }
  if (serve && config.tls.mode == TlsMode::implicit && server.tls_context()) {
    serve = co_await conn.start_tls(*server.tls_context());
  }
  LineReader reader(conn, config.max_line);
  reader.set_command_timeout(config.command_timeout);
  if (serve) {
    Session session(server, conn, reader);
    bool failed = false;
    try {
      co_await dynamic_cast<StreamFake&>(server.fake()).serve(session);
    } catch (const std::exception& e) {
      // A bug in a fake must not cost the transcript: record it and end this session only.
      Json ev = Json::object();
      ev["message"] = e.what();
      rec.event("error", std::move(ev));
      std::cerr << "protofarm: server '" << config.name << "' session " << number
                << ": internal error: " << e.what() << "\n";
      failed = true;
    }
    if (failed) conn.reset(CloseReason::server);
  }
  if (reader.has_buffered()) {
    Json e = Json::object();
    e["unread"] = true;
    rec.client(reader.take_buffered(), std::move(e));
  }
  if (conn.is_open()) co_await conn.close(CloseReason::server);
  rec.finish(conn.close_reason());
}

}  // namespace protofarm
