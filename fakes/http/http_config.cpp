#include "fakes/http/http_config.hpp"

#include <algorithm>

#include "fakes/common/bytes.hpp"

namespace protofarm::http {

namespace fs = std::filesystem;

namespace {

fs::path relative_to_scenario(const ConfigContext& context, const std::string& path) {
  fs::path p(path);
  if (p.is_relative()) p = fs::absolute(context.scenario_file).parent_path() / p;
  return p.lexically_normal();
}

// A folder that must exist when the farm starts.
std::optional<fs::path> folder(const Cfg& value, const ConfigContext& context) {
  const fs::path p = relative_to_scenario(context, value.str());
  std::error_code ec;
  if (!fs::is_directory(p, ec)) {
    value.error("no such folder: " + p.string());
    return std::nullopt;
  }
  return p;
}

bool has_line_break(std::string_view s) {
  return s.find_first_of("\r\n") != std::string_view::npos;
}

bool is_token(std::string_view s) {
  static constexpr std::string_view kExtra = "!#$%&'*+-.^_`|~";
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || kExtra.find(c) != std::string_view::npos;
  });
}

Headers parse_headers(const Cfg& cfg) {
  Headers out;
  if (!cfg.defined()) return out;
  if (!cfg.is_map()) {
    cfg.error("expected a map of header names to values");
    return out;
  }
  cfg.for_each_entry([&](const std::string& name, const Cfg& value) {
    if (!is_token(name)) value.error("'" + name + "' is not a header name");
    // A list gives the header once per value (Set-Cookie).
    for (const std::string& v : value.str_list()) {
      if (has_line_break(v)) value.error("a header value has no line break (use raw: for that)");
      out.emplace_back(name, v);
    }
  });
  return out;
}

std::shared_ptr<const RuleExtension> parse_reply(const Cfg& cfg, const Cfg& /*rule*/) {
  if (!cfg.is_map()) {
    cfg.error("expected a response: a map with status, headers and body");
    return nullptr;
  }
  auto spec = std::make_shared<ReplySpec>();
  if (cfg.has("status")) {
    const std::int64_t status = cfg["status"].integer(200);
    if (status < 100 || status > 999) cfg["status"].error("expected a status from 100 to 999");
    spec->status = static_cast<unsigned>(std::clamp<std::int64_t>(status, 100, 999));
  }
  spec->reason = cfg.str_or("reason", "");
  if (has_line_break(spec->reason)) cfg["reason"].error("a reason phrase has no line break");
  spec->headers = parse_headers(cfg["headers"]);
  const int bodies = cfg.has("body") + cfg.has("body_file") + cfg.has("body_size");
  if (bodies > 1) cfg.error("a reply has one of body, body_file or body_size");
  if (cfg.has("body")) spec->body = cfg["body"].str();
  if (cfg.has("body_file")) spec->body_file = cfg["body_file"].str();
  if (cfg.has("body_size")) spec->body_size = cfg["body_size"].size_bytes(0);
  cfg.for_each_entry([&](const std::string& key, const Cfg& value) {
    static const std::vector<std::string> known = {"status", "reason",    "headers",
                                                   "body",   "body_file", "body_size"};
    if (std::find(known.begin(), known.end(), key) == known.end())
      value.error("unknown reply key '" + key + "'" + did_you_mean(key, known));
  });
  return spec;
}

std::shared_ptr<const RuleExtension> parse_fault(const Cfg& cfg, const Cfg& rule) {
  auto spec = std::make_shared<FaultSpec>();
  using Kind = FaultSpec::Kind;
  if (cfg.is_map()) {
    if (cfg.has("body_cut_after")) {
      spec->kind = Kind::body_cut_after;
      spec->bytes = cfg["body_cut_after"].size_bytes(0);
    } else if (cfg.has("content_length")) {
      const std::string how = cfg["content_length"].str();
      if (how == "short")
        spec->kind = Kind::content_length_short;
      else if (how == "long")
        spec->kind = Kind::content_length_long;
      else
        cfg["content_length"].error("expected short or long, got '" + how + "'");
    } else {
      cfg.error("expected a fault name, {body_cut_after: N} or {content_length: short|long}");
    }
    if (cfg.size() != 1) cfg.error("a fault is one name or one key");
  } else {
    const std::string name = cfg.str();
    static const std::vector<std::pair<std::string, Kind>> kinds = {
        {"empty_response", Kind::empty_response},
        {"malformed_chunk", Kind::malformed_chunk},
        {"random_data_then_close", Kind::random_data_then_close},
        {"connection_reset", Kind::connection_reset},
        {"headers_only_then_hang", Kind::headers_only_then_hang},
        {"no_final_chunk", Kind::no_final_chunk},
    };
    const auto it =
        std::find_if(kinds.begin(), kinds.end(), [&](const auto& k) { return k.first == name; });
    if (it == kinds.end()) {
      cfg.error("unknown fault '" + name + "'" + did_you_mean(name, fault_names()));
      return nullptr;
    }
    spec->kind = it->second;
  }
  if (rule.has("raw")) cfg.error("a rule has either fault or raw, not both");
  return spec;
}

