#include "controller/farm.hpp"

#include <malloc.h>

#include <fcntl.h>
#include <unistd.h>

#include <pthread.h>

#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <set>

#include "controller/control/control_server.hpp"
#include "controller/control/hub.hpp"
#include "controller/schema_validator.hpp"

namespace protofarm {

namespace fs = std::filesystem;

Farm::Farm(FarmOptions options) : options_(std::move(options)) {}

Farm::~Farm() {
  remove_ready_file();
  // Order matters: listening sockets first, then the loop (destroying any session frames
  // still pending, which finishes their transcripts while the sink and registry live), then
  // the servers.
  listeners_.clear();
  control_.reset();
  if (signals_) {
    // A second SIGTERM (docker stop's, or a test's) that comes while the farm is torn down must
    // not kill it half way through its transcripts: once the signal_set goes, the signals it
    // caught would have their default action again, so they are blocked first.
    sigset_t stopping;
    sigemptyset(&stopping);
    for (const int sig : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&stopping, sig);
    pthread_sigmask(SIG_BLOCK, &stopping, nullptr);
  }
  signals_.reset();
  if (hub_) hub_->detach();  // it outlives the loop, its timer must not
  // Payloads the writer thread saves tell their sessions through the loop: all of them have
  // done so before the loop goes (nothing runs on it now to ask for more).
  sink_.sync();
  io_.reset();
  servers_.clear();
  if (temp_tls_dir_) {
    std::error_code ec;
    fs::remove_all(*temp_tls_dir_, ec);
  }
}

std::vector<ConfigErrors> Farm::load(const std::vector<std::string>& files) {
  std::vector<ConfigErrors> errors;
  for (const auto& file : files) {
    errors.emplace_back(file);
    auto loaded = load_scenario(file, errors.back());
    scenarios_.push_back(loaded ? std::move(*loaded)
                                : LoadedScenario{file, {}, nullptr, {}, {}, {}});
  }
  check_across(scenarios_, errors);

  const std::set<std::string> wanted(options_.only.begin(), options_.only.end());
  for (std::size_t i = 0; i < scenarios_.size(); ++i) {
    for (auto& config : scenarios_[i].servers) {
      const FakeFactory* factory = find_fake(config.protocol);
      if (!factory) continue;  // the schema check reported the unknown protocol
      const Cfg cfg(config.node, "servers." + config.name, &errors[i]);
      if (options_.listen_host && config.listen.kind == ListenAddress::Kind::inet) {
        config.listen.host = *options_.listen_host;
        const bool v6 = config.listen.host.find(':') != std::string::npos;
        config.listen.text = (v6 ? "[" + config.listen.host + "]" : config.listen.host) + ":" +
                             std::to_string(config.listen.port);
      }
      auto server = std::make_unique<Server>(config, services_);
      auto fake = factory->create(*server, cfg);
      if (!fake) continue;
      server->set_fake(std::move(fake));
      // Every server is kept (fakes may refer to each other, like POP3 to SMTP); `--only`
      // decides which ones bind() starts.
      servers_.push_back(std::move(server));
    }
  }
  std::vector<std::string> all_names;
  for (const auto& sc : scenarios_)
    for (const auto& s : sc.servers) all_names.push_back(s.name);
  // The fakes have parsed what they need: the YAML documents go (a 10,000-file ftp tree is
  // several MiB of YAML nodes), and the heap they held goes back to the system before ready.
  // (reset(), not assignment: assigning to a yaml-cpp Node changes the node it refers to.)
  for (auto& sc : scenarios_) {
    sc.document.reset();
    sc.expect.reset();
    for (auto& s : sc.servers) s.node.reset();
  }
  for (auto& s : servers_) s->forget_yaml();
  malloc_trim(0);
  for (const auto& name : wanted) {
    if (std::find(all_names.begin(), all_names.end(), name) == all_names.end()) {
      if (errors.empty()) errors.emplace_back("");
      errors.front().add_plain("--only " + name + ": no server of that name" +
                               did_you_mean(name, all_names));
    }
  }
  return errors;
}

fs::path Farm::tls_dir() {
  if (options_.transcripts) return fs::absolute(*options_.transcripts) / "tls";
  if (!temp_tls_dir_) {
    const char* tmp = std::getenv("TMPDIR");
    std::string templ = std::string(tmp && *tmp ? tmp : "/tmp") + "/protofarm-tls-XXXXXX";
    if (!::mkdtemp(templ.data()))
      throw std::runtime_error("cannot create a directory for TLS files");
    temp_tls_dir_ = templ;
  }
  return *temp_tls_dir_;
}

void Farm::bind() {
  if (options_.transcripts) {
    sink_.open(*options_.transcripts);
    // Events gathered while the farm handles a burst go out in one write, before it waits.
    sink_.set_deferred_flush(
        [this](std::function<void()> flush) { asio::post(*io_, std::move(flush)); });
  }
  const std::set<std::string> only(options_.only.begin(), options_.only.end());
  for (auto& s : servers_) {
    if (!only.empty() && !only.count(s->name())) continue;
    if (s->config().tls.mode != TlsMode::none) {
      try {
        if (s->config().tls.cert_file.empty()) tls_.set_directory(tls_dir());
        s->set_tls_context(&tls_.server_context(s->config().tls));
      } catch (const std::exception& e) {
        throw std::runtime_error("server '" + s->name() + "': " + e.what());
      }
    }
    listeners_.push_back(std::make_unique<Listener>(*s, s->fake().transport()));
  }
  if (options_.control) {
    hub_ = std::make_unique<control::Hub>(*io_, sink_.enabled());
    sink_.set_observer(hub_.get());
    control_ = std::make_unique<control::ControlServer>(*io_, *this, *hub_);
    try {
      control_->bind(*options_.control);
    } catch (const std::exception& e) {
      throw std::runtime_error(std::string("the control API: ") + e.what());
    }
  }
}

Json Farm::server_entry(const Listener& l) const {
  Server& s = l.server();
  Json e = Json::object();
  e["protocol"] = s.config().protocol;
  if (!l.path().empty()) {
    e["path"] = l.path();
  } else {
    e["host"] = l.host();
    e["port"] = l.port();
  }
  e["tls"] = to_string(s.config().tls.mode);
  if (s.config().tls.mode != TlsMode::none && tls_.generated())
    e["ca"] = tls_.generated()->ca_file.string();
  s.fake().describe(e);
  return e;
}

std::vector<std::pair<Server*, Json>> Farm::served() const {
  std::vector<std::pair<Server*, Json>> out;
  for (const auto& l : listeners_) out.emplace_back(&l->server(), server_entry(*l));
  return out;
}

Server* Farm::find_served(const std::string& name) const {
  for (const auto& l : listeners_)
    if (l->server().name() == name) return &l->server();
  return nullptr;
}

std::vector<std::string> Farm::reset(const std::string& name) {
  std::vector<std::string> names;
  for (const auto& l : listeners_) {
    Server& s = l->server();
    if (!name.empty() && s.name() != name) continue;
    s.rules().reset_counters();
    s.fake().reset();
    names.push_back(s.name());
  }
  if (name.empty())
    for (const auto& sc : scenarios_)
      if (sc.context) sc.context->states->reset();
  return names;
}

bool Farm::replace_rules(Server& server, const YAML::Node& rules, ConfigErrors& errors) {
  const FakeFactory* factory = find_fake(server.config().protocol);
  if (!factory) return false;
  // The same checks as a scenario's rules: the schema of this protocol's `rules:`, then the
  // rule parser with the protocol's syntax.
  nlohmann::json schema = nlohmann::json::object();
  schema["$defs"] = scenario_schema().at("$defs");
  schema["$ref"] = "#/$defs/" + server.config().protocol + "_server/properties/rules";
  SchemaValidator(std::move(schema)).validate(rules, errors, "rules");
  auto parsed = parse_rules(Cfg(rules, "rules", &errors), factory->rules);
  if (!errors.empty()) return false;
  auto engine = server.make_rules(std::move(parsed));
  server.fake().prepare_rules(engine->rules(), errors);
  if (!errors.empty()) return false;
  server.replace_rules(std::move(engine));
  return true;
}

Json Farm::ready_document() const {
  Json doc = Json::object();
  doc["pid"] = static_cast<long>(::getpid());
  Json servers = Json::object();
  for (const auto& l : listeners_) servers[l->server().name()] = server_entry(*l);
  doc["servers"] = std::move(servers);
  if (tls_.generated()) doc["ca"] = tls_.generated()->ca_file.string();
  if (options_.transcripts) doc["transcripts"] = fs::absolute(*options_.transcripts).string();
  if (control_) {
    Json c = Json::object();
    c["host"] = control_->host();
    c["port"] = control_->port();
    c["url"] = control_->url();
    doc["control"] = std::move(c);
  }
  return doc;
}

std::string Farm::ready_line() const {
  std::string line = "protofarm ready:";
  for (const auto& l : listeners_) {
    const ServerConfig& c = l->server().config();
    line += " " + c.name + "=" + c.protocol + "://" + l->url_authority();
    if (c.tls.mode != TlsMode::none) line += std::string("?tls=") + to_string(c.tls.mode);
  }
  return line;
}

void Farm::write_ready_file() const {
  if (!options_.ready_file) return;
  const fs::path path = *options_.ready_file;
  const fs::path tmp = path.string() + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << ready_document().dump(2) << "\n";
    if (!out) throw std::runtime_error("cannot write the ready file " + path.string());
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);  // atomic: readers see no file or the whole file
  if (ec)
    throw std::runtime_error("cannot write the ready file " + path.string() + ": " + ec.message());
}

