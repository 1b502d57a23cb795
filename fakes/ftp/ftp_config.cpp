#include "fakes/ftp/ftp_config.hpp"

#include <algorithm>
#include <array>
#include <boost/asio/ip/address.hpp>
#include <charconv>
#include <ctime>
#include <filesystem>

#include "fakes/common/bytes.hpp"
#include "fakes/common/civil_time.hpp"
#include "fakes/common/numeric_reply.hpp"
#include "fakes/ftp/ftp_protocol.hpp"

namespace protofarm::ftp {

namespace fs = std::filesystem;

namespace {

constexpr std::array<std::string_view, 7> kTransferVerbs = {"RETR", "STOR", "STOU", "APPE",
                                                            "LIST", "NLST", "MLSD"};

std::optional<unsigned> parse_mode(const Cfg& c) {
  const std::string s = c.str();
  unsigned v = 0;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v, 8);
  if (s.empty() || ec != std::errc{} || p != s.data() + s.size() || v > 07777) return std::nullopt;
  return v;
}

bool is_inside(const fs::path& root, const fs::path& p) {
  auto r = root.begin(), q = p.begin();
  for (; r != root.end(); ++r, ++q)
    if (q == p.end() || *r != *q) return false;
  return true;
}

void parse_entry(const std::string& key, const Cfg& value, const ConfigContext& context,
                 FileTree& tree) {
  if (!key.starts_with('/')) {
    value.error("a tree path is absolute: '/" + key + "'");
    return;
  }
  const auto path = resolve_path("/", key);
  if (!path || key.find("/../") != std::string::npos || key.ends_with("/..")) {
    value.error("'" + key + "' is not a plain path (no .., backslashes or NUL bytes)");
    return;
  }
  const bool folder = key.ends_with('/') || *path == "/";
  Node* node = nullptr;
  if (folder) {
    node = tree.make_dirs(*path);
    if (!node) value.error("'" + key + "' is below a file, not a folder");
    if (node && value.defined() && !value.is_map())
      value.error("a folder's value is a map ({} or {write: true})");
  } else if (!value.defined() || value.is_scalar()) {
    Content c;
    c.bytes = std::make_shared<const std::string>(value.defined() ? value.node().Scalar() : "");
    node = tree.put_file(*path, std::move(c));
  } else if (value.is_map()) {
    Content c;
    const int sources = value.has("content") + value.has("file") + value.has("size") +
                        value.has("hex") + value.has("base64");
    if (sources > 1)
      value.error("a file has one of content, hex, base64, file or size");
    else if (value.has("file")) {
      const Cfg f = value["file"];
      const fs::path base = fs::weakly_canonical(fs::absolute(context.scenario_file).parent_path());
      std::error_code ec;
      const fs::path real = fs::weakly_canonical(base / f.str(), ec);
      if (ec || !is_inside(base, real)) {
        f.error("a file entry names a file at or below the scenario's folder (" + base.string() +
                ")");
      } else if (!fs::is_regular_file(real, ec)) {
        f.error("file not found: " + real.string());
      } else {
        c.kind = Content::Kind::disk;
        c.file = real.string();
        c.size = fs::file_size(real, ec);
      }
    } else if (value.has("size")) {
      c = generated_content(fnv1a(*path, splitmix64(context.seed)), value["size"].size_bytes(0));
    } else if (value.has("content")) {
      c.bytes = std::make_shared<const std::string>(value["content"].str());
    } else if (value.has("hex") || value.has("base64")) {
      YAML::Node payload(YAML::NodeType::Map);
      for (const char* k : {"hex", "base64"})
        if (value.node()[k]) payload[k] = value.node()[k];
      if (auto bytes = parse_payload(Cfg(payload, value.path(), &value.errors(), value.mark())))
        c.bytes = std::make_shared<const std::string>(std::move(*bytes));
    }
    node = tree.put_file(*path, std::move(c));
    if (!node) value.error("'" + key + "' is a folder already, or below a file");
  } else {
    value.error("expected file content (a string) or a map with content, file or size");
  }
  if (!node || !value.is_map()) return;
  if (value.has("mtime")) {
    if (const auto t = parse_rfc3339(value["mtime"].str()))
      node->mtime = *t;
    else
      value["mtime"].error("expected a UTC time like \"2020-01-01T00:00:00Z\"");
  }
  if (value.has("mode")) {
    if (const auto m = parse_mode(value["mode"]))
      node->mode = *m;
    else
      value["mode"].error("expected octal permission bits like \"0644\"");
  }
  node->write = value.bool_or("write", false);
}

std::shared_ptr<const RuleExtension> parse_data(const Cfg& d, const Cfg&) {
  auto x = std::make_shared<DataShape>();
  if (!d.is_map()) {
    d.error(
        "expected a map: connect, cut_after, reset_after, pace, fragment, gap, "
        "replies_first, preliminary (or {} for the plain transfer)");
    return x;
  }
  if (d.has("connect")) {
    const std::string c = d["connect"].str();
    if (c == "never")
      x->never_connect = true;
    else if (c != "always")
      d["connect"].error("expected never (or always, the default)");
  }
  if (d.has("cut_after")) x->cut_after = d["cut_after"].size_bytes(0);
  if (d.has("reset_after")) x->reset_after = d["reset_after"].size_bytes(0);
  if (x->cut_after && x->reset_after)
    d.error("give cut_after or reset_after, not both: the data connection ends one way");
  x->shaping = parse_shaping(d);
  x->replies_first = d.bool_or("replies_first", false);
  if (d.has("preliminary")) {
    std::string p = d["preliminary"].str();
    if (reply_code_of(p) == 0) p = "150 " + p;
    x->preliminary = p;
  }
  return x;
}

void check_rule(const Cfg& cfg, const Rule& rule) {
  if (!rule.extension<DataShape>("data")) return;
  if (std::find(kTransferVerbs.begin(), kTransferVerbs.end(), rule.on) == kTransferVerbs.end())
    cfg["data"].error(
        "data: shapes a transfer: it goes with on: RETR, STOR, STOU, APPE, LIST, "
        "NLST or MLSD");
}

}  // namespace

