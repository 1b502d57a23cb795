// The interface every protocol fake implements, and what its registration declares.
//
// A fake registers one FakeFactory, in fakes/registry.cpp (the only place that lists them). The
// registration is everything the rest of the farm learns about a protocol: its transport, whether
// it can use TLS, its rule syntax (the `on` values, moments and the rule keys it adds), its
// fragment of the scenario JSON Schema, and a minimal server entry with the first bytes it sends,
// which the contract test run over every fake uses (`protofarm fakes --json`).
//
// At load time (for `validate` as well as `run`) the farm parses the keys every server has and
// the rules (with the protocol's RuleSyntax), then calls create() with the server's
// configuration; create() parses the protocol's own keys, reporting problems into cfg.errors(),
// and must not open sockets. At run time the farm binds the listener and calls the fake's one
// entry point: StreamFake::serve() once per accepted connection, or DatagramFake::serve() once
// with the bound socket.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "fakes/common/server.hpp"

namespace protofarm {

class Session;

enum class Transport { stream, datagram };
const char* to_string(Transport transport);

class Fake {
 public:
  virtual ~Fake() = default;
  virtual Transport transport() const = 0;
  // Adds protocol-specific entries to this server's ready-file entry.
  virtual void describe(Json& ready_entry) const {}
  // The farm is stopping: finish any sessions the fake keeps itself (UDP peers).
  virtual void shutdown() {}
  // Back to the scenario's start (the control API's POST /api/reset): what sessions changed
  // (mailboxes, posted articles, uploads) is undone. Rule counters and states are the farm's.
  virtual void reset() {}
  // Rules about to replace this server's (PUT /api/servers/NAME/rules), already parsed and
  // checked like a scenario's: a fake that prepares something per rule at load (HTTP's body
  // files) does it here, reporting problems into `errors`; nothing is replaced when any.
  virtual void prepare_rules(const std::vector<Rule>& rules, ConfigErrors& errors) {}
  // Rules no session uses any more (replaced, and their last session ended): what was prepared
  // for them goes.
  virtual void forget_rules(const std::vector<Rule>& rules) {}
};

// A fake for connections (TCP, Unix stream sockets).
class StreamFake : public Fake {
 public:
  Transport transport() const final { return Transport::stream; }
  // Serves one connection, after implicit TLS and connection faults are in place. When it
  // returns, the caller records unread input, closes the connection if it is still open and
  // finishes the transcript. Network trouble ends it quietly; it should not throw.
  virtual Task<void> serve(Session& session) = 0;
};

// A fake for datagrams (UDP, Unix datagram sockets).
class DatagramFake : public Fake {
 public:
  Transport transport() const final { return Transport::datagram; }
  // Owns the bound socket until the farm stops (the socket is closed then, which ends the
  // coroutine).
  virtual Task<void> serve(DatagramSocket& socket) = 0;
};

struct FakeFactory {
  std::string protocol;
  Transport transport = Transport::stream;
  // Whether a server of this protocol may have `tls:` (datagram fakes cannot).
  bool supports_tls = true;
  RuleSyntax rules;
  // The protocol's fragment of the scenario schema: a JSON object of `$defs` entries, one of
  // which is "<protocol>_server" (the protocol's own server keys). See
  // controller/schema_validator.cpp.
  std::string_view schema;
  // For the contract test: the YAML lines a minimal server entry needs besides protocol and
  // listen, and the bytes such a server sends first ("" when the client speaks first).
  std::string contract_config;
  std::string contract_greeting;
  std::function<std::unique_ptr<Fake>(Server& server, const Cfg& cfg)> create;
};

}  // namespace protofarm
