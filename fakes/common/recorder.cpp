#include "fakes/common/recorder.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iostream>
#include <stdexcept>

#include "fakes/common/bytes.hpp"

namespace protofarm {

namespace fs = std::filesystem;

const char* to_string(CloseReason reason) {
  switch (reason) {
    case CloseReason::client:
      return "client";
    case CloseReason::server:
      return "server";
    case CloseReason::reset:
      return "reset";
    case CloseReason::timeout:
      return "timeout";
    case CloseReason::fault:
      return "fault";
    case CloseReason::shutdown:
      return "shutdown";
  }
  return "server";
}

std::string iso8601(std::chrono::system_clock::time_point t) {
  using namespace std::chrono;
  const auto ms = duration_cast<milliseconds>(t.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[48];
  std::snprintf(out, sizeof out, "%s.%03dZ", buf, static_cast<int>(ms % 1000));
  return out;
}

namespace {

// write(2) the whole buffer, retrying on EINTR and short writes.
bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

bool write_file_atomically(const fs::path& path, std::string_view content) {
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  const fs::path tmp = path.string() + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return false;
  const bool ok = write_all(fd, content);
  ::close(fd);
  if (!ok) return false;
  fs::rename(tmp, path, ec);
  return !ec;
}

}  // namespace

TranscriptSink::TranscriptSink(std::optional<fs::path> dir) {
  if (dir) open(*dir);
}

void TranscriptSink::open(const fs::path& dir) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  dir_ = fs::absolute(dir);
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec)
    throw std::runtime_error("cannot create transcript directory " + dir_.string() + ": " +
                             ec.message());
  fs::remove_all(dir_ / "sessions", ec);
  fs::remove_all(dir_ / "files", ec);
  const fs::path events = dir_ / "events.jsonl";
  fd_ = ::open(events.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
  if (fd_ < 0)
    throw std::runtime_error("cannot write " + events.string() + ": " + std::strerror(errno));
}

TranscriptSink::~TranscriptSink() {
  flush();
  if (fd_ >= 0) ::close(fd_);
}

void TranscriptSink::flush() {
  flush_scheduled_ = false;
  if (fd_ < 0 || pending_.empty()) return;
  write_all(fd_, pending_);  // a full disk loses events, never the farm
  pending_.clear();
}

void TranscriptSink::append_line(std::initializer_list<std::string_view> parts) {
  if (fd_ < 0) return;
  constexpr std::size_t kFlushAt = std::size_t{64} * 1024;
  // Straight into the pending buffer: no line is assembled on its own first.
  for (std::string_view part : parts) pending_ += part;
  pending_ += '\n';
  if (!defer_ || pending_.size() >= kFlushAt) {
    flush();
  } else if (!flush_scheduled_) {
    flush_scheduled_ = true;
    defer_([this] { flush(); });
  }
}

void TranscriptSink::append_event(const Json& line) {
  append_line({line.dump(-1, ' ', false, Json::error_handler_t::replace)});
}

void TranscriptSink::write_session_text(const std::string& server, std::uint64_t session,
                                        std::string_view text) {
  if (fd_ < 0) return;
  flush();  // events.jsonl holds a session's events before its document appears
  write_file_atomically(dir_ / "sessions" / server / (std::to_string(session) + ".json"), text);
}

std::string TranscriptSink::save_file(const std::string& server, std::uint64_t session,
                                      const std::string& name, std::string_view bytes) {
  if (fd_ < 0) return {};
  // Names can come from clients (an upload's file name): keep the last component only, so a
  // file never lands outside its session's folder.
  std::string base = fs::path(name).filename().string();
  if (base.empty() || base == "." || base == "..") base = "unnamed";
  const fs::path rel = fs::path("files") / server / std::to_string(session) / base;
  if (!write_file_atomically(dir_ / rel, bytes)) return {};
  return rel.generic_string();
}

namespace {

// Appends s as a JSON string; s is valid UTF-8, written as is but for what JSON escapes.
void append_json_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  std::size_t plain = 0;  // start of the run of bytes that need no escape
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s, plain, i - plain);
    plain = i + 1;
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        out += "\\u00";
        out += kHex[c >> 4];
        out += kHex[c & 15];
    }
  }
  out.append(s, plain, std::string_view::npos);
  out += '"';
}

}  // namespace

SessionRecorder::SessionRecorder(TranscriptSink& sink, std::string server, std::string protocol,
                                 std::uint64_t session, std::string peer, std::string local)
    : sink_(sink),
      server_(std::move(server)),
      protocol_(std::move(protocol)),
      peer_(std::move(peer)),
      local_(std::move(local)),
      session_(session),
      start_(std::chrono::steady_clock::now()),
      started_wall_(std::chrono::system_clock::now()) {
  if (!recording()) return;
  line_prefix_ = "{\"server\":";
  append_json_string(line_prefix_, server_);
  line_prefix_ += ",\"session\":" + std::to_string(session_);
  Json open = Json::object();
  open["peer"] = peer_;
  open["local"] = local_;
  open["protocol"] = protocol_;
  event("open", std::move(open));
}

void SessionRecorder::set_datagrams() { datagrams_ = true; }

void SessionRecorder::client(std::string_view bytes, std::string_view channel, Json extra) {
  if (channel.empty()) return client(bytes, std::move(extra));
  if (!extra.is_object()) extra = Json::object();
  extra["channel"] = std::string(channel);
  client(bytes, std::move(extra));
}

