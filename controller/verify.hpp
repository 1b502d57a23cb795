// `protofarm verify`: checks recorded transcripts against a scenario's `expect:` section
// (scenarios/README.md#expect documents the keys, the diff and the JUnit report).
//
// run_verify() does the I/O: it loads the scenario, reads the transcript directory, evaluates
// every server's expectations (controller/transcript_expect.hpp), prints the report on stdout
// and writes the JUnit file. Rendering the report and the JUnit XML are pure functions below.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "controller/transcript_expect.hpp"

namespace protofarm {

struct VerifyOptions {
  std::string scenario;
  std::string transcripts;
  std::optional<std::string> junit;  // write a JUnit XML report here
};

// Returns the exit status: 0 all expectations hold, 1 some do not (a readable diff is printed),
// 2 bad scenario or usage (no expect: section, a transcript directory that does not exist or
// holds no transcripts of the scenario's servers, a corrupt transcript, an unwritable report).
int run_verify(const VerifyOptions& options);

struct VerifyReport {
  std::string scenario_name;
  std::string scenario_file;
  std::string transcripts;
  std::vector<ServerResult> servers;  // in the order of the expect: section
  double seconds = 0;                 // how long the checks took
  std::string timestamp;              // ISO 8601, for the JUnit report

  std::size_t failed_servers() const;
};

// The checks without the printing (the control API's POST /api/verify): status 0, 1 or 2 as
// run_verify; with 2, `error` says why (the lines run_verify prints on stderr).
struct VerifyOutcome {
  int status = 2;
  std::string error;
  std::vector<std::string> warnings;  // what reading the transcripts skipped (TranscriptSet)
  VerifyReport report;
};
VerifyOutcome verify_transcripts(const VerifyOptions& options);

// How a check is named in reports: "sessions", "client", "session 2 close".
std::string check_label(const CheckResult& check);

// The text printed on stdout: one line per server (ok/FAIL), each failed check with its diff,
// and a closing count.
std::string render_report(const VerifyReport& report);

// The JUnit XML report: one <testsuite> for the scenario, one <testcase> per server with
// expectations, a <failure> holding the failed checks and their diffs.
std::string render_junit(const VerifyReport& report);

// Escapes text for XML content and attributes: & < > " ' become entities; bytes that XML 1.0
// cannot hold (control characters other than tab, LF and CR; invalid UTF-8) become \xNN.
std::string xml_escape(std::string_view text);

}  // namespace protofarm