void Farm::run() {
  // SIGHUP (a closed terminal, a CI runner's hang-up) stops the farm as SIGTERM does: its
  // transcripts are finished and its ready file removed, rather than the default death.
  signals_.emplace(*io_, SIGINT, SIGTERM, SIGHUP);
  signals_->async_wait([this](const error_code& ec, int) {
    if (!ec) stop();
  });
  for (auto& l : listeners_) l->start();
  if (control_) control_->start();
  write_ready_file();
  ready_written_ = true;
  // The ready line names servers only (scripts parse its name=url pairs); the page's address
  // goes to stderr, for a person, and is in the ready file for programs.
  if (control_) std::cerr << "protofarm: live page and control API at " << control_->url() << "/\n";
  std::cout << ready_line() << std::endl;
  // The loop ends by itself once stop() has closed everything and the sessions are gone.
  while (!io_->stopped()) {
    io_->run_for(std::chrono::milliseconds(250));
    if (stop_deadline_ && std::chrono::steady_clock::now() > *stop_deadline_) {
      std::cerr << "protofarm: " << connections_.size()
                << " session(s) did not end in time after the stop; closing them\n";
      io_->stop();
    }
  }
  remove_ready_file();
}

// A ready file that outlives the farm would send the next reader to dead ports: it goes when the
// loop ends, and (should run() end by an exception) when the farm is destroyed.
void Farm::remove_ready_file() {
  if (!ready_written_ || !options_.ready_file) return;
  std::error_code ec;
  fs::remove(*options_.ready_file, ec);
  ready_written_ = false;
}

void Farm::stop() {
  if (stop_deadline_) return;
  stop_deadline_ = std::chrono::steady_clock::now() + kShutdownGrace;
  asio::post(*io_, [this] {
    error_code ec;
    if (signals_) signals_->cancel(ec);
    for (auto& l : listeners_) l->stop();
    if (control_) control_->stop();
    for (auto& s : servers_) s->fake().shutdown();
    // Sessions waiting for their clients end now; those answering finish their answer (a
    // reply, a paced write, a transfer) within kShutdownGrace (run() ends the rest).
    connections_.drain_all();
  });
}

}  // namespace protofarm
