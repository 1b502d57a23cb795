#include "controller/transcript_expect.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "controller/transcript_diff.hpp"
#include "fakes/common/bytes.hpp"

namespace protofarm {

namespace fs = std::filesystem;

namespace {

const std::vector<std::string> kCloseReasons = {"client",  "server", "reset",
                                                "timeout", "fault",  "shutdown"};

std::string quote_text(std::string_view s) { return "\"" + escape_bytes(s) + "\""; }

std::string plural(std::uint64_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

// Splits a YAML block of lines: "a\nb\n" is two lines; a CR before each LF is dropped.
std::vector<std::string> block_lines(const std::string& text) {
  std::vector<std::string> out;
  for (auto& l : split_lines(text)) out.push_back(std::move(l.text));
  return out;
}

std::string crlf_to_lf(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\r' && i + 1 < s.size() && s[i + 1] == '\n') continue;
    out += s[i];
  }
  return out;
}

bool safe_match(const boost::regex& re, const std::string& s) {
  try {
    return boost::regex_match(s, re);
  } catch (const std::exception&) {
    return false;  // too complex for this input: treat as no match
  }
}

bool safe_search(const boost::regex& re, const std::string& s) {
  try {
    return boost::regex_search(s, re, boost::match_not_dot_newline);
  } catch (const std::exception&) {
    return false;
  }
}

std::shared_ptr<const boost::regex> compile(const Cfg& cfg, boost::regex::flag_type extra = {}) {
  const std::string source = cfg.str();
  try {
    return std::make_shared<const boost::regex>(source, boost::regex::perl | extra);
  } catch (const boost::regex_error& e) {
    cfg.error("invalid regular expression '" + source + "': " + e.what());
    return nullptr;
  }
}

std::optional<CountRange> parse_count(const Cfg& cfg) {
  if (!cfg.defined()) return std::nullopt;
  if (cfg.is_map()) {
    CountRange r;
    if (cfg.has("min"))
      r.min = static_cast<std::uint64_t>(std::max<std::int64_t>(0, cfg["min"].integer()));
    if (cfg.has("max"))
      r.max = static_cast<std::uint64_t>(std::max<std::int64_t>(0, cfg["max"].integer()));
    if (r.max && r.min > *r.max) cfg.error("min is larger than max");
    return r;
  }
  const std::int64_t n = cfg.integer(-1);
  if (n < 0) return std::nullopt;  // the schema check reported it
  return CountRange::exactly(static_cast<std::uint64_t>(n));
}

std::vector<IgnorePattern> parse_ignore(const Cfg& cfg) {
  std::vector<IgnorePattern> out;
  if (!cfg.defined()) return out;
  auto add = [&](const Cfg& item) {
    if (auto re = compile(item)) out.push_back({item.str(), re});
  };
  if (cfg.is_seq())
    cfg.for_each_item(add);
  else
    add(cfg);
  return out;
}

std::optional<std::vector<LinePattern>> parse_lines(const Cfg& cfg, bool ignore_case) {
  if (!cfg.defined()) {
    if (cfg.node().IsDefined() && cfg.node().IsNull()) return std::vector<LinePattern>{};
    return std::nullopt;
  }
  std::vector<LinePattern> out;
  auto add_text = [&](const std::string& text) {
    for (auto& l : block_lines(text)) out.push_back({std::move(l), nullptr, ignore_case});
  };
  if (cfg.is_scalar()) {
    add_text(cfg.str());
  } else if (cfg.is_seq()) {
    cfg.for_each_item([&](const Cfg& item) {
      if (item.is_map()) {
        if (!item.has("match")) return;  // the schema check reported it
        auto re = compile(item["match"], ignore_case ? boost::regex::flag_type(boost::regex::icase)
                                                     : boost::regex::flag_type{});
        if (re) out.push_back({item["match"].str(), re, ignore_case});
      } else if (item.node().IsNull()) {
        out.push_back({"", nullptr, ignore_case});  // `- ` alone: an empty line
      } else {
        const std::string text = item.str();
        if (text.find('\n') == std::string::npos)
          out.push_back({text, nullptr, ignore_case});
        else
          add_text(text);
      }
    });
  }
  return out;
}

std::optional<std::string> read_whole_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

PayloadCheck parse_payload_check(const Cfg& cfg, const fs::path& scenario_dir) {
  PayloadCheck check;
  if (!cfg.is_map()) return check;
  if (cfg.has("contains")) check.contains = cfg["contains"].str_list();
  if (cfg.has("match")) {
    check.match_source = cfg["match"].str();
    check.match = compile(cfg["match"], boost::regex::no_mod_s);
  }
  if (cfg.has("equals") && cfg.has("file")) cfg.error("give equals or file, not both");
  if (cfg.has("equals")) {
    check.equals = parse_payload(cfg["equals"]);
    check.equals_origin = "equals";
  } else if (cfg.has("file")) {
    fs::path p = cfg["file"].str();
    if (p.is_relative()) p = scenario_dir / p;
    if (auto content = read_whole_file(p)) {
      check.equals = std::move(content);
      check.equals_origin = cfg["file"].str();
    } else {
      cfg["file"].error("cannot read " + p.string());
    }
  }
  return check;
}

void parse_payloads(const Cfg& cfg, const fs::path& scenario_dir, Checks& checks) {
  if (!cfg.defined()) return;
  if (cfg.is_seq()) {
    std::vector<PayloadCheck> list;
    cfg.for_each_item(
        [&](const Cfg& item) { list.push_back(parse_payload_check(item, scenario_dir)); });
    checks.payloads = std::move(list);
  } else {
    checks.payload_count = parse_count(cfg);
  }
}

Checks parse_checks(const Cfg& cfg, const std::vector<IgnorePattern>& inherited,
                    const std::vector<std::string>& rules, const fs::path& scenario_dir,
                    bool session_scope) {
  Checks c;
  c.ignore = inherited;
  if (!cfg.is_map()) return c;
  if (session_scope) {
    for (auto& i : parse_ignore(cfg["ignore"])) c.ignore.push_back(std::move(i));
  }
  c.client = parse_lines(cfg["client"], false);
  c.commands = parse_lines(cfg["commands"], true);
  parse_payloads(cfg["payloads"], scenario_dir, c);
  cfg["rules"].for_each_entry([&](const std::string& name, const Cfg& value) {
    if (std::find(rules.begin(), rules.end(), name) == rules.end()) {
      const Cfg at(value.node(), value.path(), &cfg.errors(), value.key_mark());
      std::string known;
      for (const auto& r : rules) known += (known.empty() ? "" : ", ") + r;
      at.error("no rule named '" + name + "' in this server" + did_you_mean(name, rules) +
               (known.empty() ? " (it has no rules)" : " (its rules: " + known + ")"));
      return;
    }
    if (auto count = parse_count(value)) c.rules.emplace_back(name, *count);
  });
  if (session_scope && cfg.has("close")) c.close = cfg["close"].str_list();
  return c;
}

std::string event_first_line(const TranscriptJson& e) {
  auto lines = split_lines(event_bytes(e));
  return lines.empty() ? std::string{} : lines.front().text;
}

bool dropped(const std::vector<IgnorePattern>& ignore, const std::string& line) {
  return std::any_of(ignore.begin(), ignore.end(),
                     [&](const IgnorePattern& p) { return p.drops(line); });
}

std::uint64_t count_rule(const SessionTranscript& s, const std::string& rule) {
  std::uint64_t n = 0;
  for (const auto& e : s.doc["events"])
    if (string_field(e, "event") == "rule" && e.contains("rule") && e["rule"] == rule) ++n;
  return n;
}

}  // namespace

// --- small types -------------------------------------------------------------------------

std::string CountRange::describe() const {
  if (max && *max == min) return std::to_string(min);
  if (!max) return "at least " + std::to_string(min);
  if (min == 0) return "at most " + std::to_string(*max);
  return std::to_string(min) + " to " + std::to_string(*max);
}

bool LinePattern::accepts(const std::string& line) const {
  if (regex) return safe_match(*regex, line);
  return ignore_case ? iequals(text, line) : text == line;
}

std::string LinePattern::display() const {
  return regex ? "{match: " + text + "}" : escape_bytes(text);
}

bool IgnorePattern::drops(const std::string& line) const {
  return regex && safe_search(*regex, line);
}

std::size_t ServerResult::failures() const {
  return static_cast<std::size_t>(
      std::count_if(checks.begin(), checks.end(), [](const CheckResult& c) { return !c.ok; }));
}

// --- parsing -------------------------------------------------------------------------------

std::vector<std::string> rule_names(const YAML::Node& server_node) {
  // A missing key of a const node is an invalid node: test IsDefined() before anything else.
  std::vector<std::string> out;
  if (!server_node.IsDefined() || !server_node.IsMap()) return out;
  const YAML::Node rules = server_node["rules"];
  if (!rules.IsDefined() || !rules.IsSequence()) return out;
  std::size_t i = 0;
  for (const auto& rule : rules) {
    const YAML::Node name = rule.IsMap() ? rule["name"] : YAML::Node();
    if (name.IsDefined() && name.IsScalar())
      out.push_back(name.Scalar());
    else
      out.push_back("rules[" + std::to_string(i) + "]");
    ++i;
  }
  return out;
}

std::vector<ServerExpect> parse_expect(const YAML::Node& expect, const fs::path& scenario_dir,
                                       const std::map<std::string, YAML::Node>& servers,
                                       ConfigErrors& errors) {
  std::vector<ServerExpect> out;
  if (!expect.IsMap()) return out;
  for (const auto& kv : expect) {
    const std::string name = kv.first.Scalar();
    const auto server = servers.find(name);
    if (server == servers.end()) continue;  // load_scenario reported it
    const Cfg cfg(kv.second, "expect." + name, &errors, kv.first.Mark());
    const std::vector<std::string> rules = rule_names(server->second);
    ServerExpect se;
    se.server = name;
    if (!cfg.is_map()) {
      out.push_back(std::move(se));
      continue;
    }
    se.sessions = parse_count(cfg["sessions"]);
    const std::vector<IgnorePattern> ignore = parse_ignore(cfg["ignore"]);
    se.all = parse_checks(cfg, ignore, rules, scenario_dir, false);
    if (cfg.has("each_session"))
      se.each = parse_checks(cfg["each_session"], ignore, rules, scenario_dir, true);
    cfg["session"].for_each_entry([&](const std::string& key, const Cfg& value) {
      std::uint64_t n = 0;
      bool ok = !key.empty() && key.size() < 19 && key[0] != '0';
      for (char ch : key) ok = ok && std::isdigit(static_cast<unsigned char>(ch));
      if (ok) n = std::stoull(key);
      if (!ok || n == 0) return;  // the schema check reported it
      se.by_number[n] = parse_checks(value, ignore, rules, scenario_dir, true);
    });
    out.push_back(std::move(se));
  }
  return out;
}

// --- evaluation ------------------------------------------------------------------------------

std::vector<std::string> session_commands(const TranscriptJson& doc,
                                          const std::vector<IgnorePattern>& ignore) {
  std::vector<std::string> out;
  if (!doc.contains("events")) return out;
  bool recorded_commands = false;
  for (const auto& e : doc["events"])
    if (counts_for_verify(e) && e.contains("command") && e["command"].is_string())
      recorded_commands = true;
  if (recorded_commands) {
    for (const auto& e : doc["events"]) {
      if (!counts_for_verify(e) || !e.contains("command") || !e["command"].is_string()) continue;
      if (dropped(ignore, event_first_line(e))) continue;
      out.push_back(e["command"].get<std::string>());
    }
    return out;
  }
  for (const auto& line : client_lines(doc)) {
    if (dropped(ignore, line)) continue;
    const std::size_t start = line.find_first_not_of(" \t");
    if (start == std::string::npos) continue;  // a blank line is no command
    const std::size_t end = line.find_first_of(" \t", start);
    out.push_back(line.substr(start, end == std::string::npos ? std::string::npos : end - start));
  }
  return out;
}

std::string diff_lines(const std::vector<LinePattern>& expected_all,
                       const std::vector<std::string>& recorded,
                       const std::vector<IgnorePattern>& ignore, std::string* first_difference,
                       const std::string& indent) {
  // Exact expected lines that `ignore` drops are dropped too, as curl's <strip> does to both.
  std::vector<const LinePattern*> expected;
  for (const auto& p : expected_all)
    if (p.regex || !dropped(ignore, p.text)) expected.push_back(&p);
  std::vector<std::size_t> kept;  // indices of recorded lines that are compared
  std::vector<bool> ignored(recorded.size(), false);
  for (std::size_t j = 0; j < recorded.size(); ++j) {
    ignored[j] = dropped(ignore, recorded[j]);
    if (!ignored[j]) kept.push_back(j);
  }
  const auto steps = diff_sequences(
      expected.size(), kept.size(),
      [&](std::size_t i, std::size_t j) { return expected[i]->accepts(recorded[kept[j]]); });
  if (std::all_of(steps.begin(), steps.end(),
                  [](const DiffStep& s) { return s.kind == DiffStep::Kind::same; }))
    return {};

  std::vector<DiffRow> rows;
  std::size_t next = 0;  // next recorded line not yet shown
  auto show_ignored_until = [&](std::size_t end) {
    for (; next < end; ++next)
      if (ignored[next])
        rows.push_back({DiffRow::Mark::ignored, escape_bytes(recorded[next]), next + 1});
  };
  bool described = false;
  for (std::size_t k = 0; k < steps.size(); ++k) {
    const DiffStep& s = steps[k];
    if (s.kind == DiffStep::Kind::expected_only) {
      rows.push_back({DiffRow::Mark::expected_only, expected[s.expected]->display(), 0});
      if (!described && first_difference) {
        // What was recorded in its place: the next recorded-only line, if one follows.
        std::optional<std::size_t> instead;
        for (std::size_t q = k + 1; q < steps.size(); ++q) {
          if (steps[q].kind == DiffStep::Kind::recorded_only) instead = kept[steps[q].recorded];
          if (steps[q].kind != DiffStep::Kind::expected_only) break;
        }
        if (instead)
          *first_difference =
              "first difference at line " + std::to_string(*instead + 1) + ": expected " +
              (expected[s.expected]->regex ? expected[s.expected]->display()
                                           : quote_text(expected[s.expected]->text)) +
              ", recorded " + quote_text(recorded[*instead]);
        else
          *first_difference =
              "missing line " +
              (expected[s.expected]->regex ? expected[s.expected]->display()
                                           : quote_text(expected[s.expected]->text)) +
              (next < recorded.size() || kept.empty() ? std::string{}
                                                      : " after line " + std::to_string(next));
        described = true;
      }
      continue;
    }
    const std::size_t j = kept[s.recorded];
    show_ignored_until(j);
    next = j + 1;
    if (s.kind == DiffStep::Kind::same) {
      rows.push_back({DiffRow::Mark::same, escape_bytes(recorded[j]), j + 1});
    } else {
      rows.push_back({DiffRow::Mark::recorded_only, escape_bytes(recorded[j]), j + 1});
      if (!described && first_difference) {
        *first_difference =
            "unexpected line " + std::to_string(j + 1) + ": " + quote_text(recorded[j]);
        described = true;
      }
    }
  }
  show_ignored_until(recorded.size());
  return render_rows(rows, indent);
}

std::vector<PayloadRef> session_payloads(const SessionTranscript& session) {
  std::vector<PayloadRef> out;
  if (!session.doc.contains("events")) return out;
  for (const auto& e : session.doc["events"])
    if (e.contains("event") && e.contains("file") && e["file"].is_string())
      out.push_back({session.session, e["file"].get<std::string>()});
  return out;
}

namespace {

struct Scope {
  std::string label;  // "all sessions", "session 2"
  std::vector<const SessionTranscript*> sessions;
};

void check_lines(const Scope& scope, const std::vector<LinePattern>& expected,
                 const std::vector<std::string>& recorded, const std::vector<IgnorePattern>& ignore,
                 const char* what, const char* noun, ServerResult& result) {
  CheckResult r{scope.label, what, true, "", ""};
  std::string first;
  r.detail = diff_lines(expected, recorded, ignore, &first);
  r.ok = r.detail.empty();
  std::size_t n_ignored = 0;
  for (const auto& l : recorded) n_ignored += dropped(ignore, l) ? 1 : 0;
  if (r.ok) {
    r.summary = plural(recorded.size() - n_ignored, noun, (std::string(noun) + "s").c_str()) +
                " as expected";
  } else {
    r.summary = first;
    r.detail = "    (- expected, + recorded" + std::string(n_ignored ? ", ~ ignored" : "") +
               "; numbers are recorded lines)\n" + r.detail;
  }
  if (n_ignored) r.summary += " (" + plural(n_ignored, "line", "lines") + " ignored)";
  result.checks.push_back(std::move(r));
}

void check_payloads(const Scope& scope, const Checks& c, const PayloadLoader& load,
                    ServerResult& result) {
  std::vector<PayloadRef> payloads;
  for (const auto* s : scope.sessions)
    for (auto& p : session_payloads(*s)) payloads.push_back(std::move(p));
  auto listing = [&] {
    std::string out;
    for (std::size_t i = 0; i < payloads.size(); ++i)
      out += "    " + std::to_string(i + 1) + ". " + payloads[i].file + "\n";
    return out;
  };
  if (c.payload_count) {
    CheckResult r{scope.label, "payloads", c.payload_count->holds(payloads.size()), "", ""};
    r.summary =
        "expected " + c.payload_count->describe() + ", recorded " + std::to_string(payloads.size());
    if (!r.ok) r.detail = listing();
    result.checks.push_back(std::move(r));
  }
  if (!c.payloads) return;
  CheckResult r{scope.label, "payloads", true, "", ""};
  std::vector<std::string> problems;
  std::string detail;
  if (payloads.size() != c.payloads->size()) {
    problems.push_back("expected " + std::to_string(c.payloads->size()) + ", recorded " +
                       std::to_string(payloads.size()));
    detail += listing();
  }
  for (std::size_t i = 0; i < std::min(payloads.size(), c.payloads->size()); ++i) {
    const PayloadCheck& check = (*c.payloads)[i];
    const std::string name = "payload " + std::to_string(i + 1) + " (" + payloads[i].file + ")";
    const auto content = load(payloads[i].file);
    if (!content) {
      problems.push_back(name + ": the file is missing");
      continue;
    }
    for (const auto& needle : check.contains)
      if (content->find(needle) == std::string::npos)
        problems.push_back(name + ": does not contain " + quote_text(needle));
    if (check.match && !safe_search(*check.match, *content))
      problems.push_back(name + ": does not match {match: " + check.match_source + "}");
    if (check.equals && crlf_to_lf(*check.equals) != crlf_to_lf(*content)) {
      problems.push_back(name + ": differs from " + check.equals_origin);
      std::vector<LinePattern> want;
      for (auto& l : block_lines(*check.equals)) want.push_back({std::move(l), nullptr, false});
      std::string ignored_first;
      std::string d = diff_lines(want, block_lines(*content), {}, &ignored_first, "      ");
      if (d.empty())  // the lines agree; the difference is a missing or extra last line end
        d = "      (the same lines; only the final line end differs)\n";
      detail +=
          "    " + name + " against " + check.equals_origin + " (- expected, + recorded):\n" + d;
    }
  }
  if (!problems.empty()) {
    r.ok = false;
    r.summary = problems.front();
    std::string all;
    if (problems.size() > 1)
      for (const auto& p : problems) all += "    " + p + "\n";
    r.detail = all + detail;
  } else {
    r.summary = plural(payloads.size(), "payload", "payloads") + " as expected";
  }
  result.checks.push_back(std::move(r));
}

void check_rules(const Scope& scope, const Checks& c, ServerResult& result) {
  if (c.rules.empty()) return;
  CheckResult r{scope.label, "rules", true, "", ""};
  std::string detail;
  for (const auto& [name, count] : c.rules) {
    std::uint64_t n = 0;
    for (const auto* s : scope.sessions) n += count_rule(*s, name);
    const bool ok = count.holds(n);
    detail += std::string(ok ? "      " : "    ! ") + name + ": fired " + std::to_string(n) +
              (n == 1 ? " time" : " times") + ", expected " + count.describe() + "\n";
    if (!ok && r.ok) {
      r.ok = false;
      r.summary = name + " fired " + std::to_string(n) + (n == 1 ? " time" : " times") +
                  ", expected " + count.describe();
    }
  }
  if (r.ok)
    r.summary = plural(c.rules.size(), "rule count", "rule counts") + " as expected";
  else
    r.detail = detail;
  result.checks.push_back(std::move(r));
}

void check_close(const Scope& scope, const Checks& c, ServerResult& result) {
  if (c.close.empty() || scope.sessions.size() != 1) return;
  const SessionTranscript& s = *scope.sessions.front();
  const TranscriptJson& close = s.doc.contains("close") ? s.doc["close"] : TranscriptJson();
  const std::string recorded = close.is_string() ? close.get<std::string>() : "";
  CheckResult r{scope.label, "close", true, "", ""};
  r.ok = !recorded.empty() && std::find(c.close.begin(), c.close.end(), recorded) != c.close.end();
  std::string want;
  for (std::size_t i = 0; i < c.close.size(); ++i)
    want += (i == 0 ? "" : i + 1 == c.close.size() ? " or " : ", ") + c.close[i];
  r.summary = "expected " + want + ", recorded " +
              (recorded.empty() ? "none (the session never ended: it was rebuilt from events.jsonl)"
                                : recorded);
  result.checks.push_back(std::move(r));
}

void check_scope(const Scope& scope, const Checks& c, const PayloadLoader& load,
                 ServerResult& result) {
  if (c.client) {
    std::vector<std::string> lines;
    for (const auto* s : scope.sessions)
      for (auto& l : client_lines(s->doc)) lines.push_back(std::move(l));
    check_lines(scope, *c.client, lines, c.ignore, "client", "line", result);
  }
  if (c.commands) {
    std::vector<std::string> commands;
    for (const auto* s : scope.sessions)
      for (auto& cmd : session_commands(s->doc, c.ignore)) commands.push_back(std::move(cmd));
    check_lines(scope, *c.commands, commands, {}, "commands", "command", result);
  }
  check_payloads(scope, c, load, result);
  check_rules(scope, c, result);
  check_close(scope, c, result);
}

std::string session_label(std::uint64_t n) { return "session " + std::to_string(n); }

}  // namespace

ServerResult evaluate(const ServerExpect& expect, const std::vector<SessionTranscript>& sessions,
                      const PayloadLoader& load_payload) {
  ServerResult result;
  result.server = expect.server;
  result.sessions = sessions.size();
  if (expect.sessions) {
    CheckResult r{"sessions", "count", expect.sessions->holds(sessions.size()), "", ""};
    r.summary =
        "expected " + expect.sessions->describe() + ", recorded " + std::to_string(sessions.size());
    if (!r.ok && !sessions.empty()) {
      for (const auto& s : sessions)
        r.detail += "    " + session_label(s.session) + ": " +
                    plural(client_lines(s.doc).size(), "client line", "client lines") + ", close " +
                    (s.doc.contains("close") && s.doc["close"].is_string()
                         ? s.doc["close"].get<std::string>()
                         : std::string("(never ended)")) +
                    "\n";
    }
    result.checks.push_back(std::move(r));
  }

  Scope all{"all sessions", {}};
  for (const auto& s : sessions) all.sessions.push_back(&s);
  check_scope(all, expect.all, load_payload, result);

  if (expect.each) {
    for (const auto& s : sessions)
      check_scope({session_label(s.session), {&s}}, *expect.each, load_payload, result);
  }
  for (const auto& [n, checks] : expect.by_number) {
    // Compared through a copy: clang (14) rejects a lambda that captures a structured binding.
    const std::uint64_t number = n;
    const auto it =
        std::find_if(sessions.begin(), sessions.end(),
                     [number](const SessionTranscript& s) { return s.session == number; });
    if (it == sessions.end()) {
      CheckResult r{session_label(n), "recorded", false, "", ""};
      r.summary =
          "not recorded (the server has " + plural(sessions.size(), "session", "sessions") + ")";
      result.checks.push_back(std::move(r));
      continue;
    }
    check_scope({session_label(n), {&*it}}, checks, load_payload, result);
  }
  return result;
}

}  // namespace protofarm