bool is_transfer_command(std::string_view verb) {
  return std::find(kTransferVerbs.begin(), kTransferVerbs.end(), verb) != kTransferVerbs.end();
}

RuleSyntax rule_syntax() {
  RuleSyntax syntax;
  syntax.on = Protocol::verb_names();
  syntax.keys = {{"data", parse_data}};
  syntax.check = check_rule;
  return syntax;
}

Config parse_config(const Cfg& cfg, const ConfigContext& context, FileTree& tree) {
  Config config;
  config.tls = context.tls;
  config.require_session_reuse = context.require_session_reuse;
  if (context.max_line) config.max_command = *context.max_line;
  if (cfg.has("greeting")) {
    config.greeting = cfg["greeting"].str();
    if (config.greeting.find_first_of("\r\n") != std::string::npos)
      cfg["greeting"].error("the greeting is one line (use a rule on connect for more)");
  }
  if (cfg.has("passive_ports")) {
    if (const auto r = parse_port_range(cfg["passive_ports"].str()))
      config.passive_ports = *r;
    else
      cfg["passive_ports"].error("expected a port or a range like 40000-40100 (1..65535)");
  }
  if (cfg.has("passive_address")) {
    const std::string a = cfg["passive_address"].str();
    boost::system::error_code ec;
    const auto address = boost::asio::ip::make_address(a, ec);
    if (ec || address.is_v6())
      cfg["passive_address"].error("expected an IPv4 address (the one 227 replies give)");
    else
      config.passive_address = a;
  }
  if (cfg.has("list_format")) {
    const std::string f = cfg["list_format"].str();
    if (f == "dos")
      config.list_format = ListFormat::dos;
    else if (f != "unix")
      cfg["list_format"].error("expected unix or dos");
  }
  config.allow_foreign_port = cfg.bool_or("allow_foreign_port", false);
  if (cfg.has("max_upload")) config.max_upload = cfg["max_upload"].size_bytes(config.max_upload);

  cfg["tree"].for_each_entry(
      [&](const std::string& key, const Cfg& value) { parse_entry(key, value, context, tree); });
  if (cfg.has("tree") && !cfg["tree"].is_map())
    cfg["tree"].error("expected a map from absolute paths to files and folders");

  if (!cfg.has("users")) {
    config.users.emplace("anonymous", User{});
    config.users.emplace("ftp", User{});
  }
  cfg["users"].for_each_entry([&](const std::string& name, const Cfg& spec) {
    User u;
    if (spec.defined() && !spec.is_map()) {
      spec.error("expected a map: password, home, write ({} for any password)");
      return;
    }
    if (spec.has("password")) u.password = spec["password"].str();
    u.write = spec.bool_or("write", false);
    if (spec.has("home")) {
      const std::string home = spec["home"].str();
      const auto p = resolve_path("/", home);
      if (!home.starts_with('/') || !p) {
        spec["home"].error("a home folder is an absolute path like /home/alice");
      } else if (!tree.make_dirs(*p)) {
        spec["home"].error("'" + home + "' is a file in the tree, not a folder");
      } else {
        u.home = *p;
      }
    }
    config.users.emplace(name, std::move(u));
  });
  if (cfg.has("users") && !cfg["users"].is_map())
    cfg["users"].error("expected a map from user names to {password, home, write}");
  return config;
}

}  // namespace protofarm::ftp
