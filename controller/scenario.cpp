#include "controller/scenario.hpp"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/parser.h>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "controller/schema_validator.hpp"
#include "fakes/common/civil_time.hpp"
#include "fakes/common/content.hpp"
#include "fakes/registry.hpp"

namespace protofarm {

namespace fs = std::filesystem;

namespace {

// yaml-cpp 0.7's LoadAll never returns on some malformed streams (a lone "," at the top level:
// each document it reads is empty and consumes nothing, so it reads another, without end, while
// memory grows; found by the scenario loader's fuzzer). So the documents are counted first by a
// parser that builds nothing, up to a bound; LoadAll runs only when the count ends.
class NoEvents : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

constexpr std::size_t kMaxDocuments = 100;

// How many documents the text holds, counting no further than limit + 1. Throws as LoadAll.
std::size_t count_documents(const std::string& text, std::size_t limit) {
  std::istringstream in(text);
  YAML::Parser parser(in);
  NoEvents events;
  std::size_t n = 0;
  while (n <= limit && parser.HandleNextDocument(events)) ++n;
  return n;
}

TlsConfig parse_tls(const Cfg& cfg, const fs::path& base_dir) {
  TlsConfig tls;
  if (!cfg.defined()) return tls;
  auto mode_of = [&](const Cfg& m) {
    const std::string s = m.str();
    if (s == "implicit") return TlsMode::implicit;
    if (s == "starttls") return TlsMode::starttls;
    return TlsMode::none;
  };
  if (cfg.is_scalar()) {
    tls.mode = mode_of(cfg);
    return tls;
  }
  tls.mode = mode_of(cfg["mode"]);
  auto resolve = [&](const Cfg& c) {
    if (!c.defined()) return std::string{};
    fs::path p = c.str();
    if (p.is_relative()) p = base_dir / p;
    std::error_code ec;
    if (!fs::exists(p, ec)) c.error("file not found: " + p.string());
    return p.string();
  };
  tls.cert_file = resolve(cfg["cert"]);
  tls.key_file = resolve(cfg["key"]);
  tls.require_session_reuse = cfg.bool_or("require_session_reuse", false);
  if (cfg.has("client_certificate")) {
    const std::string asks = cfg["client_certificate"].str();
    if (asks == "request")
      tls.client_certificate = TlsConfig::ClientCertificate::request;
    else if (asks == "require")
      tls.client_certificate = TlsConfig::ClientCertificate::require;
    else if (asks != "none")
      cfg["client_certificate"].error("expected none, request or require");
  }
  if (tls.cert_file.empty() != tls.key_file.empty())
    cfg.error("give both cert and key, or neither (a certificate is then generated)");
  return tls;
}

ServerConfig parse_server(const std::string& name, const Cfg& cfg,
                          const std::shared_ptr<ScenarioContext>& context,
                          const fs::path& base_dir) {
  ServerConfig s;
  s.name = name;
  s.node = cfg.node();
  s.mark = cfg.key_mark().is_null() ? cfg.mark() : cfg.key_mark();
  s.scenario = context;
  s.protocol = cfg.str_or("protocol", "");
  const std::string listen = cfg.str_or("listen", "127.0.0.1:0");
  std::string why;
  if (auto a = parse_listen(listen, why))
    s.listen = *a;
  else
    cfg["listen"].error(why);
  s.tls = parse_tls(cfg["tls"], base_dir);
  s.idle_timeout = cfg.duration_or("idle_timeout", s.idle_timeout);
  if (s.idle_timeout.count() <= 0) cfg["idle_timeout"].error("must be longer than 0");
  s.command_timeout = cfg.duration_or("command_timeout", s.command_timeout);
  if (s.command_timeout.count() < 0) cfg["command_timeout"].error("must not be negative");
  if (cfg.has("max_line")) {
    s.max_line = static_cast<std::size_t>(cfg["max_line"].size_bytes(s.max_line));
    if (s.max_line < 1) cfg["max_line"].error("must be at least 1 byte");
  }
  s.faults = parse_faults(cfg["faults"]);
  const FakeFactory* factory = find_fake(s.protocol);
  if (factory) {
    s.rules = parse_rules(cfg["rules"], factory->rules);
    s.moments = factory->rules.moments;
    if (!factory->supports_tls && s.tls.mode != TlsMode::none)
      cfg["tls"].error("protocol " + s.protocol + " cannot use TLS");
  }
  return s;
}

}  // namespace

// A scenario file is read whole, and its YAML is held while it loads: a bound, not a guess.
constexpr std::uint64_t kMaxScenarioFile = std::uint64_t{256} << 20;

std::optional<LoadedScenario> load_scenario(const std::string& file, ConfigErrors& errors) {
  std::string why;
  const std::optional<std::string> text = read_regular_file(file, kMaxScenarioFile, why);
  if (!text) {
    errors.add_plain("cannot read the scenario file: " + why);
    return std::nullopt;
  }
  std::vector<YAML::Node> documents;
  try {
    if (count_documents(*text, kMaxDocuments) > kMaxDocuments) {
      errors.add_plain(
          "not valid YAML: the parser finds no end of documents (a stray ',' at the "
          "top level reads as endless empty ones)");
      return std::nullopt;
    }
    documents = YAML::LoadAll(*text);
  } catch (const YAML::ParserException& e) {
    errors.add(e.mark, "not valid YAML: " + e.msg);
    return std::nullopt;
  } catch (const YAML::Exception& e) {
    errors.add(e.mark, "not valid YAML: " + e.msg);
    return std::nullopt;
  }
  if (documents.empty() || documents.front().IsNull()) {
    errors.add_plain("the file is empty; a scenario needs at least `name:` and `servers:`");
    return std::nullopt;
  }
  if (documents.size() > 1) {
    errors.add(documents[1].Mark(), "one scenario per file: found a second YAML document");
  }
  LoadedScenario sc;
  sc.file = file;
  sc.document = documents.front();
  static const SchemaValidator validator(scenario_schema());
  validator.validate(sc.document, errors);
  if (!sc.document.IsMap()) return std::nullopt;

  const Cfg root(sc.document, "", &errors);
  sc.context = std::make_shared<ScenarioContext>();
  sc.context->file = file;
  sc.context->name = root.str_or("name", fs::path(file).stem().string());
  if (root.has("seed")) sc.context->seed = static_cast<std::uint64_t>(root["seed"].integer(0));
  if (root.has("clock")) {
    const std::string clock = root["clock"].str();
    if (clock == "real") {
      sc.context->clock.real = true;
    } else if (auto t = parse_rfc3339(clock)) {
      sc.context->clock.fixed = *t;
    } else {
      root["clock"].error("expected an RFC 3339 time like 2026-01-01T00:00:00Z, or real");
    }
  }
  root["state"].for_each_entry([&](const std::string& key, const Cfg& value) {
    sc.context->states->set_initial(key, value.str());
  });
  const fs::path base_dir = fs::path(file).parent_path();
  root["servers"].for_each_entry([&](const std::string& name, const Cfg& server) {
    if (!server.is_map()) return;                          // the schema check reported it
    if (sc.context->server_protocols.count(name)) return;  // a duplicate, reported
    sc.context->server_protocols[name] = server.str_or("protocol", "");
    sc.servers.push_back(parse_server(name, server, sc.context, base_dir));
  });
  {
    const YAML::Node& doc = sc.document;
    sc.expect = doc["expect"].IsDefined() ? doc["expect"] : YAML::Node(YAML::NodeType::Undefined);
  }
  if (sc.expect.IsMap()) {
    for (const auto& kv : sc.expect) {
      const std::string name = kv.first.Scalar();
      if (!sc.context->server_protocols.count(name)) {
        std::vector<std::string> names;
        for (const auto& [n, p] : sc.context->server_protocols) names.push_back(n);
        errors.add(kv.first.Mark(), "expect: no server named '" + name + "' in this scenario" +
                                        did_you_mean(name, names));
      }
    }
    // Checked here too, so that `validate` reports a bad regex in expect: like any other.
    std::map<std::string, YAML::Node> servers;
    if (const YAML::Node list = sc.document["servers"]; list.IsMap())
      for (const auto& kv : list) servers[kv.first.Scalar()] = kv.second;
    sc.expectations = parse_expect(sc.expect, base_dir, servers, errors);
  }
  return sc;
}

void check_across(const std::vector<LoadedScenario>& scenarios, std::vector<ConfigErrors>& errors) {
  struct Claim {
    std::size_t file;
    const ServerConfig* server;
  };
  auto transport_of = [](const ServerConfig& s) {
    const FakeFactory* f = find_fake(s.protocol);
    return f && f->transport == Transport::datagram ? "udp" : "tcp";
  };
  auto is_wildcard = [](const std::string& host) { return host == "0.0.0.0" || host == "::"; };
  auto is_v6 = [](const std::string& host) { return host.find(':') != std::string::npos; };
  // Whether two fixed listen addresses would fight over one port (or one socket path).
  auto clash = [&](const ServerConfig& a, const ServerConfig& b) {
    if (a.listen.kind != b.listen.kind) return false;
    if (a.listen.kind == ListenAddress::Kind::unix_path) return a.listen.path == b.listen.path;
    if (a.listen.port == 0 || a.listen.port != b.listen.port) return false;
    if (std::string(transport_of(a)) != transport_of(b)) return false;
    if (is_v6(a.listen.host) != is_v6(b.listen.host)) return false;
    return a.listen.host == b.listen.host || is_wildcard(a.listen.host) ||
           is_wildcard(b.listen.host);
  };
  std::map<std::string, Claim> names;
  std::vector<Claim> seen;
  for (std::size_t i = 0; i < scenarios.size(); ++i) {
    for (const auto& s : scenarios[i].servers) {
      if (auto [it, fresh] = names.emplace(s.name, Claim{i, &s}); !fresh) {
        errors[i].add(s.mark, "servers." + s.name + ": server name already used in " +
                                  scenarios[it->second.file].file + " line " +
                                  std::to_string(it->second.server->mark.line + 1));
      }
      for (const Claim& other : seen) {
        if (!clash(s, *other.server)) continue;
        const YAML::Mark mark = s.node["listen"].IsDefined() ? s.node["listen"].Mark() : s.mark;
        errors[i].add(mark, "servers." + s.name + ".listen: " + s.listen.text +
                                " is already used by server '" + other.server->name + "' (" +
                                scenarios[other.file].file + " line " +
                                std::to_string(other.server->mark.line + 1) + ")");
        break;
      }
      seen.push_back(Claim{i, &s});
    }
  }
}

}  // namespace protofarm
