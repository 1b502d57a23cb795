#include "controller/verify.hpp"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>

#include "controller/scenario.hpp"
#include "fakes/common/bytes.hpp"
#include "fakes/common/recorder.hpp"

namespace protofarm {

namespace fs = std::filesystem;

namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;

std::string plural(std::size_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ", ") + i;
  return out;
}

std::string format_seconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", s);
  return buf;
}

}  // namespace

std::size_t VerifyReport::failed_servers() const {
  std::size_t n = 0;
  for (const auto& s : servers) n += s.ok() ? 0 : 1;
  return n;
}

std::string check_label(const CheckResult& check) {
  if (check.scope == "sessions") return "sessions";
  if (check.scope == "all sessions") return check.what;
  return check.scope + " " + check.what;
}

std::string render_report(const VerifyReport& report) {
  std::string out = "protofarm verify: " + report.scenario_name + " (" + report.scenario_file +
                    ") against " + report.transcripts + "\n";
  for (const auto& s : report.servers) {
    const std::string sessions = plural(s.sessions, "session", "sessions");
    if (s.ok()) {
      out += "ok    " + s.server + ": " + sessions + ", " +
             plural(s.checks.size(), "check", "checks") + " passed\n";
      continue;
    }
    out += "FAIL  " + s.server + ": " + std::to_string(s.failures()) + " of " +
           plural(s.checks.size(), "check", "checks") + " failed (" + sessions + ")\n";
    for (const auto& c : s.checks) {
      if (c.ok) continue;
      out += "  " + check_label(c) + ": " + c.summary + "\n";
      out += c.detail;
    }
  }
  const std::size_t failed = report.failed_servers();
  if (failed)
    out += std::to_string(failed) + " of " + plural(report.servers.size(), "server", "servers") +
           " did not meet expectations\n";
  else
    out += "all expectations met (" + plural(report.servers.size(), "server", "servers") + ")\n";
  return out;
}

std::string xml_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 16);
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (const std::size_t len = utf8_char_at(s, i)) {
      out.append(s.substr(i, len));
      i += len;
      continue;
    }
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      case '\t':
      case '\n':
      case '\r':
        out += static_cast<char>(c);
        break;
      default:
        if (c < 0x20 || c == 0x7f || c >= 0x80)
          append_hex_escape(out, c);
        else
          out += static_cast<char>(c);
    }
    ++i;
  }
  return out;
}

std::string render_junit(const VerifyReport& report) {
  std::size_t failures = 0;
  for (const auto& s : report.servers) failures += s.ok() ? 0 : 1;
  const std::string tests = std::to_string(report.servers.size());
  const std::string time = format_seconds(report.seconds);
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out += "<testsuites name=\"protofarm verify\" tests=\"" + tests + "\" failures=\"" +
         std::to_string(failures) + "\" errors=\"0\" time=\"" + time + "\">\n";
  out += "  <testsuite name=\"" + xml_escape(report.scenario_name) + "\" tests=\"" + tests +
         "\" failures=\"" + std::to_string(failures) + "\" errors=\"0\" skipped=\"0\" time=\"" +
         time + "\"";
  if (!report.timestamp.empty()) out += " timestamp=\"" + xml_escape(report.timestamp) + "\"";
  out += " file=\"" + xml_escape(report.scenario_file) + "\">\n";
  out += "    <properties>\n";
  out += "      <property name=\"scenario\" value=\"" + xml_escape(report.scenario_file) + "\"/>\n";
  out +=
      "      <property name=\"transcripts\" value=\"" + xml_escape(report.transcripts) + "\"/>\n";
  out += "    </properties>\n";
  for (const auto& s : report.servers) {
    out += "    <testcase name=\"" + xml_escape(s.server) + "\" classname=\"" +
           xml_escape(report.scenario_name) + "\" file=\"" + xml_escape(report.scenario_file) +
           "\" time=\"0\"";
    std::string passed;
    for (const auto& c : s.checks)
      if (c.ok) passed += "ok " + check_label(c) + ": " + c.summary + "\n";
    if (s.ok()) {
      out += ">\n";
    } else {
      std::string first, body;
      for (const auto& c : s.checks) {
        if (c.ok) continue;
        const std::string line = check_label(c) + ": " + c.summary;
        if (first.empty()) first = line;
        body += line + "\n" + c.detail;
      }
      const std::string message = s.failures() == 1
                                      ? first
                                      : std::to_string(s.failures()) + " of " +
                                            plural(s.checks.size(), "check", "checks") +
                                            " failed; first: " + first;
      out += ">\n      <failure type=\"verify\" message=\"" + xml_escape(message) + "\">" +
             xml_escape(body) + "</failure>\n";
    }
    out += "      <system-out>" +
           xml_escape(plural(s.sessions, "session", "sessions") + " recorded\n" + passed) +
           "</system-out>\n";
    out += "    </testcase>\n";
  }
  out += "  </testsuite>\n</testsuites>\n";
  return out;
}

