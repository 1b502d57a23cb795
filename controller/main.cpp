// protofarm: a farm of scripted fake network servers for CI. See README.md.
#include <sys/resource.h>
#include <unistd.h>

#include <yaml-cpp/yaml.h>
#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "controller/control/control_server.hpp"
#include "controller/farm.hpp"
#include "controller/schema_validator.hpp"
#include "controller/show.hpp"
#include "controller/verify.hpp"
#include "fakes/common/net.hpp"

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

// --control ADDR|none and --control-token (or PROTOFARM_CONTROL_TOKEN) into the farm's options.
// Returns an error message for bad usage: an address that cannot be read, or one off loopback
// without a token (anyone who can reach it could change the farm's rules or stop it).
std::string control_options(const std::string& control, std::string token,
                            protofarm::FarmOptions& options) {
  if (token.empty())
    if (const char* env = std::getenv("PROTOFARM_CONTROL_TOKEN")) token = env;
  options.control_token = token;
  if (control == "none") return {};
  std::string why;
  auto address = protofarm::parse_listen(control, why);
  if (!address) return "--control " + control + ": " + why;
  if (address->kind != protofarm::ListenAddress::Kind::inet)
    return "--control " + control + ": expected HOST:PORT (the control API is HTTP over TCP)";
  if (!protofarm::control::is_loopback(address->host) && token.empty())
    return "--control " + control +
           ": the control API off loopback needs a token (--control-token or "
           "PROTOFARM_CONTROL_TOKEN), so that no one else can change or stop the farm";
  options.control = *address;
  return {};
}

// `remove_after_load`: a generated scenario file, deleted once it has been read.
int cmd_run(const std::vector<std::string>& files, const protofarm::FarmOptions& options,
            const std::string& remove_after_load = {}) {
  raise_open_file_limit();
  protofarm::Farm farm(options);
  const auto errors = farm.load(files);
  if (!remove_after_load.empty()) ::unlink(remove_after_load.c_str());
  if (const int status = report(errors); status != kExitOk) return status;
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

// `protofarm serve DIR`: one http server for a folder, without a scenario file. The scenario is
// made here (YAML, so it goes through the same checks as a file) and loaded from a temporary
// file, removed as soon as it is read.
struct ServeOptions {
  std::string dir;
  std::string listen = "127.0.0.1:0";
  std::string cgi;
  std::string tls = "none";
};

std::string serve_scenario(const ServeOptions& options) {
  namespace fs = std::filesystem;
  YAML::Emitter out;
  out << YAML::BeginMap << YAML::Key << "name" << YAML::Value << "serve";
  out << YAML::Key << "servers" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "web" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "protocol" << YAML::Value << "http";
  out << YAML::Key << "listen" << YAML::Value << options.listen;
  out << YAML::Key << "tls" << YAML::Value << options.tls;
  out << YAML::Key << "docroot" << YAML::Value << fs::absolute(options.dir).string();
  if (!options.cgi.empty()) {
    out << YAML::Key << "cgi" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "dir" << YAML::Value << fs::absolute(options.cgi).string();
    out << YAML::EndMap;
  }
  out << YAML::EndMap << YAML::EndMap << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

int cmd_serve(const ServeOptions& serve, const protofarm::FarmOptions& options) {
  namespace fs = std::filesystem;
  std::string path = (fs::temp_directory_path() / "protofarm-serve-XXXXXX.yaml").string();
  const int fd = ::mkstemps(path.data(), 5);
  if (fd < 0) {
    std::cerr << "protofarm: cannot write a temporary scenario in " << fs::temp_directory_path()
              << "\n";
    return kExitRuntime;
  }
  const std::string text = serve_scenario(serve);
  const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(fd);
  if (!written) {
    ::unlink(path.c_str());
    std::cerr << "protofarm: cannot write " << path << "\n";
    return kExitRuntime;
  }
  return cmd_run({path}, options, path);
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
  std::string listen_host;
  run->add_option("--listen-host", listen_host,
                  "bind every server to this host instead of its listen's, keeping the port "
                  "(0.0.0.0: all interfaces, as the container image does)");
  std::string control = "127.0.0.1:0", control_token;
  run->add_option("--control", control,
                  "the control API and live page: HOST:PORT or none (default 127.0.0.1:0)");
  run->add_option("--control-token", control_token,
                  "a token the control API's mutating calls must carry (Authorization: Bearer); "
                  "also PROTOFARM_CONTROL_TOKEN");

  ServeOptions serve_options;
  std::string serve_transcripts, serve_ready_file;
  auto* serve = app.add_subcommand("serve", "serve a folder over HTTP, with no scenario file");
  serve->add_option("dir", serve_options.dir, "the folder to serve")
      ->required()
      ->check(CLI::ExistingDirectory);
  serve->add_option("--listen", serve_options.listen, "address to listen on (default 127.0.0.1:0)");
  serve
      ->add_option("--cgi", serve_options.cgi, "run the executables in this folder under /cgi-bin/")
      ->check(CLI::ExistingDirectory);
  serve->add_option("--tls", serve_options.tls, "none or implicit (HTTPS, generated certificate)")
      ->check(CLI::IsMember({"none", "implicit"}));
  serve->add_option("--transcripts", serve_transcripts,
                    "record every conversation under this directory");
  serve->add_option("--ready-file", serve_ready_file,
                    "write the bound port here (JSON) once listening");
  serve->add_option("--control", control,
                    "the control API and live page: HOST:PORT or none (default 127.0.0.1:0)");
  serve->add_option("--control-token", control_token,
                    "a token the control API's mutating calls must carry; also "
                    "PROTOFARM_CONTROL_TOKEN");

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
    if (!listen_host.empty()) {
      std::string why;
      const bool v6 = listen_host.find(':') != std::string::npos;
      const auto parsed =
          protofarm::parse_listen((v6 ? "[" + listen_host + "]" : listen_host) + ":0", why);
      if (!parsed || parsed->kind != protofarm::ListenAddress::Kind::inet) {
        std::cerr << "protofarm: --listen-host " << listen_host << ": not an address to listen on"
                  << (why.empty() ? "" : " (" + why + ")") << "\n";
        return kExitUsage;
      }
      options.listen_host = parsed->host;
    }
    if (const std::string why = control_options(control, control_token, options); !why.empty()) {
      std::cerr << "protofarm: " << why << "\n";
      return kExitUsage;
    }
    return cmd_run(run_files, options);
  }
  if (*serve) {
    protofarm::FarmOptions options;
    if (!serve_transcripts.empty()) options.transcripts = serve_transcripts;
    if (!serve_ready_file.empty()) options.ready_file = serve_ready_file;
    if (const std::string why = control_options(control, control_token, options); !why.empty()) {
      std::cerr << "protofarm: " << why << "\n";
      return kExitUsage;
    }
    return cmd_serve(serve_options, options);
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
