// The interface every protocol fake implements, and how fakes are registered.
//
// A FakeFactory is registered once, in fakes/registry.cpp. At load time (for `validate` as
// well as `run`) the farm parses the keys every server has, then calls the factory's create()
// with the server's configuration; create() parses the protocol's own keys, reporting problems
// into cfg.errors(), and must not open sockets. At run time the farm binds the listener and
// calls serve() once per accepted connection (stream fakes) or serve_datagrams() once (datagram
// fakes).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "fakes/common/server.hpp"

namespace protofarm {

class Session;

enum class Transport { stream, datagram };

class Fake {
 public:
  virtual ~Fake() = default;

  // Serves one connection, after implicit TLS and connection faults are in place. When it
  // returns, the caller records unread input, closes the connection if it is still open and
  // finishes the transcript. Network trouble ends it quietly; it should not throw.
  virtual Task<void> serve(Session& session);
  // Datagram fakes override this instead: they own the bound socket until the farm stops
  // (the socket is closed then, which ends the coroutine).
  virtual Task<void> serve_datagrams(DatagramSocket& socket);
  // Adds protocol-specific entries to this server's ready-file entry.
  virtual void describe(Json& ready_entry) const;
  // The farm is stopping: finish any sessions the fake keeps itself (UDP peers).
  virtual void shutdown();
};

struct FakeFactory {
  std::string protocol;
  Transport transport = Transport::stream;
  // The `on` values its rules may use besides `connect` (upper case); empty accepts any.
  std::vector<std::string> rule_verbs;
  // Whether a server of this protocol may have `tls:` (datagram fakes cannot).
  bool supports_tls = true;
  std::function<std::unique_ptr<Fake>(Server& server, const Cfg& cfg)> create;
};

// Every fake, registered explicitly in one place (fakes/registry.cpp).
const std::vector<FakeFactory>& fake_registry();
const FakeFactory* find_fake(const std::string& protocol);

}  // namespace protofarm