VerifyOutcome verify_transcripts(const VerifyOptions& options) {
  const auto started = std::chrono::steady_clock::now();
  VerifyOutcome out;
  out.status = kExitUsage;
  ConfigErrors errors(options.scenario);
  auto sc = load_scenario(options.scenario, errors);
  if (!sc || !errors.empty()) {
    out.error =
        errors.format() + "protofarm verify: " + options.scenario + " is not a valid scenario\n";
    return out;
  }
  if (!sc->expect.IsMap() || sc->expect.size() == 0) {
    out.error = "protofarm verify: " + options.scenario +
                " has no expect: section, so there is nothing to verify (see "
                "scenarios/README.md#expect)\n";
    return out;
  }
  const auto& servers = sc->context->server_protocols;  // the scenario's server names
  const auto& expectations = sc->expectations;          // parsed and checked at load

  TranscriptSet transcripts;
  try {
    transcripts = read_transcripts(options.transcripts);
  } catch (const TranscriptError& e) {
    out.error = std::string("protofarm verify: ") + e.what() + "\n";
    return out;
  }
  out.warnings = transcripts.warnings;
  // Transcripts of other servers only: most likely the wrong directory, not a failed client.
  if (!transcripts.servers.empty()) {
    bool any = false;
    std::vector<std::string> ours, theirs;
    for (const auto& [name, node] : servers) {
      ours.push_back(name);
      any = any || transcripts.servers.count(name);
    }
    for (const auto& [name, list] : transcripts.servers) theirs.push_back(name);
    if (!any) {
      out.error = "protofarm verify: " + options.transcripts + " holds transcripts of servers " +
                  join(theirs) + ", none of this scenario's (" + join(ours) + ")\n";
      return out;
    }
  }

  const fs::path dir = options.transcripts;
  const PayloadLoader load = [&](const std::string& rel) -> std::optional<std::string> {
    const fs::path p = rel;
    if (p.is_absolute()) return std::nullopt;
    for (const auto& part : p)
      if (part == "..") return std::nullopt;
    std::ifstream in(dir / p, std::ios::binary);
    if (!in) return std::nullopt;
    std::stringstream buf;
    buf << in.rdbuf();
    return buf.str();
  };

  VerifyReport& report = out.report;
  report.scenario_name =
      sc->context ? sc->context->name : fs::path(options.scenario).stem().string();
  report.scenario_file = options.scenario;
  report.transcripts = options.transcripts;
  report.timestamp = iso8601(std::chrono::system_clock::now());
  for (const auto& e : expectations)
    report.servers.push_back(evaluate(e, transcripts.sessions_of(e.server), load));
  report.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  out.status = report.failed_servers() ? kExitFailed : kExitOk;
  return out;
}

int run_verify(const VerifyOptions& options) {
  const VerifyOutcome out = verify_transcripts(options);
  for (const auto& warning : out.warnings)
    std::cerr << "protofarm verify: warning: " << warning << "\n";
  if (!out.error.empty()) {
    std::cerr << out.error;
    return out.status;
  }
  const VerifyReport& report = out.report;
  std::cout << render_report(report) << std::flush;
  if (options.junit) {
    const fs::path path = *options.junit;
    std::error_code ec;
    if (path.has_parent_path()) fs::create_directories(path.parent_path(), ec);
    std::ofstream out_file(path, std::ios::binary | std::ios::trunc);
    out_file << render_junit(report);
    out_file.close();
    if (!out_file) {
      std::cerr << "protofarm verify: cannot write the JUnit report " << path.string() << "\n";
      return kExitUsage;
    }
  }
  return out.status;
}

}  // namespace protofarm
