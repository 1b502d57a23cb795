// Fuzz target: the scenario loader, YAML text in.
//
// The input is a scenario file: load_scenario() parses it (yaml-cpp), checks it against the
// schema, reads the common keys and rules, and each fake then reads its own keys, as `protofarm
// validate` and `run` do before anything listens. Besides not crashing, leaking or invoking
// undefined behaviour: a scenario either loads or comes back with errors that each name the
// file, never an exception; and the error text is printable as given.
//
// Built twice: with libFuzzer for campaigns (`make fuzz`), and as a replay of the saved corpus
// in tests/fuzz/corpus/scenario_loader/ in every build, so `make test` runs it.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "controller/scenario.hpp"
#include "fakes/common/fake.hpp"
#include "fakes/common/recorder.hpp"
#include "fakes/registry.hpp"
#include "tests/fuzz/check.hpp"

namespace {

using namespace protofarm;
namespace fs = std::filesystem;

struct World {
  World() {
    dir = fs::temp_directory_path() / ("scenario-loader-fuzz-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    file = dir / "scenario.yaml";
  }
  fs::path dir, file;
  asio::io_context io;
  TranscriptSink sink;  // not recording
  ConnectionRegistry connections;
  TlsContexts tls;
  FarmBus bus;
  FarmServices services{io, sink, connections, tls, bus};
};

World& world() {
  static World* w = new World();  // never destroyed: libFuzzer exits without unwinding
  return *w;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // Scenario files are small; the loader's own size limit is tested elsewhere.
  if (size > 64 * 1024) return 0;
  World& w = world();
  {
    std::ofstream out(w.file, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  ConfigErrors errors(w.file.string());
  std::optional<LoadedScenario> loaded;
  try {
    loaded = load_scenario(w.file.string(), errors);
  } catch (...) {
    check(!"load_scenario threw");
  }
  if (loaded && errors.empty()) {
    // What `run` does next: every fake reads its keys (files it names are relative to the
    // scenario's folder, which holds nothing else).
    for (const auto& config : loaded->servers) {
      const FakeFactory* factory = find_fake(config.protocol);
      if (!factory) continue;
      try {
        Server server(config, w.services);
        const Cfg cfg(server.config().node, "servers." + config.name, &errors);
        (void)factory->create(server, cfg);
      } catch (...) {
        check(!"a fake's create threw");
      }
    }
  }
  const std::string text = errors.format();
  check(errors.empty() == text.empty());
  return 0;
}
