// A fake as the farm runs it, without a network: one server loaded from YAML by the farm's own
// loader, with the farm's services, and whole sessions over a socketpair. Shared by the protocol
// fakes' unit tests.
#pragma once

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/detached.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "controller/scenario.hpp"
#include "fakes/common/fake.hpp"
#include "fakes/common/listener.hpp"
#include "fakes/common/memory_transport.hpp"
#include "fakes/common/rules.hpp"

namespace protofarm {

class FakeFixture : public ::testing::Test {
 protected:
  FakeFixture(std::string name, std::string protocol, FakeFactory factory)
      : name_(std::move(name)), protocol_(std::move(protocol)), factory_(std::move(factory)) {}

  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           (protocol_ + "-fake-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    sink_.open(dir_);
  }
  void TearDown() override {
    server_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  // Loads `yaml` as the config of the server, through the farm's own loader (schema check,
  // common keys, TLS, rules): it is written into DIR/scenario.yaml as the server's entry, below
  // one line per other server. Returns the errors (empty when all is well); their positions are
  // the file's, so the server's keys start at line header_lines() + 1, column 5.
  // `protocols` names the scenario's other servers, for keys that refer to them.
  std::string load(const std::string& yaml, std::map<std::string, std::string> protocols = {}) {
    std::string text = "name: unit\nservers:\n";
    header_lines_ = 2;
    for (const auto& [name, protocol] : protocols) {
      text += "  " + name + ": {protocol: " + protocol + "}\n";
      ++header_lines_;
    }
    text += "  " + name_ + ":\n";
    ++header_lines_;
    std::istringstream lines(yaml);
    for (std::string line; std::getline(lines, line);) text += "    " + line + "\n";
    const std::filesystem::path file = dir_ / "scenario.yaml";
    std::ofstream(file, std::ios::binary) << text;
    errors_ = ConfigErrors(file.string());
    auto loaded = load_scenario(file.string(), errors_);
    if (!loaded) return errors_.format();
    context_ = loaded->context;
    for (const auto& config : loaded->servers)
      if (config.name == name_) start(config);
    return errors_.format();
  }
  int header_lines() const { return header_lines_; }

  // Creates the server and its fake from `config` (what load() did, or a changed copy).
  void start(const ServerConfig& config) {
    server_.reset();
    server_ = std::make_unique<Server>(config, services_);
    if (config.tls.mode != TlsMode::none) {
      // As the farm's bind() does: a generated certificate unless the scenario names one.
      if (config.tls.cert_file.empty()) tls_.set_directory(dir_ / "tls");
      server_->set_tls_context(&tls_.server_context(config.tls));
    }
    const Cfg cfg(server_->config().node, "servers." + name_, &errors_);
    auto fake = factory_.create(*server_, cfg);
    EXPECT_TRUE(fake);
    server_->set_fake(std::move(fake));
  }

  // Runs one session: sends `input` (all of it, pipelined), then half-closes; returns what the
  // server sent until it closed.
  std::string converse(const std::string& input) {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    StreamSocket socket(io_, asio::generic::stream_protocol(AF_UNIX, SOCK_STREAM), fds[0]);
    EXPECT_EQ(::write(fds[1], input.data(), input.size()), static_cast<ssize_t>(input.size()));
    ::shutdown(fds[1], SHUT_WR);
    asio::co_spawn(io_, run_stream_session(*server_, std::move(socket)), asio::detached);
    io_.restart();
    io_.run();
    std::string out;
    char buf[4096];
    for (;;) {
      const ssize_t n = ::read(fds[1], buf, sizeof buf);
      if (n <= 0) break;
      out.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fds[1]);
    return out;
  }

  // Runs one session on an in-memory transport: the client sends `input` and closes; the
  // `fail_at`th read or write of the server (1-based; 0: none) fails with a reset, and so does
  // every one after it. Returns what the server sent; `operations` gets how many reads and
  // writes the server did.
  std::string converse_in_memory(const std::string& input, std::size_t fail_at = 0,
                                 std::size_t* operations = nullptr) {
    MemoryPeer peer(io_.get_executor());
    peer.send(input);
    peer.close();
    peer.fail_at(fail_at);
    asio::co_spawn(io_, run_stream_session(*server_, peer.server_end()), asio::detached);
    io_.restart();
    io_.run_for(std::chrono::seconds(20));
    EXPECT_TRUE(io_.stopped()) << "the session did not end";
    if (operations) *operations = peer.operations();
    return peer.received();
  }

  // The session document of session n, as text.
  std::string session_doc(int n) {
    sink_.sync();  // the writer thread has written everything recorded so far
    std::ifstream in(dir_ / "sessions" / name_ / (std::to_string(n) + ".json"));
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

  void write_file(const std::string& name, const std::string& content) {
    std::ofstream(dir_ / name, std::ios::binary) << content;
  }

  std::string name_, protocol_;
  FakeFactory factory_;
  std::filesystem::path dir_;
  asio::io_context io_;
  TranscriptSink sink_;
  ConnectionRegistry connections_;
  TlsContexts tls_;
  FarmBus bus_;
  FarmServices services_{io_, sink_, connections_, tls_, bus_};
  std::shared_ptr<ScenarioContext> context_;
  ConfigErrors errors_;
  int header_lines_ = 0;
  std::unique_ptr<Server> server_;
};

}  // namespace protofarm
