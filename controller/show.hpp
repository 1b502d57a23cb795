// `protofarm show`: prints recorded conversations for a person to read.
//
//   == hello session 1 (tcp)  127.0.0.1:50312 -> 127.0.0.1:40123  close: server
//        0.000  -- open
//        0.215  S: 220 hello\r\n
//        3.904  C: HELO alice\r\n
//        4.001  S: 250 hi alice\r\n
//        4.120  -- close server
//
// Each line of a client/server event gets its own C:/S: prefix (the time only on the first);
// line ends and non-printable bytes are shown escaped (\r \n \t \xNN), so the bytes are exact.
// Extra event fields follow in parentheses: (rule rules[0]), (after_close). Named events
// (open, tls, rule, message, close, ...) are "-- name value key=value ...".
// run_show() reads the directory; rendering is pure (render_session, render_transcripts).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "controller/transcript_reader.hpp"

namespace protofarm {

struct ShowOptions {
  std::string transcripts;
  std::optional<std::string> server;
  std::optional<std::uint64_t> session;
  std::string color = "auto";  // auto, always, never
};

// Returns the exit status: 0, or 2 when the directory holds no transcripts (or none for the
// given --server/--session), or cannot be read.
int run_show(const ShowOptions& options);

// Whether to colour: "always" yes, "never" no, "auto" when stdout is a terminal and NO_COLOR
// is unset or empty (https://no-color.org).
bool use_color(const std::string& mode, bool stdout_is_tty, const char* no_color_env);

struct ShowStyle {
  bool color = false;
};

std::string render_session(const SessionTranscript& session, const ShowStyle& style);

// Every session of `set` passing the filters, servers by name, sessions by number, separated
// by blank lines. Returns "" when none passes.
std::string render_transcripts(const TranscriptSet& set, const std::optional<std::string>& server,
                               const std::optional<std::uint64_t>& session, const ShowStyle& style);

}  // namespace protofarm
