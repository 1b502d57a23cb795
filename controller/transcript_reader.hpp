// Reading recorded transcripts (DESIGN.md, "Transcripts") for `verify` and `show`.
//
// read_transcripts() loads DIR/sessions/<server>/<n>.json, and rebuilds from DIR/events.jsonl
// every session that has events but no document (still open, or the farm was killed): such a
// session has "close": null and is marked incomplete. Everything after that is pure functions
// over the JSON documents, so it is unit-tested without files.
//
// Errors (a missing directory, a file that is not JSON, a document of the wrong shape) throw
// TranscriptError with a message that names the file; callers turn it into exit status 2.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace protofarm {

using TranscriptJson = nlohmann::ordered_json;

class TranscriptError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The implicit default constructor is noexcept and builds `doc` with nlohmann::json's noexcept
// null constructor; clang-tidy 14 follows that into the constructor that allocates for an object
// or array (never taken for null) and reports a throw. nlohmann silences the same report there.
struct SessionTranscript {  // NOLINT(bugprone-exception-escape): json's null ctor cannot throw
  std::string server;
  std::uint64_t session = 0;
  TranscriptJson doc;    // the session document (server, protocol, ..., events)
  bool complete = true;  // false: rebuilt from events.jsonl, the session never ended
  std::string source;    // the file it came from, for messages
};

struct TranscriptSet {
  std::filesystem::path dir;
  bool has_events_file = false;
  // Sessions by server name, each list ordered by session number.
  std::map<std::string, std::vector<SessionTranscript>> servers;
  // What was skipped and why (a partial last line of events.jsonl): show and verify print them.
  std::vector<std::string> warnings;

  const std::vector<SessionTranscript>& sessions_of(const std::string& server) const;
  std::size_t session_count() const;
};

// Reads a transcript directory. Throws TranscriptError when it does not exist, is not a
// transcript directory (neither events.jsonl nor sessions/), or holds a corrupt file. A last
// line of events.jsonl without its newline that is not JSON is no corruption: it is what a farm
// killed mid-write leaves; it is skipped, with a warning.
TranscriptSet read_transcripts(const std::filesystem::path& dir);

// Checks one session document's shape and returns it; throws TranscriptError naming `where`.
SessionTranscript parse_session_document(std::string_view text, const std::string& where);

// Adds sessions found in events.jsonl text but missing from `set`. Throws TranscriptError
// naming the line of a corrupt entry.
void merge_event_log(std::string_view jsonl, const std::string& where, TranscriptSet& set);

// --- pure helpers over events ------------------------------------------------------------

// The bytes of a client/server event (its text, or its base64 decoded); "" for other events.
// A string member of an object, or `fallback` when it is absent or not a string: what a
// hostile transcript holds never throws out of show or verify.
std::string string_field(const TranscriptJson& object, const char* key, std::string fallback = "");
std::string event_bytes(const TranscriptJson& event);
bool is_client(const TranscriptJson& event);
bool is_server(const TranscriptJson& event);

// One line of a byte stream: its content without the line end, and how it ended.
struct Line {
  std::string text;
  enum class End { crlf, lf, none } end = End::crlf;
};
// Splits bytes at LF; a CR right before the LF belongs to the line end. A last piece without
// LF is a line with End::none. "" gives no lines.
std::vector<Line> split_lines(std::string_view bytes);

// Client bytes that `verify` compares: every client event except those the fake marked
// "after_close" (bytes drained after the server closed: whether they arrive in time is a race).
bool counts_for_verify(const TranscriptJson& event);

// The client lines of a session as verify sees them (joined across events, then split).
std::vector<std::string> client_lines(const TranscriptJson& session_doc);

}  // namespace protofarm