void SessionRecorder::server(std::string_view bytes, std::string_view channel, Json extra) {
  if (channel.empty()) return server(bytes, std::move(extra));
  if (!extra.is_object()) extra = Json::object();
  extra["channel"] = std::string(channel);
  server(bytes, std::move(extra));
}

void SessionRecorder::event(std::string_view name, std::string_view channel, Json extra) {
  if (channel.empty()) return event(name, std::move(extra));
  if (!extra.is_object()) extra = Json::object();
  extra["channel"] = std::string(channel);
  event(name, std::move(extra));
}

// finish() serialises and writes the session document, which may throw (std::bad_alloc, a JSON
// error), and an exception leaving a destructor ends the whole farm (std::terminate). Only this
// session's document is lost instead, and stderr says so.
SessionRecorder::~SessionRecorder() {
  try {
    finish(CloseReason::server);
  } catch (const std::exception& e) {
    std::cerr << "protofarm: server '" << server_ << "' session " << session_
              << ": transcript not written: " << e.what() << "\n";
  } catch (...) {
    std::cerr << "protofarm: server '" << server_ << "' session " << session_
              << ": transcript not written\n";
  }
}

double SessionRecorder::elapsed_ms() const {
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                      std::chrono::steady_clock::now() - start_)
                      .count();
  return static_cast<double>(us) / 1000.0;
}

void SessionRecorder::add(const Json& event) {
  add_text(event.dump(-1, ' ', false, Json::error_handler_t::replace));
}

void SessionRecorder::add_text(std::string text) {
  // The events.jsonl line is the same object with the server and session in front.
  sink_.append_line({line_prefix_, text.size() > 2 ? "," : "", std::string_view(text).substr(1)});
  events_.push_back(std::move(text));
}

namespace {
double round_ms(double ms) { return std::round(ms * 1000.0) / 1000.0; }
}  // namespace

std::string SessionRecorder::t_ms() const {
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                      std::chrono::steady_clock::now() - start_)
                      .count();
  // 12345 us -> "12.345", 12300 -> "12.3", 5000 -> "5.0": what a JSON number of ms reads as.
  std::string out = std::to_string(us / 1000);
  std::string frac = std::to_string(1000 + us % 1000).substr(1);
  while (frac.size() > 1 && frac.back() == '0') frac.pop_back();
  out += '.';
  out += frac;
  return out;
}

void SessionRecorder::add_bytes(const char* from, std::string_view bytes, Json extra) {
  std::string text;
  text.reserve(bytes.size() + 64);
  text += "{\"t_ms\":";
  text += t_ms();
  text += ",\"from\":\"";
  text += from;
  if (is_valid_utf8(bytes)) {
    text += "\",\"text\":";
    append_json_string(text, bytes);
  } else {
    text += "\",\"base64\":\"";
    text += base64_encode(bytes);
    text += '"';
  }
  if (extra.is_object())
    for (const auto& [k, v] : extra.items()) {
      text += ',';
      append_json_string(text, k);
      text += ':';
      text += v.dump(-1, ' ', false, Json::error_handler_t::replace);
    }
  text += '}';
  add_text(std::move(text));
}

void SessionRecorder::client(std::string_view bytes, Json extra) {
  if (!recording() || finished_ || bytes.empty()) return;
  add_bytes("client", bytes, std::move(extra));
}

void SessionRecorder::server(std::string_view bytes, Json extra) {
  if (!recording() || finished_ || bytes.empty()) return;
  add_bytes("server", bytes, std::move(extra));
}

void SessionRecorder::event(std::string_view name, Json extra) {
  if (!recording() || finished_) return;
  Json e = Json::object();
  e["t_ms"] = round_ms(elapsed_ms());
  e["event"] = std::string(name);
  if (extra.is_object())
    for (auto& [k, v] : extra.items()) e[k] = std::move(v);
  add(e);
}

std::string SessionRecorder::save_file(const std::string& name, std::string_view bytes) {
  return sink_.save_file(server_, session_, name, bytes);
}

void SessionRecorder::finish(CloseReason reason) {
  if (finished_) return;
  if (!recording()) {
    finished_ = true;
    return;
  }
  Json close = Json::object();
  close["close"] = to_string(reason);
  event("close", std::move(close));
  finished_ = true;
  // Written by hand so that each event keeps its one-line form: readable, and no second
  // serialisation of a long session.
  auto field = [](std::string& out, const char* key, const Json& value) {
    out += "  \"";
    out += key;
    out += "\": ";
    out += value.dump(-1, ' ', false, Json::error_handler_t::replace);
    out += ",\n";
  };
  std::size_t size = 256;
  for (const auto& e : events_) size += e.size() + 6;
  std::string doc;
  doc.reserve(size);
  doc += "{\n";
  field(doc, "server", server_);
  field(doc, "protocol", protocol_);
  if (datagrams_) field(doc, "transport", "datagram");
  field(doc, "session", session_);
  field(doc, "peer", peer_);
  field(doc, "local", local_);
  field(doc, "started", iso8601(started_wall_));
  field(doc, "ended", iso8601(std::chrono::system_clock::now()));
  field(doc, "close", to_string(reason));
  doc += "  \"events\": [";
  for (std::size_t i = 0; i < events_.size(); ++i) {
    doc += i ? ",\n    " : "\n    ";
    doc += events_[i];
  }
  doc += "\n  ]\n}\n";  // never empty: open and close are events
  events_.clear();
  events_.shrink_to_fit();
  sink_.write_session_text(server_, session_, doc);
}

}  // namespace protofarm
