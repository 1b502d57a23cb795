// The model every fake shares: a scenario's context, one server's configuration (the keys
// every protocol has), the farm-wide services, and the Server that ties a configuration to
// its fake, its rule engine and its session counter.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "fakes/common/asio.hpp"
#include "fakes/common/bus.hpp"
#include "fakes/common/config.hpp"
#include "fakes/common/connection.hpp"
#include "fakes/common/faults.hpp"
#include "fakes/common/net.hpp"
#include "fakes/common/recorder.hpp"
#include "fakes/common/rules.hpp"
#include "fakes/common/tls.hpp"

namespace protofarm {

// The scenario's clock: a fixed instant (the default, so replies are the same on every run),
// or the real time when the scenario says `clock: real`.
struct ScenarioClock {
  bool real = false;
  std::chrono::system_clock::time_point fixed{std::chrono::seconds(1767225600)};  // 2026-01-01
  std::chrono::system_clock::time_point now() const {
    return real ? std::chrono::system_clock::now() : fixed;
  }
};

// What a scenario gives all of its servers.
struct ScenarioContext {
  std::string name;
  std::string file;
  std::uint64_t seed = 0;
  ScenarioClock clock;
  std::shared_ptr<StateStore> states = std::make_shared<StateStore>();
  std::map<std::string, std::string> server_protocols;  // every server: name -> protocol
};

struct ServerConfig {
  std::string name;
  std::string protocol;
  ListenAddress listen;
  TlsConfig tls;
  Duration idle_timeout{std::chrono::seconds(60)};
  // The whole of a command line or request head, once begun (0: no such limit).
  Duration command_timeout{std::chrono::seconds(30)};
  std::size_t max_line = std::size_t{64} * 1024;
  std::optional<FaultConfig> faults;
  std::vector<Rule> rules;
  std::vector<std::string> moments;  // the protocol's moments (RuleSyntax::moments)
  YAML::Node node;  // the whole server entry, for the protocol's own keys (until created)
  YAML::Mark mark;
  std::shared_ptr<ScenarioContext> scenario;
};

// Farm-wide services. One of each per `protofarm run` (or `validate`).
struct FarmServices {
  asio::io_context& io;
  TranscriptSink& sink;
  ConnectionRegistry& connections;
  TlsContexts& tls;
  FarmBus& bus;
};

class Fake;

class Server {
 public:
  Server(ServerConfig config, FarmServices& services);
  ~Server();

  const ServerConfig& config() const { return config_; }
  // Drops the server entry's YAML (ServerConfig::node) once the fake has been created from it.
  void forget_yaml() { config_.node.reset(); }
  const std::string& name() const { return config_.name; }
  FarmServices& services() { return services_; }
  // The current rules. A session keeps the engine it began with (Session::rules()).
  RuleEngine& rules() { return *rules_; }
  std::shared_ptr<RuleEngine> rules_ptr() const { return rules_; }
  // An engine for these rules, with this server's states and moments.
  std::shared_ptr<RuleEngine> make_rules(std::vector<Rule> rules) const;
  // Later sessions use `rules`. An engine replaced is kept while open sessions still use it;
  // once none does, the fake forgets what it prepared for its rules (Fake::forget_rules) and it
  // goes, so replacing rules again and again does not grow the farm.
  void replace_rules(std::shared_ptr<RuleEngine> rules);
  ScenarioContext& scenario() { return *config_.scenario; }
  Fake& fake() { return *fake_; }
  void set_fake(std::unique_ptr<Fake> fake);

  // Session numbers, 1, 2, ... in accept order (UDP: in order of first datagram per peer).
  std::uint64_t next_session() { return ++sessions_; }
  std::uint64_t sessions() const { return sessions_; }
  // The server's TLS context; set up before the farm is ready when tls is not none.
  asio::ssl::context* tls_context() const { return tls_context_; }
  void set_tls_context(asio::ssl::context* context) { tls_context_ = context; }

 private:
  ServerConfig config_;
  FarmServices& services_;
  std::shared_ptr<RuleEngine> rules_;
  std::vector<std::shared_ptr<RuleEngine>> retired_rules_;
  std::unique_ptr<Fake> fake_;
  std::uint64_t sessions_ = 0;
  asio::ssl::context* tls_context_ = nullptr;
};

}  // namespace protofarm
