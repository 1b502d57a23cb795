// Loading scenario files: YAML parsing, the schema check, and decoding of the keys every
// server has. Protocol-specific keys are decoded by each fake's factory (fake.hpp).
//
// Every problem is collected with its file, line and column; nothing is started while any
// remain. Checks that span servers (two servers on one fixed port, a server name used twice
// across files) run in check_across().
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "controller/transcript_expect.hpp"
#include "fakes/common/server.hpp"

namespace protofarm {

struct LoadedScenario {
  std::string file;
  YAML::Node document;
  std::shared_ptr<ScenarioContext> context;
  std::vector<ServerConfig> servers;       // in file order
  YAML::Node expect;                       // the `expect:` section (may be undefined)
  std::vector<ServerExpect> expectations;  // that section, parsed and checked at load
};

// Reads and checks one file. Returns nullopt when it cannot be parsed at all; otherwise the
// scenario, with any errors added to `errors` (callers must not start it when errors exist).
std::optional<LoadedScenario> load_scenario(const std::string& file, ConfigErrors& errors);

// Errors across files: duplicate server names, fixed ports or Unix paths used twice.
void check_across(const std::vector<LoadedScenario>& scenarios, std::vector<ConfigErrors>& errors);

}  // namespace protofarm