std::shared_ptr<const RuleExtension> parse_when_headers(const Cfg& cfg, const Cfg& /*rule*/) {
  if (!cfg.is_map()) {
    cfg.error("expected a map of header names to regexes");
    return nullptr;
  }
  auto spec = std::make_shared<WhenHeaders>();
  cfg.for_each_entry([&](const std::string& name, const Cfg& value) {
    if (auto re = compile_regex(value)) spec->headers.emplace_back(to_lower(name), std::move(re));
  });
  return spec;
}

std::shared_ptr<const RuleExtension> parse_when_body(const Cfg& cfg, const Cfg& /*rule*/) {
  auto spec = std::make_shared<WhenBody>();
  spec->regex = compile_regex(cfg);
  if (!spec->regex) return nullptr;
  return spec;
}

}  // namespace

bool WhenHeaders::accept(const Request& request) const {
  for (const auto& [name, regex] : headers) {
    const std::string field = "header:" + name;
    bool found = false;
    for (const Request::Field& f : request.fields) {
      if (f.name == field && regex_search_captures(*regex, f.value, nullptr)) {
        found = true;
        break;
      }
    }
    if (!found) return false;
  }
  return true;
}

bool WhenBody::accept(const Request& request) const {
  // No body field: the body has not been read yet (Expect: 100-continue), so this rule waits.
  const auto body = request.field("body");
  return body && regex_search_captures(*regex, *body, nullptr);
}

const std::vector<std::string>& fault_names() {
  static const std::vector<std::string> names = {
      "empty_response", "malformed_chunk", "random_data_then_close", "connection_reset",
      "body_cut_after", "content_length",  "headers_only_then_hang", "no_final_chunk",
  };
  return names;
}

std::string_view fault_name(FaultSpec::Kind kind) {
  using Kind = FaultSpec::Kind;
  switch (kind) {
    case Kind::empty_response:
      return "empty_response";
    case Kind::malformed_chunk:
      return "malformed_chunk";
    case Kind::random_data_then_close:
      return "random_data_then_close";
    case Kind::connection_reset:
      return "connection_reset";
    case Kind::body_cut_after:
      return "body_cut_after";
    case Kind::content_length_short:
      return "content_length_short";
    case Kind::content_length_long:
      return "content_length_long";
    case Kind::headers_only_then_hang:
      return "headers_only_then_hang";
    case Kind::no_final_chunk:
      return "no_final_chunk";
  }
  return "fault";
}

std::vector<RuleKey> rule_keys() {
  return {
      RuleKey{"reply", parse_reply},
      RuleKey{"fault", parse_fault},
      RuleKey{"when_headers", parse_when_headers},
      RuleKey{"when_body", parse_when_body},
  };
}

std::map<const Rule*, Content> resolve_bodies(const std::vector<Rule>& rules,
                                              const ConfigContext& context, ConfigErrors& errors) {
  std::map<const Rule*, Content> out;
  for (std::size_t i = 0; i < rules.size(); ++i) {
    const Rule& rule = rules[i];
    const auto* reply = rule.extension<ReplySpec>("reply");
    if (!reply) continue;
    if (reply->body_size) {
      out[&rule] =
          generated_content(splitmix64(context.seed ^ fnv1a(rule.name)) + i, *reply->body_size);
    } else if (!reply->body_file.empty()) {
      const fs::path path = relative_to_scenario(context, reply->body_file);
      std::error_code ec;
      if (!fs::is_regular_file(path, ec)) {
        errors.add(rule.mark, rule.name + ": body_file: no such file: " + path.string());
        continue;
      }
      Content c;
      c.kind = Content::Kind::disk;
      c.file = path.string();
      c.size = fs::file_size(path, ec);
      out[&rule] = std::move(c);
    }
  }
  return out;
}

Config parse_config(const Cfg& cfg, const ConfigContext& context) {
  Config config;
  if (cfg.has("docroot")) config.docroot = folder(cfg["docroot"], context);
  config.listing = cfg.bool_or("listing", true);
  if (cfg.has("cgi")) {
    const Cfg c = cfg["cgi"];
    if (!c.is_map() || !c.has("dir")) {
      c.error("expected {dir: FOLDER, prefix: /cgi-bin/, timeout: 5s}");
    } else if (auto dir = folder(c["dir"], context)) {
      CgiConfig cgi;
      cgi.dir = *dir;
      cgi.prefix = c.str_or("prefix", "/cgi-bin/");
      if (!cgi.prefix.starts_with('/')) cgi.prefix.insert(0, "/");
      if (!cgi.prefix.ends_with('/')) cgi.prefix += '/';
      cgi.timeout = c.duration_or("timeout", cgi.timeout);
      if (cgi.timeout.count() <= 0) c["timeout"].error("expected a time limit above zero");
      config.cgi = std::move(cgi);
    }
  }
  if (cfg.has("max_request_line"))
    config.limits.max_request_line = cfg["max_request_line"].size_bytes(8192);
  if (cfg.has("max_header")) config.limits.max_header = cfg["max_header"].size_bytes(16384);
  if (cfg.has("max_body")) config.limits.max_body = cfg["max_body"].size_bytes(16 << 20);
  if (config.limits.max_request_line < 16)
    cfg["max_request_line"].error("expected 16 bytes or more");
  return config;
}

}  // namespace protofarm::http
