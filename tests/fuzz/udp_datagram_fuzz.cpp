// Fuzz target: the udp fake's answer to one datagram (fakes/udp/udp_rules.hpp), datagram in.
//
// A scenario's udp server with rules of every kind (hex prefixes, regexes with captures, a
// backtracking one, duplicates, truncation, gaps, echo) plans its answer to the input, as the
// fake does for each datagram it receives. Besides not crashing, leaking or invoking undefined
// behaviour: every planned datagram respects `truncate`, duplicates come in their stated
// number, and no answer grows past the limits the fake documents.
//
// Built twice: with libFuzzer for campaigns (`make fuzz`), and as a replay of the saved corpus
// in tests/fuzz/corpus/udp_datagram/ in every build, so `make test` runs it.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>

#include "controller/scenario.hpp"
#include "fakes/common/rules.hpp"
#include "fakes/udp/udp_rules.hpp"
#include "tests/fuzz/check.hpp"

namespace {

using namespace protofarm;
namespace fs = std::filesystem;

constexpr const char* kScenario = R"yaml(name: fuzz
servers:
  dns:
    protocol: udp
    echo: true
    rules:
      - {hex_prefix: "00010100", reply: "one", duplicate: 2}
      - {on: PING, reply: ["PONG", "again"], gap: 1ms}
      - {match: '^GET (\w+)', reply: "got ${1} ${0}", truncate: 5}
      - {match: '^(\w+) (\d+)$', reply: "pair ${2}"}
      - {on: BYE, then: close}
      - {on: HANG, then: hang}
)yaml";

struct World {
  World() {
    const fs::path dir =
        fs::temp_directory_path() / ("udp-datagram-fuzz-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    const fs::path file = dir / "scenario.yaml";
    std::ofstream(file, std::ios::binary) << kScenario;
    ConfigErrors errors(file.string());
    auto loaded = load_scenario(file.string(), errors);
    if (!loaded || !errors.empty() || loaded->servers.size() != 1) {
      std::fprintf(stderr, "%s\n", errors.format().c_str());
      std::abort();
    }
    const ServerConfig& server = loaded->servers.front();
    const Cfg cfg(server.node, "servers.dns", &errors);
    config = udp::parse_config(cfg, server.max_line);
    rules =
        std::make_unique<RuleEngine>(server.rules, std::make_shared<StateStore>(), server.moments);
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  udp::Config config;
  std::unique_ptr<RuleEngine> rules;
};

World& world() {
  static World* w = new World();  // never destroyed: libFuzzer exits without unwinding
  return *w;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  World& w = world();
  const std::string_view datagram(reinterpret_cast<const char*>(data), size);
  const udp::Answer answer = udp::plan_answer(*w.rules, w.config, datagram);
  (void)w.rules->take_abandoned();
  check(answer.datagrams.size() <= 64);
  for (const auto& out : answer.datagrams) {
    check(out.copy <= udp::kMaxDuplicate);
    if (out.cut_from) check(out.bytes.size() <= 5 && *out.cut_from >= out.bytes.size());
    check(out.bytes.size() <= datagram.size() + 4096);
  }
  if (!answer.match && !answer.silent()) {
    // No rule: the echo, once.
    check(answer.datagrams.size() == 1 && answer.datagrams.front().bytes == datagram);
  }
  return 0;
}
