// Fuzz target: the control API's request handling (docs/control-api.md), bytes in and answers
// out, without sockets.
//
// The input is what a client sends on one connection: Beast parses requests from it one after
// another, as the control server does (heads up to 16 KiB, bodies up to 1 MiB), and each one goes
// to ControlServer::handle() of a farm made once per process (an smtp, a pop3 and an http server
// with rules, states and an expect: section, recording into a temporary folder). Paths, queries,
// tokens, JSON and YAML bodies all reach the code that reads them: rules replaced at run time go
// through the scenario loader, states are set, resets and verify run. Besides not crashing,
// leaking or invoking undefined behaviour, every answer must have a status from 200 to 599 and,
// when it says JSON, a body that parses as JSON, with an "error" for every 4xx.
//
// Built twice: with libFuzzer for campaigns (`make fuzz`), and as a replay of the saved corpus
// in tests/fuzz/corpus/control_api/ in every build, so `make test` (and its ASan build) runs it.
#include <unistd.h>

#include <boost/beast/http/parser.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>

#include "controller/control/control_server.hpp"
#include "controller/control/hub.hpp"
#include "controller/farm.hpp"
#include "tests/fuzz/check.hpp"

namespace {

namespace fs = std::filesystem;
namespace http = boost::beast::http;
using namespace protofarm;

constexpr std::string_view kScenario = R"(name: fuzz
state: {mode: normal}
servers:
  mail:
    protocol: smtp
    rules:
      - on: RCPT
        match: 'blocked'
        times: 1
        reply: "550 5.1.1 no"
      - on: DATA
        when_state: {mode: broken}
        reply: "451 4.3.0 later"
  pop:
    protocol: pop3
    mailboxes:
      alice:
        password: secret
        messages:
          - text: "Subject: one\n\nbody\n"
  web:
    protocol: http
    rules:
      - on: GET
        match: '^/hello'
        reply: {status: 200, body: "hi"}
expect:
  mail:
    sessions: 0
)";

// The farm, made once, removed at exit.
struct World {
  fs::path dir;
  std::unique_ptr<Farm> farm;
  asio::io_context io;
  std::unique_ptr<control::Hub> hub;
  std::unique_ptr<control::ControlServer> server;

  World() {
    dir = fs::temp_directory_path() / ("protofarm-control-fuzz-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    std::ofstream(dir / "scenario.yaml") << kScenario;
    FarmOptions options;
    options.transcripts = dir / "transcripts";
    options.control_token = "";  // mutating calls need none: they are what is fuzzed
    farm = std::make_unique<Farm>(options);
    const auto errors = farm->load({(dir / "scenario.yaml").string()});
    for (const auto& e : errors)
      if (!e.empty()) {
        std::fprintf(stderr, "%s", e.format().c_str());
        std::abort();
      }
    farm->bind();
    hub = std::make_unique<control::Hub>(io, true);
    server = std::make_unique<control::ControlServer>(io, *farm, *hub);
  }
  ~World() {
    server.reset();
    farm.reset();
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

void check_answer(const control::HttpResponse& res) {
  const unsigned status = res.result_int();
  check(status >= 200 && status <= 599);
  const auto type = res[http::field::content_type];
  if (type.starts_with("application/json")) {
    const auto body = nlohmann::json::parse(res.body(), nullptr, false);
    check(!body.is_discarded());
    if (status >= 400) check(body.is_object() && body.contains("error"));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static World world;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  // Each request is read as the server reads one; what follows it is the next.
  for (int requests = 0; !input.empty() && requests < 16; ++requests) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(control::ControlServer::kMaxHead);
    parser.body_limit(control::ControlServer::kMaxBody);
    parser.eager(true);
    boost::beast::error_code ec;
    std::size_t used = 0;
    while (!parser.is_done() && used < input.size()) {
      const std::size_t n =
          parser.put(boost::asio::buffer(input.data() + used, input.size() - used), ec);
      if (ec || n == 0) break;
      used += n;
    }
    // Incomplete at the end of the input (the server would wait), or a parse error (the server
    // answers 400, 413 or 431 and closes): either way the connection's requests end here.
    if (!parser.is_done()) break;
    check(used <= input.size());
    input.remove_prefix(used);
    control::HttpRequest request = parser.release();
    std::function<void()> after;  // POST /api/stop: not run, the farm must stay up
    check_answer(world.server->handle(request, after));
  }
  return 0;
}
