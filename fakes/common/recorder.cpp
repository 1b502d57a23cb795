#include "fakes/common/recorder.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <ctime>
#include <fstream>
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
  if (fd_ >= 0) ::close(fd_);
}

void TranscriptSink::append_event(const Json& line) {
  if (fd_ < 0) return;
  std::string text = line.dump(-1, ' ', false, Json::error_handler_t::replace);
  text += '\n';
  write_all(fd_, text);  // a full disk loses events, never the farm
}

void TranscriptSink::append_line(std::string line) {
  if (fd_ < 0) return;
  line += '\n';
  write_all(fd_, line);
}

void TranscriptSink::write_session(const std::string& server, std::uint64_t session,
                                   const Json& doc) {
  write_session_text(server, session,
                     doc.dump(2, ' ', false, Json::error_handler_t::replace) + "\n");
}

void TranscriptSink::write_session_text(const std::string& server, std::uint64_t session,
                                        std::string_view text) {
  if (fd_ < 0) return;
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
  Json open = Json::object();
  open["peer"] = peer_;
  open["local"] = local_;
  open["protocol"] = protocol_;
  event("open", std::move(open));
}

SessionRecorder::~SessionRecorder() { finish(CloseReason::server); }

double SessionRecorder::elapsed_ms() const {
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                      std::chrono::steady_clock::now() - start_)
                      .count();
  return static_cast<double>(us) / 1000.0;
}

void SessionRecorder::add(Json event) {
  std::string text = event.dump(-1, ' ', false, Json::error_handler_t::replace);
  // The events.jsonl line is the same object with the server and session in front.
  std::string line;
  line.reserve(text.size() + server_.size() + 40);
  line += "{\"server\":";
  line += Json(server_).dump();
  line += ",\"session\":";
  line += std::to_string(session_);
  if (text.size() > 2) line += ',';
  line.append(text, 1, std::string::npos);
  sink_.append_line(std::move(line));
  events_.push_back(std::move(text));
}

namespace {
Json bytes_event(double t_ms, const char* from, std::string_view bytes, Json extra) {
  Json e = Json::object();
  e["t_ms"] = t_ms;
  e["from"] = from;
  if (is_valid_utf8(bytes))
    e["text"] = std::string(bytes);
  else
    e["base64"] = base64_encode(bytes);
  if (extra.is_object())
    for (auto& [k, v] : extra.items()) e[k] = std::move(v);
  return e;
}

double round_ms(double ms) { return std::round(ms * 1000.0) / 1000.0; }
}  // namespace

void SessionRecorder::client(std::string_view bytes, Json extra) {
  if (!recording() || finished_ || bytes.empty()) return;
  add(bytes_event(round_ms(elapsed_ms()), "client", bytes, std::move(extra)));
}

void SessionRecorder::server(std::string_view bytes, Json extra) {
  if (!recording() || finished_ || bytes.empty()) return;
  add(bytes_event(round_ms(elapsed_ms()), "server", bytes, std::move(extra)));
}

void SessionRecorder::event(std::string_view name, Json extra) {
  if (!recording() || finished_) return;
  Json e = Json::object();
  e["t_ms"] = round_ms(elapsed_ms());
  e["event"] = std::string(name);
  if (extra.is_object())
    for (auto& [k, v] : extra.items()) e[k] = std::move(v);
  add(std::move(e));
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
  doc += events_.empty() ? "]\n}\n" : "\n  ]\n}\n";
  events_.clear();
  events_.shrink_to_fit();
  sink_.write_session_text(server_, session_, doc);
}

}  // namespace protofarm
