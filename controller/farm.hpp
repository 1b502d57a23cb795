// The farm: every server of the scenarios given to `protofarm run`, on one io_context.
//
// Lifecycle: load() reads and checks every file and creates each server's fake (no sockets,
// nothing written); bind() opens the transcript directory and every listener, so the real
// ports are known (a failure is a runtime error, exit status 3); run() writes the ready file
// atomically, prints the ready line and serves until SIGINT/SIGTERM/SIGHUP or stop(). Stopping
// closes the listeners and ends every session waiting for its client (close reason `shutdown`);
// a session in the middle of answering (a reply being written or paced, a rule's delay, a
// transfer) finishes that answer and ends at its next read. run() returns once every transcript
// is written: sessions get kShutdownGrace to end; then the loop is stopped and the remaining
// sessions are finished as their frames are destroyed.
#pragma once

#include <boost/asio/signal_set.hpp>
#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "controller/scenario.hpp"
#include "fakes/common/listener.hpp"
#include "fakes/registry.hpp"

namespace protofarm {

namespace control {
class Hub;
class ControlServer;
}  // namespace control

struct FarmOptions {
  std::optional<std::filesystem::path> transcripts;
  std::optional<std::filesystem::path> ready_file;
  std::vector<std::string> only;  // serve only these servers (all when empty)
  // `--listen-host`: every inet server binds this host instead of its listen's (the port stays;
  // unix sockets are left alone). The container image binds all interfaces so.
  std::optional<std::string> listen_host;
  // The control API (docs/control-api.md): where it listens, or nullopt for none.
  std::optional<ListenAddress> control;
  std::string control_token;  // required of mutating calls when not empty
};

class Farm {
 public:
  static constexpr auto kShutdownGrace = std::chrono::seconds(5);

  explicit Farm(FarmOptions options);
  ~Farm();

  // Loads and checks every file; creates the fakes. Returns the errors of each file (all
  // empty when all is well). With `only`, names that match no server are errors too.
  std::vector<ConfigErrors> load(const std::vector<std::string>& files);
  // Opens the transcript directory, prepares TLS and binds every listener. Throws
  // std::runtime_error (exit status 3).
  void bind();
  // Writes the ready file, prints the ready line, serves until stopped.
  void run();
  // Safe to call from any handler on the farm's loop; idempotent.
  void stop();

  Json ready_document() const;
  std::string ready_line() const;
  const std::vector<LoadedScenario>& scenarios() const { return scenarios_; }

  // --- for the control API (controller/control/) -------------------------------------------
  // The servers this run serves (with `--only`, those), in scenario order, with their ready-file
  // entries.
  std::vector<std::pair<Server*, Json>> served() const;
  Server* find_served(const std::string& name) const;
  TranscriptSink& sink() { return sink_; }
  const FarmOptions& options() const { return options_; }
  bool stopping() const { return stop_deadline_.has_value(); }
  // Back to the scenario's start: rule counters and each fake's state, of one server or (name
  // empty) of all, and then the scenarios' states too. Returns the names reset.
  std::vector<std::string> reset(const std::string& name);
  // Replaces a server's rules with `rules` (a YAML list, as under `rules:`), checked as a
  // scenario's are; on any error nothing changes and `errors` says why.
  bool replace_rules(Server& server, const YAML::Node& rules, ConfigErrors& errors);

 private:
  Json server_entry(const Listener& listener) const;
  void write_ready_file() const;
  void remove_ready_file();
  std::filesystem::path tls_dir();

  FarmOptions options_;
  std::unique_ptr<asio::io_context> io_ = std::make_unique<asio::io_context>(1);
  TranscriptSink sink_;
  ConnectionRegistry connections_;
  TlsContexts tls_;
  FarmBus bus_;
  FarmServices services_{*io_, sink_, connections_, tls_, bus_};
  std::vector<LoadedScenario> scenarios_;
  std::vector<std::unique_ptr<Server>> servers_;
  std::vector<std::unique_ptr<Listener>> listeners_;
  std::optional<asio::signal_set> signals_;
  std::optional<std::filesystem::path> temp_tls_dir_;
  std::optional<std::chrono::steady_clock::time_point> stop_deadline_;
  bool ready_written_ = false;
  // After the servers: sessions finishing as the farm is torn down still report to the hub.
  std::unique_ptr<control::Hub> hub_;
  std::unique_ptr<control::ControlServer> control_;
};

}  // namespace protofarm
