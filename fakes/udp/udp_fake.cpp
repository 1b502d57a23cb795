#include "fakes/udp/udp_fake.hpp"

#include <sys/socket.h>
#include <sys/un.h>

#include <boost/asio/this_coro.hpp>
#include <cstddef>
#include <iostream>
#include <list>
#include <map>

#include "fakes/common/bytes.hpp"
#include "fakes/common/net.hpp"
#include "fakes/common/session.hpp"
#include "fakes/udp/udp_rules.hpp"

namespace protofarm::udp {

namespace {

using Endpoint = asio::generic::datagram_protocol::endpoint;
using Clock = std::chrono::steady_clock;

// One peer address and its session. Holds no Asio object (the timers live in the coroutines
// that wait on them and are only registered here), so a Peer may outlive the io_context.
struct Peer {
  std::string key;  // the peer's address as bytes
  Endpoint endpoint;
  bool answerable = true;  // false for an unbound Unix datagram socket: it has no address
  std::unique_ptr<SessionRecorder> rec;
  Clock::time_point last = Clock::now();  // the last datagram either way
  std::list<asio::steady_timer*> timers;  // what this peer's coroutines wait on
  int pending = 0;                        // answers not sent yet
  bool silenced = false;                  // the silence fault applies to this session
  bool refused = false;                   // the refuse fault: the first datagram ends it
  bool hung = false;                      // a rule said `then: hang`
  Duration latency{0};                    // the latency fault, before every answer
  bool finished = false;
};

void log_error(const std::string& server, const std::exception_ptr& e) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    std::cerr << "protofarm: server '" << server << "': udp answer ended by an error: " << ex.what()
              << "\n";
  }
}

bool has_address(const Endpoint& ep) {
  if (ep.size() < sizeof(sa_family_t)) return false;
  if (ep.data()->sa_family != AF_UNIX) return true;
  return ep.size() > offsetof(sockaddr_un, sun_path);
}

std::string describe_peer(const Endpoint& ep) {
  if (!has_address(ep)) return "unix:";
  return describe_endpoint(ep.data(), ep.size());
}

// Records one datagram; an empty one (valid in UDP) as an `empty_datagram` event, since byte
// events are never empty.
void record_datagram(SessionRecorder& rec, bool from_client, std::string_view bytes, Json extra) {
  if (bytes.empty()) {
    Json e = extra.is_object() ? std::move(extra) : Json::object();
    e["side"] = from_client ? "client" : "server";
    rec.event("empty_datagram", std::move(e));
  } else if (from_client) {
    rec.client(bytes, std::move(extra));
  } else {
    rec.server(bytes, std::move(extra));
  }
}

class UdpFake final : public DatagramFake {
 public:
  UdpFake(Server& server, Config config) : server_(server), config_(config) {}

  Task<void> serve(DatagramSocket& socket) override;
  void shutdown() override;

 private:
  std::shared_ptr<Peer> peer_for(const Endpoint& from);
  void handle(const std::shared_ptr<Peer>& peer, std::string_view datagram, DatagramSocket& socket);
  Task<void> watch_idle(std::shared_ptr<Peer> peer);
  Task<void> send_answer(std::shared_ptr<Peer> peer, Answer answer, DatagramSocket& socket);
  // Waits without holding anything up; false when the peer's session ended meanwhile.
  Task<bool> wait(Peer& peer, Clock::time_point until);
  void finish(Peer& peer, CloseReason reason);
  void spawn(Task<void> task);

  Server& server_;
  Config config_;
  std::map<std::string, std::shared_ptr<Peer>> peers_;
  std::string local_;
  bool stopping_ = false;
};

void UdpFake::spawn(Task<void> task) {
  const std::string name = server_.name();
  asio::co_spawn(server_.services().io, std::move(task),
                 [name](const std::exception_ptr& e) { log_error(name, e); });
}

Task<bool> UdpFake::wait(Peer& peer, Clock::time_point until) {
  if (peer.finished) co_return false;
  if (until <= Clock::now()) co_return true;
  asio::steady_timer timer(co_await asio::this_coro::executor, until);
  const auto it = peer.timers.insert(peer.timers.end(), &timer);
  auto [ec] = co_await timer.async_wait(use_tuple);
  peer.timers.erase(it);
  co_return !ec && !peer.finished;
}

void UdpFake::finish(Peer& peer, CloseReason reason) {
  if (peer.finished) return;
  peer.finished = true;
  for (asio::steady_timer* t : peer.timers) t->cancel();
  peer.rec->finish(reason);
  const auto it = peers_.find(peer.key);
  if (it != peers_.end() && it->second.get() == &peer) peers_.erase(it);
}

std::shared_ptr<Peer> UdpFake::peer_for(const Endpoint& from) {
  std::string key(reinterpret_cast<const char*>(from.data()), from.size());
  if (const auto it = peers_.find(key); it != peers_.end()) return it->second;

  auto peer = std::make_shared<Peer>();
  peer->key = key;
  peer->endpoint = from;
  peer->answerable = has_address(from);
  const ServerConfig& config = server_.config();
  const std::uint64_t number = server_.next_session();
  peer->rec = std::make_unique<SessionRecorder>(
      server_.services().sink, config.name, config.protocol, number, describe_peer(from), local_);
  peer->rec->set_datagrams();
  if (config.faults && config.faults->applies_to(number)) {
    peer->latency = config.faults->connection.latency;
    peer->refused = config.faults->refuse;
    if (config.faults->silence) {
      peer->silenced = true;
      Json e = Json::object();
      e["fault"] = "silence";
      peer->rec->event("fault", std::move(e));
    }
  }
  peers_.emplace(std::move(key), peer);
  spawn(watch_idle(peer));
  return peer;
}

