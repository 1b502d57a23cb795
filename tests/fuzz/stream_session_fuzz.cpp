// Fuzz target: whole sessions of the smtp, pop3 and tcp fakes on the in-memory transport.
//
// The first byte picks the server (smtp with AUTH, CHUNKING and a rule; pop3 with a mailbox;
// tcp in line mode with a script, then rules); the rest is everything the client sends, after
// which it closes. The session runs as the farm runs it (run_stream_session: the rules, the
// recorder, the codecs, the state machines) to its end. Besides not crashing, leaking or
// invoking undefined behaviour: the session must end within a bounded time (no hang), and its
// document must be valid JSON whose last event is the close.
//
// Built twice: with libFuzzer for campaigns (`make fuzz`), and as a replay of the saved corpus
// in tests/fuzz/corpus/stream_session/ in every build, so `make test` runs it.
#include <unistd.h>

#include <boost/asio/detached.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "controller/scenario.hpp"
#include "fakes/common/fake.hpp"
#include "fakes/common/listener.hpp"
#include "fakes/common/memory_transport.hpp"
#include "fakes/common/recorder.hpp"
#include "fakes/registry.hpp"
#include "tests/fuzz/check.hpp"

namespace {

using namespace protofarm;
namespace fs = std::filesystem;

constexpr const char* kScenario = R"yaml(name: fuzz
servers:
  mail:
    protocol: smtp
    users: {alice: secret}
    extensions: [PIPELINING, CHUNKING, AUTH, SIZE, 8BITMIME, SMTPUTF8]
    size_limit: 64KiB
    command_timeout: 0s
    rules:
      - {on: RCPT, match: 'blocked', reply: "550 5.1.1 no"}
      - {on: MAIL, match: 'greylist', times: 1, reply: "451 4.7.1 later"}
  pop:
    protocol: pop3
    apop_timestamp: "<1.2@pop.test>"
    command_timeout: 0s
    mailboxes:
      alice:
        password: secret
        messages: ["Subject: hi\n\n.dot\n", "Subject: two\n\nbody\n"]
  echo:
    protocol: tcp
    max_line: 4KiB
    command_timeout: 0s
    script:
      - send: "220 hi\r\n"
      - expect: "HELO (\\w+)"
      - send: "250 ${1}\r\n"
    echo: true
    rules:
      - {on: PING, reply: "PONG"}
      - {match: '^(\w+)\s(\w+)$', reply: "words"}
)yaml";

struct World {
  World() {
    dir = fs::temp_directory_path() / ("stream-session-fuzz-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    const fs::path file = dir / "scenario.yaml";
    std::ofstream(file, std::ios::binary) << kScenario;
    sink.open(dir / "t");
    errors = ConfigErrors(file.string());
    auto loaded = load_scenario(file.string(), errors);
    if (!loaded || !errors.empty()) {
      std::fprintf(stderr, "%s\n", errors.format().c_str());
      std::abort();
    }
    for (const auto& config : loaded->servers) {
      auto server = std::make_unique<Server>(config, services);
      const Cfg cfg(server->config().node, "servers." + config.name, &errors);
      auto fake = find_fake(config.protocol)->create(*server, cfg);
      if (!fake) std::abort();
      server->set_fake(std::move(fake));
      servers.push_back(std::move(server));
    }
  }
  ~World() {
    servers.clear();
    std::error_code ec;
    fs::remove_all(dir, ec);
  }

  fs::path dir;
  asio::io_context io;
  TranscriptSink sink;
  ConnectionRegistry connections;
  TlsContexts tls;
  FarmBus bus;
  FarmServices services{io, sink, connections, tls, bus};
  ConfigErrors errors;
  std::vector<std::unique_ptr<Server>> servers;
  std::vector<std::uint64_t> sessions = std::vector<std::uint64_t>(3, 0);
  std::uint64_t runs = 0;
};

World& world() {
  static World* w = new World();  // never destroyed: libFuzzer exits without unwinding
  return *w;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  World& w = world();
  const std::size_t which = data[0] % w.servers.size();
  Server& server = *w.servers[which];
  const std::string input(reinterpret_cast<const char*>(data) + 1, size - 1);

  MemoryPeer peer(w.io.get_executor());
  peer.send(input);
  peer.close();
  asio::co_spawn(w.io, run_stream_session(server, peer.server_end()), asio::detached);
  w.io.restart();
  // Scripted pauses and the linger after the server's close are short; a session still running
  // after this is a hang.
  w.io.run_for(std::chrono::seconds(10));
  check(w.io.stopped());
  const std::uint64_t n = ++w.sessions[which];

  w.sink.sync();
  const fs::path doc = w.dir / "t" / "sessions" / server.name() / (std::to_string(n) + ".json");
  std::ifstream in(doc, std::ios::binary);
  check(in.good());
  std::stringstream text;
  text << in.rdbuf();
  in.close();
  const auto json = nlohmann::json::parse(text.str(), nullptr, false);
  check(!json.is_discarded());
  check(json.is_object() && json["events"].is_array() && !json["events"].empty());
  check(json["events"].back().value("event", "") == "close");
  // Keep the disk clean between inputs: the document and any payload files go now, and
  // events.jsonl starts afresh now and then (open() truncates it).
  std::error_code ec;
  fs::remove(doc, ec);
  fs::remove_all(w.dir / "t" / "files", ec);
  if (++w.runs % 1000 == 0) w.sink.open(w.dir / "t");
  return 0;
}
