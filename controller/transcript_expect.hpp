// The `expect:` section of a scenario and how it is checked against transcripts
// (scenarios/README.md#expect documents every key).
//
// parse_expect() turns the YAML section into ServerExpect values, reporting bad regexes,
// unreadable `file:` payloads and unknown rule names into ConfigErrors (exit status 2).
// evaluate() is a pure function of one server's expectations and its recorded sessions; it
// reads payload files only through the PayloadLoader it is given, so tests need no files.
#pragma once

#include <boost/regex.hpp>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "controller/transcript_reader.hpp"
#include "fakes/common/config.hpp"

namespace protofarm {

// A count, exact or a range: `2`, or `{min: 1, max: 3}`.
struct CountRange {
  std::uint64_t min = 0;
  std::optional<std::uint64_t> max;

  static CountRange exactly(std::uint64_t n) { return {n, n}; }
  bool holds(std::uint64_t n) const { return n >= min && (!max || n <= *max); }
  std::string describe() const;  // "2", "at least 1", "at most 3", "1 to 3"
};

// An expected line or command: exact text, or a regex the whole line must match.
struct LinePattern {
  std::string text;  // the exact text, or the regex's source
  std::shared_ptr<const boost::regex> regex;
  bool ignore_case = false;  // commands compare case-insensitively

  bool accepts(const std::string& line) const;
  std::string display() const;  // the text escaped, or "{match: REGEX}"
};

struct IgnorePattern {
  std::string source;
  std::shared_ptr<const boost::regex> regex;
  bool drops(const std::string& line) const;  // searched anywhere in the line
};

// Content checks for one payload; a default-constructed one accepts any payload.
struct PayloadCheck {
  std::vector<std::string> contains;
  std::string match_source;
  std::shared_ptr<const boost::regex> match;
  std::optional<std::string> equals;  // compared with CRLF read as LF on both sides
  std::string equals_origin;          // "equals" or the file it came from
};

// The checks that apply to one scope: all sessions together, each session, or session N.
struct Checks {
  std::optional<std::vector<LinePattern>> client;
  std::optional<std::vector<LinePattern>> commands;
  std::vector<IgnorePattern> ignore;  // inherited from the server level, then the scope's own
  std::optional<CountRange> payload_count;
  std::optional<std::vector<PayloadCheck>> payloads;  // one per payload, in order
  std::vector<std::pair<std::string, CountRange>> rules;
  std::vector<std::string> close;  // allowed close reasons; empty: not checked
};

struct ServerExpect {
  std::string server;
  std::optional<CountRange> sessions;
  Checks all;                                 // the server-level keys
  std::optional<Checks> each;                 // each_session
  std::map<std::uint64_t, Checks> by_number;  // session: {N: ...}
};

// The rule names a server's `rules:` define (`name:` or rules[N]), for checking `rules:` keys.
std::vector<std::string> rule_names(const YAML::Node& server_node);

// Parses the whole `expect:` section. `scenario_dir` resolves `file:` paths; `servers` maps
// each server name to its YAML node (for rule names). Problems are added to `errors`.
std::vector<ServerExpect> parse_expect(const YAML::Node& expect,
                                       const std::filesystem::path& scenario_dir,
                                       const std::map<std::string, YAML::Node>& servers,
                                       ConfigErrors& errors);

// --- evaluation --------------------------------------------------------------------------

struct CheckResult {
  std::string scope;  // "sessions", "all sessions", "session 2"
  std::string what;   // "count", "client", "commands", "close", "payloads", "rules"
  bool ok = true;
  std::string summary;  // one line, e.g. "expected 2, recorded 1"
  std::string detail;   // a multi-line diff or listing, indented, may be empty
};

struct ServerResult {
  std::string server;
  std::size_t sessions = 0;
  std::vector<CheckResult> checks;

  std::size_t failures() const;
  bool ok() const { return failures() == 0; }
};

// Returns the bytes of a payload file named relative to the transcript directory, or nullopt.
using PayloadLoader = std::function<std::optional<std::string>(const std::string& relative)>;

ServerResult evaluate(const ServerExpect& expect, const std::vector<SessionTranscript>& sessions,
                      const PayloadLoader& load_payload);

// The commands of one session: the `command` the fake recorded on client events, or, for fakes
// that record none (tcp), the first word of each client line. Lines dropped by `ignore` give
// no command.
std::vector<std::string> session_commands(const TranscriptJson& session_doc,
                                          const std::vector<IgnorePattern>& ignore);

// The line-by-line diff of expected lines against recorded ones (ignored lines shown with ~),
// or "" when they agree. `first_difference` receives a one-line description.
std::string diff_lines(const std::vector<LinePattern>& expected,
                       const std::vector<std::string>& recorded,
                       const std::vector<IgnorePattern>& ignore, std::string* first_difference,
                       const std::string& indent = "    ");

// Payloads: files named by events with a "file" key (message, upload, ...).
struct PayloadRef {
  std::uint64_t session = 0;
  std::string file;  // relative to the transcript directory
};
std::vector<PayloadRef> session_payloads(const SessionTranscript& session);

}  // namespace protofarm
