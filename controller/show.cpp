#include "controller/show.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "fakes/common/bytes.hpp"

namespace protofarm {

namespace {

constexpr int kExitOk = 0;
constexpr int kExitUsage = 2;

// SGR codes; every coloured piece is closed with kReset so a cut line never bleeds colour.
constexpr const char* kReset = "\033[0m";
constexpr const char* kBold = "\033[1m";
constexpr const char* kDim = "\033[2m";
constexpr const char* kClient = "\033[36m";  // cyan
constexpr const char* kServer = "\033[33m";  // yellow
constexpr const char* kEvent = "\033[35m";   // magenta

std::string paint(const ShowStyle& style, const char* sgr, const std::string& text) {
  if (!style.color || text.empty()) return text;
  return std::string(sgr) + text + kReset;
}

std::string format_ms(const TranscriptJson& t) {
  char buf[32];
  if (!t.is_number()) return std::string(10, ' ');
  std::snprintf(buf, sizeof buf, "%10.3f", t.get<double>());
  return buf;
}

std::string value_text(const TranscriptJson& v) {
  if (v.is_string()) return escape_bytes(v.get<std::string>());
  return v.dump(-1, ' ', false, TranscriptJson::error_handler_t::replace);
}

// Keys shown elsewhere (or only noise) in a C:/S: line.
bool is_bytes_key(const std::string& k) {
  return k == "t_ms" || k == "from" || k == "text" || k == "base64" || k == "command" ||
         k == "args" || k == "method" || k == "path";
}

// "(rule rules[0], after_close)": the event's extra fields.
std::string extras(const TranscriptJson& e) {
  std::string out;
  for (const auto& [k, v] : e.items()) {
    if (is_bytes_key(k)) continue;
    if (!out.empty()) out += ", ";
    if (v.is_boolean() && v.get<bool>())
      out += k;
    else
      out += k + " " + value_text(v);
  }
  return out.empty() ? out : "(" + out + ")";
}

std::string line_end_text(Line::End end) {
  switch (end) {
    case Line::End::crlf:
      return "\\r\\n";
    case Line::End::lf:
      return "\\n";
    case Line::End::none:
      return "";
  }
  return "";
}

void render_bytes_event(const TranscriptJson& e, const ShowStyle& style, std::string& out) {
  const bool client = is_client(e);
  const std::string prefix = client ? "C:" : "S:";
  const char* colour = client ? kClient : kServer;
  const std::string time = format_ms(e.contains("t_ms") ? e["t_ms"] : TranscriptJson());
  const std::string note = extras(e);
  const auto lines = split_lines(event_bytes(e));
  for (std::size_t i = 0; i < lines.size(); ++i) {
    out += paint(style, kDim, i == 0 ? time : std::string(time.size(), ' '));
    out += "  " + paint(style, colour, prefix + " " + escape_bytes(lines[i].text));
    out += paint(style, kDim, line_end_text(lines[i].end));
    if (i == 0 && !note.empty()) out += "  " + paint(style, kDim, note);
    out += "\n";
  }
}

void render_named_event(const TranscriptJson& e, const ShowStyle& style, std::string& out) {
  const std::string name = string_field(e, "event", "?");
  std::string text = "-- " + escape_bytes(name);
  // The field named like the event is its main value: "-- close server", "-- rule rules[0]".
  if (e.contains(name)) text += " " + value_text(e[name]);
  for (const auto& [k, v] : e.items()) {
    if (k == "t_ms" || k == "event" || k == name) continue;
    text += " " + k + "=" + value_text(v);
  }
  out += paint(style, kDim, format_ms(e.contains("t_ms") ? e["t_ms"] : TranscriptJson()));
  out += "  " + paint(style, kEvent, text) + "\n";
}

std::string str_or(const TranscriptJson& doc, const char* key, const std::string& fallback) {
  return doc.contains(key) && doc[key].is_string() ? doc[key].get<std::string>() : fallback;
}

}  // namespace

bool use_color(const std::string& mode, bool stdout_is_tty, const char* no_color_env) {
  if (mode == "always") return true;
  if (mode == "never") return false;
  if (no_color_env && *no_color_env) return false;
  return stdout_is_tty;
}

std::string render_session(const SessionTranscript& s, const ShowStyle& style) {
  const TranscriptJson& doc = s.doc;
  std::string head = "== " + s.server + " session " + std::to_string(s.session);
  const std::string protocol = str_or(doc, "protocol", "");
  if (!protocol.empty()) head += " (" + protocol + ")";
  std::string info;
  const std::string peer = str_or(doc, "peer", ""), local = str_or(doc, "local", "");
  if (!peer.empty() || !local.empty())
    info += "  " + (peer.empty() ? "?" : peer) + " -> " + (local.empty() ? "?" : local);
  const std::string started = str_or(doc, "started", "");
  if (!started.empty()) info += "  " + started;
  if (!s.complete)
    info += "  unfinished (rebuilt from events.jsonl)";
  else
    info += "  close: " + str_or(doc, "close", "?");
  std::string out = paint(style, kBold, head) + info + "\n";
  if (doc.contains("events") && doc["events"].is_array()) {
    for (const auto& e : doc["events"]) {
      if (!e.is_object()) continue;
      if (e.contains("from"))
        render_bytes_event(e, style, out);
      else
        render_named_event(e, style, out);
    }
  }
  return out;
}

std::string render_transcripts(const TranscriptSet& set, const std::optional<std::string>& server,
                               const std::optional<std::uint64_t>& session,
                               const ShowStyle& style) {
  std::string out;
  for (const auto& [name, list] : set.servers) {
    if (server && name != *server) continue;
    for (const auto& s : list) {
      if (session && s.session != *session) continue;
      if (!out.empty()) out += "\n";
      out += render_session(s, style);
    }
  }
  return out;
}

int run_show(const ShowOptions& options) {
  TranscriptSet set;
  try {
    set = read_transcripts(options.transcripts);
  } catch (const TranscriptError& e) {
    std::cerr << "protofarm show: " << e.what() << "\n";
    return kExitUsage;
  }
  for (const auto& warning : set.warnings)
    std::cerr << "protofarm show: warning: " << warning << "\n";
  if (set.servers.empty()) {
    std::cerr << "protofarm show: " << options.transcripts
              << " holds no sessions (no client has connected)\n";
    return kExitUsage;
  }
  std::string names;
  for (const auto& [name, list] : set.servers) names += (names.empty() ? "" : ", ") + name;
  if (options.server && !set.servers.count(*options.server)) {
    std::cerr << "protofarm show: no transcripts of server '" << *options.server << "' in "
              << options.transcripts << " (servers: " << names << ")\n";
    return kExitUsage;
  }
  const ShowStyle style{
      use_color(options.color, ::isatty(STDOUT_FILENO) == 1, std::getenv("NO_COLOR"))};
  const std::string out = render_transcripts(set, options.server, options.session, style);
  if (out.empty()) {
    std::cerr << "protofarm show: no session " << (options.session ? *options.session : 0)
              << (options.server ? " of server '" + *options.server + "'" : std::string{}) << " in "
              << options.transcripts << "\n";
    return kExitUsage;
  }
  std::cout << out << std::flush;
  return kExitOk;
}

}  // namespace protofarm
