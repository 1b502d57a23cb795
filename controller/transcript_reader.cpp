#include "controller/transcript_reader.hpp"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "fakes/common/bytes.hpp"

namespace protofarm {

namespace fs = std::filesystem;

const std::vector<SessionTranscript>& TranscriptSet::sessions_of(const std::string& server) const {
  static const std::vector<SessionTranscript> kNone;
  const auto it = servers.find(server);
  return it == servers.end() ? kNone : it->second;
}

std::size_t TranscriptSet::session_count() const {
  std::size_t n = 0;
  for (const auto& [name, list] : servers) n += list.size();
  return n;
}

namespace {

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw TranscriptError("cannot read " + path.string());
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

std::optional<std::uint64_t> session_number(const TranscriptJson& v) {
  if (v.is_number_unsigned()) return v.get<std::uint64_t>();
  if (v.is_number_integer() && v.get<std::int64_t>() >= 0)
    return static_cast<std::uint64_t>(v.get<std::int64_t>());
  return std::nullopt;
}

void sort_sessions(TranscriptSet& set) {
  for (auto& [name, list] : set.servers)
    std::sort(list.begin(), list.end(), [](const SessionTranscript& a, const SessionTranscript& b) {
      return a.session < b.session;
    });
}

}  // namespace

SessionTranscript parse_session_document(std::string_view text, const std::string& where) {
  TranscriptJson doc;
  try {
    doc = TranscriptJson::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw TranscriptError(where + ": not valid JSON (" + e.what() + ")");
  }
  if (!doc.is_object()) throw TranscriptError(where + ": expected a JSON object");
  if (!doc.contains("server") || !doc["server"].is_string())
    throw TranscriptError(where + ": missing \"server\"");
  const auto n = doc.contains("session") ? session_number(doc["session"]) : std::nullopt;
  if (!n) throw TranscriptError(where + ": missing or bad \"session\" number");
  if (!doc.contains("events") || !doc["events"].is_array())
    throw TranscriptError(where + ": missing \"events\" list");
  for (const auto& e : doc["events"])
    if (!e.is_object()) throw TranscriptError(where + ": an event is not a JSON object");
  SessionTranscript s;
  s.server = doc["server"].get<std::string>();
  s.session = *n;
  s.complete = true;
  s.source = where;
  s.doc = std::move(doc);
  return s;
}

void merge_event_log(std::string_view jsonl, const std::string& where, TranscriptSet& set) {
  std::set<std::pair<std::string, std::uint64_t>> known;
  for (const auto& [name, list] : set.servers)
    for (const auto& s : list) known.emplace(name, s.session);

  std::map<std::pair<std::string, std::uint64_t>, SessionTranscript> rebuilt;
  std::size_t line_no = 0;
  std::size_t pos = 0;
  while (pos < jsonl.size()) {
    const std::size_t nl = jsonl.find('\n', pos);
    const std::string_view line =
        jsonl.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? jsonl.size() : nl + 1;
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    TranscriptJson e;
    try {
      e = TranscriptJson::parse(line);
    } catch (const nlohmann::json::exception& ex) {
      if (nl == std::string_view::npos) {
        set.warnings.push_back(where + " line " + std::to_string(line_no) +
                               ": partial last line (cut off without its newline: the farm was "
                               "killed while writing it), skipped");
        break;
      }
      throw TranscriptError(where + " line " + std::to_string(line_no) + ": not valid JSON (" +
                            ex.what() + ")");
    }
    if (!e.is_object() || !e.contains("server") || !e["server"].is_string() ||
        !e.contains("session") || !session_number(e["session"]))
      throw TranscriptError(where + " line " + std::to_string(line_no) +
                            ": expected an event with \"server\" and \"session\"");
    const std::string server = e["server"].get<std::string>();
    const std::uint64_t n = *session_number(e["session"]);
    if (known.count({server, n})) continue;
    auto [it, fresh] = rebuilt.try_emplace({server, n});
    SessionTranscript& s = it->second;
    if (fresh) {
      s.server = server;
      s.session = n;
      s.complete = false;
      s.source = where;
      s.doc = TranscriptJson::object();
      s.doc["server"] = server;
      s.doc["protocol"] = nullptr;
      s.doc["session"] = n;
      s.doc["peer"] = nullptr;
      s.doc["local"] = nullptr;
      s.doc["started"] = nullptr;
      s.doc["ended"] = nullptr;
      s.doc["close"] = nullptr;
      s.doc["events"] = TranscriptJson::array();
    }
    e.erase("server");
    e.erase("session");
    // A named event's name, "" when it has none or it is not a string (a hostile folder).
    const std::string event = string_field(e, "event");
    if (event == "open") {
      for (const char* key : {"protocol", "peer", "local"})
        if (e.contains(key)) s.doc[key] = e[key];
    }
    if (event == "close" && e.contains("close")) {
      s.doc["close"] = e["close"];
      s.complete = true;  // it ended; only its document is missing
    }
    s.doc["events"].push_back(std::move(e));
  }
  for (auto& [key, s] : rebuilt) set.servers[key.first].push_back(std::move(s));
  sort_sessions(set);
}

TranscriptSet read_transcripts(const fs::path& dir) {
  std::error_code ec;
  if (!fs::exists(dir, ec))
    throw TranscriptError("transcript directory " + dir.string() + " does not exist");
  if (!fs::is_directory(dir, ec)) throw TranscriptError(dir.string() + " is not a directory");
  TranscriptSet set;
  set.dir = dir;
  const fs::path events = dir / "events.jsonl";
  const fs::path sessions = dir / "sessions";
  set.has_events_file = fs::is_regular_file(events, ec);
  const bool has_sessions = fs::is_directory(sessions, ec);
  if (!set.has_events_file && !has_sessions)
    throw TranscriptError(dir.string() +
                          " holds no transcripts (no events.jsonl, no sessions/); "
                          "was it written by `protofarm run --transcripts`?");
  if (has_sessions) {
    for (const auto& server_dir : fs::directory_iterator(sessions, ec)) {
      if (!server_dir.is_directory()) continue;
      for (const auto& file : fs::directory_iterator(server_dir.path(), ec)) {
        if (!file.is_regular_file() || file.path().extension() != ".json") continue;
        SessionTranscript s = parse_session_document(read_file(file.path()), file.path().string());
        const std::string dir_name = server_dir.path().filename().string();
        s.server = dir_name;  // the folder decides: it is what the recorder wrote
        set.servers[dir_name].push_back(std::move(s));
      }
    }
    if (ec) throw TranscriptError("cannot list " + sessions.string() + ": " + ec.message());
  }
  sort_sessions(set);
  if (set.has_events_file) merge_event_log(read_file(events), events.string(), set);
  return set;
}

std::string string_field(const TranscriptJson& object, const char* key, std::string fallback) {
  if (!object.is_object()) return fallback;
  const auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : fallback;
}

std::string event_bytes(const TranscriptJson& event) {
  if (!event.is_object()) return {};
  if (auto it = event.find("text"); it != event.end() && it->is_string())
    return it->get<std::string>();
  if (auto it = event.find("base64"); it != event.end() && it->is_string())
    return base64_decode(it->get<std::string>()).value_or(std::string{});
  return {};
}

bool is_client(const TranscriptJson& event) { return string_field(event, "from") == "client"; }

bool is_server(const TranscriptJson& event) { return string_field(event, "from") == "server"; }

std::vector<Line> split_lines(std::string_view bytes) {
  std::vector<Line> lines;
  std::size_t pos = 0;
  while (pos < bytes.size()) {
    const std::size_t nl = bytes.find('\n', pos);
    Line line;
    if (nl == std::string_view::npos) {
      line.text = std::string(bytes.substr(pos));
      line.end = Line::End::none;
      pos = bytes.size();
    } else {
      std::size_t end = nl;
      line.end = Line::End::lf;
      if (end > pos && bytes[end - 1] == '\r') {
        --end;
        line.end = Line::End::crlf;
      }
      line.text = std::string(bytes.substr(pos, end - pos));
      pos = nl + 1;
    }
    lines.push_back(std::move(line));
  }
  return lines;
}

bool counts_for_verify(const TranscriptJson& event) {
  return is_client(event) && !(event.contains("after_close") && event["after_close"] == true);
}

std::vector<std::string> client_lines(const TranscriptJson& session_doc) {
  // A stream is one run of bytes, cut into lines wherever its pieces arrived; datagrams are
  // messages of their own, so each one's lines stand apart (a "PING" with no LF is a line).
  // The document says so ("transport": "datagram"); transcripts from before it did are udp's.
  const bool datagrams = string_field(session_doc, "transport") == "datagram" ||
                         string_field(session_doc, "protocol") == "udp";
  std::vector<std::string> out;
  std::string bytes;
  auto flush = [&] {
    for (auto& l : split_lines(bytes)) out.push_back(std::move(l.text));
    bytes.clear();
  };
  if (session_doc.contains("events"))
    for (const auto& e : session_doc["events"]) {
      if (!counts_for_verify(e)) continue;
      bytes += event_bytes(e);
      if (datagrams) flush();
    }
  flush();
  return out;
}

}  // namespace protofarm
