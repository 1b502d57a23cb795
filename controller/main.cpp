// protofarm: a farm of scripted fake network servers for CI. See README.md.
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <iostream>

#include "controller/farm.hpp"
#include "controller/schema_validator.hpp"
#include "controller/show.hpp"
#include "controller/verify.hpp"

namespace {

constexpr int kExitOk = 0;
constexpr int kExitUsage = 2;  // bad usage or bad scenario
constexpr int kExitRuntime = 3;

int report(const std::vector<protofarm::ConfigErrors>& errors) {
  std::size_t count = 0;
  for (const auto& e : errors) {
    std::cerr << e.format();
    count += e.size();
  }
  if (count) std::cerr << count << (count == 1 ? " error" : " errors") << "; nothing was started\n";
  return count ? kExitUsage : kExitOk;
}

int cmd_validate(const std::vector<std::string>& files) {
  protofarm::Farm farm({});
  const auto errors = farm.load(files);
  std::size_t count = 0;
  for (const auto& e : errors) {
    std::cerr << e.format();
    count += e.size();
  }
  if (count) {
    std::cerr << count << (count == 1 ? " error" : " errors") << "\n";
    return kExitUsage;
  }
  for (const auto& sc : farm.scenarios())
    std::cout << sc.file << ": ok (" << sc.servers.size()
              << (sc.servers.size() == 1 ? " server" : " servers") << ")\n";
  return kExitOk;
}

// Every session holds a socket, and the usual soft limit of 1024 open files is soon reached
// under load (accept then fails with EMFILE). Raise the soft limit to the hard one.
void raise_open_file_limit() {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= rl.rlim_max) return;
  rl.rlim_cur = rl.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &rl);
}

int cmd_run(const std::vector<std::string>& files, const protofarm::FarmOptions& options) {
  raise_open_file_limit();
  protofarm::Farm farm(options);
  if (const int status = report(farm.load(files)); status != kExitOk) return status;
  try {
    farm.bind();
  } catch (const std::exception& e) {
    std::cerr << "protofarm: " << e.what() << "\n";
    return kExitRuntime;
  }
  try {
    farm.run();
  } catch (const std::exception& e) {
    std::cerr << "protofarm: " << e.what() << "\n";
    return kExitRuntime;
  }
  return kExitOk;
}

int run_cli(int argc, char** argv) {
  // A peer that closed its end (a socket, a CGI child's stdin, the ready line's pipe) is an
  // error value for the write that meets it, never the farm's death.
  std::signal(SIGPIPE, SIG_IGN);
  CLI::App app{"protofarm: scripted fake network servers for CI"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("protofarm ") + PROTOFARM_VERSION);

  std::vector<std::string> run_files;
  std::string transcripts, ready_file;
  std::vector<std::string> only;
  auto* run = app.add_subcommand("run", "start the servers of one or more scenarios");
  run->add_option("scenario", run_files, "scenario files")->required()->check(CLI::ExistingFile);
  run->add_option("--transcripts", transcripts, "record every conversation under this directory");
  run->add_option("--ready-file", ready_file, "write the bound ports here (JSON) once listening");
  run->add_option("--only", only, "serve only this server (repeatable)");

  std::vector<std::string> validate_files;
  auto* validate = app.add_subcommand("validate", "check scenario files without starting anything");
  validate->add_option("scenario", validate_files, "scenario files")->required();

  protofarm::VerifyOptions verify_options;
  auto* verify =
      app.add_subcommand("verify", "check transcripts against a scenario's expect: section");
  verify->add_option("scenario", verify_options.scenario, "scenario file")->required();
  verify->add_option("--transcripts", verify_options.transcripts, "transcript directory")
      ->required();
  verify->add_option("--junit", verify_options.junit, "also write a JUnit XML report here");

  protofarm::ShowOptions show_options;
  auto* show = app.add_subcommand("show", "print recorded conversations");
  show->add_option("transcripts", show_options.transcripts, "transcript directory")->required();
  show->add_option("--server", show_options.server, "only this server");
  show->add_option("--session", show_options.session, "only this session number");
  show->add_option("--color", show_options.color, "auto, always or never")
      ->check(CLI::IsMember({"auto", "always", "never"}));

  auto* schema = app.add_subcommand("schema", "print the scenario JSON Schema");

  bool fakes_json = false;
  auto* fakes = app.add_subcommand("fakes", "list the registered protocols");
  fakes->add_flag("--json", fakes_json, "as JSON: transport, TLS, rule `on` values, contract");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int status = app.exit(e);
    return status == 0 ? 0 : kExitUsage;
  }

  if (*run) {
    protofarm::FarmOptions options;
    if (!transcripts.empty()) options.transcripts = transcripts;
    if (!ready_file.empty()) options.ready_file = ready_file;
    options.only = only;
    return cmd_run(run_files, options);
  }
  if (*validate) return cmd_validate(validate_files);
  if (*verify) return protofarm::run_verify(verify_options);
  if (*show) return protofarm::run_show(show_options);
  if (*schema) {
    std::cout << protofarm::scenario_schema_text();
    return kExitOk;
  }
  if (*fakes) {
    std::cout << protofarm::describe_fakes(fakes_json);
    return kExitOk;
  }
  return kExitUsage;
}

}  // namespace

int main(int argc, char** argv) {
  // The commands report the failures they expect as a status. Anything else that throws (a
  // filesystem error, out of memory) is still a runtime failure, exit status 3 (README), with
  // its message: not std::terminate's abort.
  try {
    return run_cli(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "protofarm: " << e.what() << "\n";
  } catch (...) {
    std::cerr << "protofarm: unexpected error\n";
  }
  return kExitRuntime;
}