Task<void> UdpFake::watch_idle(std::shared_ptr<Peer> peer) {
  const Duration idle = server_.config().idle_timeout;
  while (!peer->finished) {
    Clock::time_point deadline = peer->last + idle;
    // An answer still waiting to go out keeps the session open.
    if (peer->pending > 0) deadline = std::max(deadline, Clock::now() + idle);
    if (Clock::now() >= deadline) {
      finish(*peer, CloseReason::timeout);
      break;
    }
    co_await wait(*peer, deadline);
  }
}

void UdpFake::handle(const std::shared_ptr<Peer>& peer, std::string_view datagram,
                     DatagramSocket& socket) {
  peer->last = Clock::now();
  if (datagram.size() > config_.max_datagram) {
    Json cut = Json::object();
    cut["cut"] = true;
    record_datagram(*peer->rec, true, datagram.substr(0, config_.max_datagram), std::move(cut));
    Json e = Json::object();
    e["limit"] = config_.max_datagram;
    peer->rec->event("datagram_too_long", std::move(e));
    return;
  }
  record_datagram(*peer->rec, true, datagram, nullptr);
  if (peer->refused) {
    // No ICMP "port unreachable" can be sent from here: the peer sees no answer, and its
    // session ends at once, as a refused TCP connection does.
    Json e = Json::object();
    e["fault"] = "refuse";
    peer->rec->event("fault", std::move(e));
    finish(*peer, CloseReason::fault);
    return;
  }
  if (peer->silenced || peer->hung) return;  // recorded, never answered

  Answer answer = plan_answer(server_.rules(), config_, datagram);
  record_rule_errors(*peer->rec, server_.rules());
  if (answer.match && peer->rec->recording()) {
    Json e = Json::object();
    e["rule"] = answer.match->rule->name;
    e["on"] = first_word(datagram);
    e["count"] = answer.match->count;
    peer->rec->event("rule", std::move(e));
  }
  if (answer.silent() && answer.then == Then::none) return;
  ++peer->pending;
  spawn(send_answer(peer, std::move(answer), socket));
}

Task<void> UdpFake::send_answer(std::shared_ptr<Peer> peer, Answer answer, DatagramSocket& socket) {
  bool ok = co_await wait(*peer, Clock::now() + answer.delay + peer->latency);
  const std::string rule = answer.match ? answer.match->rule->name : std::string{};
  for (const Outgoing& out : answer.datagrams) {
    if (!ok) break;
    if (out.before.count() > 0 && !(ok = co_await wait(*peer, Clock::now() + out.before))) break;
    if (!peer->answerable) {
      Json e = Json::object();
      e["reason"] = "the peer is an unbound Unix datagram socket: it has no address to answer";
      peer->rec->event("unanswerable", std::move(e));
      ok = false;
      break;
    }
    // Sent at once rather than awaited, so that the answers to one peer leave in the order
    // they were planned (a loopback datagram send does not block for long).
    error_code ec;
    const std::size_t n = socket.send_to(asio::buffer(out.bytes), peer->endpoint, 0, ec);
    if (peer->finished) {
      ok = false;
      break;
    }
    if (ec) {
      Json e = Json::object();
      e["error"] = ec.message();
      peer->rec->event("send_failed", std::move(e));
      ok = false;
      break;
    }
    peer->last = Clock::now();
    Json extra = Json::object();
    if (!rule.empty()) extra["rule"] = rule;
    if (out.copy > 0) extra["duplicate"] = out.copy;
    if (out.cut_from) extra["truncated_from"] = *out.cut_from;
    record_datagram(*peer->rec, false, std::string_view(out.bytes).substr(0, n), std::move(extra));
  }
  --peer->pending;
  if (!ok || peer->finished) co_return;
  if (answer.then == Then::close) {
    finish(*peer, CloseReason::server);
  } else if (answer.then == Then::hang) {
    peer->hung = true;
    peer->rec->event("hang");
  }
}

Task<void> UdpFake::serve(DatagramSocket& socket) {
  error_code ec;
  const Endpoint local = socket.local_endpoint(ec);
  local_ = ec ? std::string("unknown") : describe_endpoint(local.data(), local.size());
  std::string buf(config_.max_datagram + 1, '\0');
  asio::steady_timer backoff(socket.get_executor());
  while (socket.is_open() && !stopping_) {
    Endpoint from;
    auto [rec, n] = co_await socket.async_receive_from(asio::buffer(buf), from, use_tuple);
    if (rec) {
      if (rec == asio::error::operation_aborted || rec == asio::error::bad_descriptor ||
          !socket.is_open() || stopping_)
        break;
      // An ICMP error about an earlier answer (a peer that went away) and the like: it ends
      // no session and must not stop the server. Pause briefly so a persistent error cannot
      // spin.
      backoff.expires_after(std::chrono::milliseconds(1));
      co_await backoff.async_wait(use_tuple);
      continue;
    }
    handle(peer_for(from), std::string_view(buf.data(), n), socket);
  }
  shutdown();
}

void UdpFake::shutdown() {
  stopping_ = true;
  const auto peers = peers_;  // finish() erases
  for (const auto& [key, peer] : peers) finish(*peer, CloseReason::shutdown);
}

std::unique_ptr<Fake> create(Server& server, const Cfg& cfg) {
  Config config = parse_config(cfg, server.config().max_line);
  return std::make_unique<UdpFake>(server, config);
}

}  // namespace

FakeFactory factory() {
  FakeFactory f;
  f.protocol = "udp";
  f.transport = Transport::datagram;
  f.supports_tls = false;
  f.rules = rule_syntax();
  f.schema = udp_schema_fragment();
  f.create = create;
  return f;
}

}  // namespace protofarm::udp
