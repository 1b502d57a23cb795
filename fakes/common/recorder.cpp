#include "fakes/common/recorder.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cmath>
#include <condition_variable>
#include <csignal>
#include <cstring>
#include <ctime>
#include <fstream>
#include <functional>
#include <iostream>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <utility>

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

// Writes path whole or not at all: a failed write (a full disk) leaves no temporary file
// behind. Returns 0, or the errno of what failed.
int write_file_atomically(const fs::path& path, std::string_view content, bool make_dirs = true) {
  std::error_code ec;
  if (make_dirs) fs::create_directories(path.parent_path(), ec);
  const fs::path tmp = path.string() + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return errno ? errno : EIO;
  int error = write_all(fd, content) ? 0 : (errno ? errno : EIO);
  if (::close(fd) != 0 && error == 0) error = errno ? errno : EIO;
  if (error == 0) {
    fs::rename(tmp, path, ec);
    if (ec) error = ec.value();
  }
  if (error != 0) ::unlink(tmp.c_str());
  return error;
}

}  // namespace

// A job of the writer thread (below).
struct TranscriptSink::WriterJob {
  enum class Kind { open, append, finish, save } kind;
  std::uint64_t handle = 0;
  std::string data;
  // open: the file written, and its name once whole; save: the path relative to the
  // transcript folder, and the file.
  fs::path part, final_path;
  std::function<void(std::string)> done = {};  // save: told that relative path, or ""
  std::string_view bytes = {};  // save: the payload, the asker's until `done` is called
  std::size_t size() const { return data.size() + bytes.size(); }
};

// The writer thread: takes jobs in order (open, append to and finish a session document) and
// does that file-system work away from the farm's loop: creating a document's file and renaming
// it are the slow calls on a real disk. The jobs queued meanwhile are taken together.
struct TranscriptSink::Writer {
  using Job = WriterJob;

  // The thread is started with every signal blocked (it inherits the mask): signals are the
  // farm's loop's, and one delivered here once the farm has let go of it would take its
  // default action, ending the process half way through its transcripts.
  Writer() {
    sigset_t all, saved;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &saved);
    thread = std::thread([this] { run(); });
    pthread_sigmask(SIG_SETMASK, &saved, nullptr);
  }
  ~Writer() {
    {
      std::lock_guard lock(mutex);
      stopping = true;
    }
    wake.notify_all();
    thread.join();
  }
  void push(Job job) {
    backlog.fetch_add(job.size(), std::memory_order_relaxed);
    std::lock_guard lock(mutex);
    queue.push_back(std::move(job));
    ++queued;
  }
  // Jobs are handed over without a wake-up; the sink wakes the writer once per burst of the
  // farm's loop (TranscriptSink::flush). A writer at work takes the new jobs with the rest of
  // the queue when it is done; only a sleeping one needs the wake-up, a futex call that was
  // 6% of a busy loop's time when each job made one.
  void wake_if_asleep() {
    bool asleep = false;
    {
      std::lock_guard lock(mutex);
      asleep = waiting && !queue.empty();
    }
    if (asleep) wake.notify_one();
  }
  void sync() {
    std::unique_lock lock(mutex);
    const std::uint64_t target = queued;
    done_cv.wait(lock, [&] { return done >= target; });
  }

  void run() {
    std::vector<Job> batch;
    for (;;) {
      {
        std::unique_lock lock(mutex);
        waiting = true;
        wake.wait(lock, [&] { return stopping || !queue.empty(); });
        waiting = false;
        if (queue.empty() && stopping) break;
        batch.swap(queue);
      }
      for (Job& job : batch) {
        const std::size_t size = job.size();
        handle(job);
        std::string().swap(job.data);  // gone now, not when the whole batch is
        backlog.fetch_sub(size, std::memory_order_relaxed);
      }
      {
        std::lock_guard lock(mutex);
        done += batch.size();
      }
      done_cv.notify_all();
      batch.clear();
    }
    for (auto& [handle, doc] : open_docs) ::close(doc.fd);
  }

  void handle(Job& job) {
    switch (job.kind) {
      case Job::Kind::open: {
        std::error_code ec;
        if (made_dirs.insert(job.part.parent_path().string()).second)
          fs::create_directories(job.part.parent_path(), ec);
        Doc doc{-1, std::move(job.part), std::move(job.final_path)};
        doc.unopened = true;
        put(doc, job.data);
        open_docs[job.handle] = std::move(doc);
        break;
      }
      case Job::Kind::append: {
        const auto it = open_docs.find(job.handle);
        if (it != open_docs.end()) put(it->second, job.data);
        break;
      }
      case Job::Kind::save: {
        // A session's folder is made with its first file; its next files usually follow
        // (one folder remembered: a set of them would grow with the sessions).
        std::string parent = job.final_path.parent_path().string();
        if (parent != last_save_dir) {
          std::error_code ec;
          fs::create_directories(job.final_path.parent_path(), ec);
          last_save_dir = ec ? std::string() : std::move(parent);
        }
        const int error = write_file_atomically(job.final_path, job.bytes, false);
        if (error != 0) report(error);
        job.done(error == 0 ? job.part.generic_string() : std::string());
        break;
      }
      case Job::Kind::finish: {
        const auto it = open_docs.find(job.handle);
        if (it == open_docs.end()) break;
        Doc doc = std::move(it->second);
        open_docs.erase(it);
        put(doc, job.data);
        if (doc.unopened) fail(doc);  // still no descriptor: the document is lost
        if (doc.fd < 0) break;
        const bool closed = ::close(doc.fd) == 0;
        doc.fd = -1;
        std::error_code ec;
        // Renamed only when whole: readers see no document or the whole document.
        if (closed) fs::rename(doc.part, doc.final_path, ec);
        if (!closed || ec) {
          if (!closed) report(errno ? errno : EIO);
          ::unlink(doc.part.c_str());
        }
        break;
      }
    }
  }

  struct Doc {
    int fd = -1;
    fs::path part, final_path;
    // The file could not be created for want of file descriptors (a farm at its ulimit -n):
    // the text is held here, up to kMaxHeld for all documents, and each later job for the
    // document tries again, so that a burst of connections does not lose their documents.
    bool unopened = false;
    std::string held;
  };
  static constexpr std::size_t kMaxHeld = std::size_t{64} << 20;

  // Writes text to the document, opening its file first when it has none yet.
  void put(Doc& doc, std::string_view text) {
    if (doc.unopened) {
      doc.fd = ::open(doc.part.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      if (doc.fd < 0) {
        const bool no_descriptor = errno == EMFILE || errno == ENFILE;
        if (no_descriptor && held_total + text.size() <= kMaxHeld) {
          doc.held += text;
          held_total += text.size();
          return;
        }
        fail(doc);
        return;
      }
      doc.unopened = false;
      const std::string held = release(doc);
      if (!write_all(doc.fd, held)) {
        fail(doc);
        return;
      }
    }
    if (doc.fd >= 0 && !write_all(doc.fd, text)) fail(doc);
  }
  std::string release(Doc& doc) {
    held_total -= doc.held.size();
    return std::exchange(doc.held, std::string());
  }
  // A document that cannot be written whole is not written at all: with a gap in it, it would
  // be renamed into place as invalid JSON. Its session is in events.jsonl still.
  void fail(Doc& doc) {
    report(errno ? errno : EIO);
    if (doc.fd >= 0) ::close(doc.fd);
    doc.fd = -1;
    doc.unopened = false;
    release(doc);
    ::unlink(doc.part.c_str());
  }
  std::function<void(int)> report;  // the sink's report_write_error
  std::mutex mutex;
  std::condition_variable wake, done_cv;
  std::vector<Job> queue;
  std::uint64_t queued = 0, done = 0;
  std::atomic<std::size_t> backlog{0};  // bytes handed over and not written yet
  bool stopping = false;
  bool waiting = false;                    // the writer sleeps until push() wakes it
  std::map<std::uint64_t, Doc> open_docs;  // the writer thread's own
  std::set<std::string> made_dirs;         // the writer thread's own: sessions/<server>
  std::string last_save_dir;               // the writer thread's own
  std::size_t held_total = 0;              // the writer thread's own: Doc::held, summed
  std::thread thread;
};

TranscriptSink::TranscriptSink(std::optional<fs::path> dir) {
  if (dir) open(*dir);
}

void TranscriptSink::open(const fs::path& dir) {
  writer_.reset();
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
  writer_ = std::make_unique<Writer>();
  writer_->report = [this](int error) { report_write_error(error); };
}

TranscriptSink::~TranscriptSink() {
  flush();
  writer_.reset();  // writes what is queued, then joins
  if (fd_ >= 0) ::close(fd_);
}

void TranscriptSink::flush() {
  flush_scheduled_ = false;
  if (writer_wake_ && writer_) {
    writer_wake_ = false;
    writer_->wake_if_asleep();
  }
  if (fd_ < 0 || pending_.empty()) return;
  // events.jsonl is written here, at once: one write(2) per burst is cheap, and a farm killed
  // with SIGKILL leaves every event up to the kill (a hand-over to the writer would not).
  if (write_all(fd_, pending_)) {
    events_size_ += pending_.size();
  } else {
    // A full disk loses these events, never the farm, and never the file's shape: what part of
    // them was written is cut off again, so the next lines start on a line of their own.
    report_write_error(errno ? errno : EIO);
    if (::ftruncate(fd_, static_cast<off_t>(events_size_)) != 0) {
      // Cannot even cut: end the partial line, so that only it is lost.
      const off_t end = ::lseek(fd_, 0, SEEK_END);
      if (end > 0 && write_all(fd_, "\n")) events_size_ = static_cast<std::uint64_t>(end) + 1;
    }
  }
  pending_.clear();
}

void TranscriptSink::report_write_error(int error) {
  // From the loop and from the writer thread: the first one says it, once per run.
  if (write_error_reported_.exchange(true)) return;
  std::cerr << "protofarm: cannot write transcripts under " + dir_.string() + ": " +
                   std::strerror(error) +
                   " (from now on, what cannot be written is left out: events.jsonl keeps whole "
                   "lines, session documents and payload files are whole or absent)\n"
            << std::flush;
}

void TranscriptSink::sync() {
  flush();
  if (writer_) writer_->sync();
}

bool TranscriptSink::congested() const {
  constexpr std::size_t kMaxBacklog = std::size_t{1} * 1024 * 1024;
  return writer_ && writer_->backlog.load(std::memory_order_relaxed) > kMaxBacklog;
}

void TranscriptSink::hand_over(Writer::Job job) {
  writer_->push(std::move(job));
  writer_wake_ = true;
  schedule_flush();
}

void TranscriptSink::schedule_flush() {
  constexpr std::size_t kFlushAt = std::size_t{64} * 1024;
  if (!defer_ || pending_.size() >= kFlushAt) {
    flush();
  } else if (!flush_scheduled_) {
    flush_scheduled_ = true;
    defer_([this] { flush(); });
  }
}

void TranscriptSink::append_line(std::initializer_list<std::string_view> parts,
                                 const SessionSummary* from) {
  if (fd_ < 0) return;
  // Straight into the pending buffer: no line is assembled on its own first.
  const std::size_t start = pending_.size();
  for (std::string_view part : parts) pending_ += part;
  if (observer_ && from) observer_->line(*from, std::string_view(pending_).substr(start));
  pending_ += '\n';
  schedule_flush();
}

void TranscriptSink::track(SessionRecorder* recorder, bool open) {
  if (open) {
    open_[recorder->handle()] = recorder;
  } else {
    open_.erase(recorder->handle());
  }
}

std::optional<std::string> TranscriptSink::live_document(const std::string& server,
                                                         std::uint64_t session) {
  SessionRecorder* recorder = nullptr;
  for (const auto& [handle, r] : open_)  // the API asks now and then: a scan will do
    if (r->session() == session && r->server_name() == server) recorder = r;
  if (!recorder || !writer_) return std::nullopt;
  recorder->hand_over();
  sync();  // the writer has written all it was given; nothing more is given meanwhile
  const fs::path part = dir_ / "sessions" / server / ("." + std::to_string(session) + ".json.part");
  std::ifstream in(part, std::ios::binary);
  if (!in) return std::nullopt;
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  text += "\n  ],\n  \"ended\": null,\n  \"close\": null,\n  \"open\": true\n}\n";
  return text;
}

void TranscriptSink::append_event(const Json& line) {
  append_line({line.dump(-1, ' ', false, Json::error_handler_t::replace)});
}

std::uint64_t TranscriptSink::begin_session(const std::string& server, std::uint64_t session,
                                            std::string head) {
  if (fd_ < 0) return 0;
  const std::uint64_t handle = ++next_handle_;
  const fs::path dir = dir_ / "sessions" / server;
  const std::string n = std::to_string(session);
  hand_over({Writer::Job::Kind::open, handle, std::move(head), dir / ("." + n + ".json.part"),
             dir / (n + ".json")});
  return handle;
}

void TranscriptSink::session_text(std::uint64_t handle, std::string text) {
  if (handle == 0 || !writer_) return;
  hand_over({Writer::Job::Kind::append, handle, std::move(text), {}, {}});
}

void TranscriptSink::finish_session(std::uint64_t handle, std::string tail) {
  if (handle == 0 || !writer_) return;
  // events.jsonl holds a session's events before its document appears: flush first.
  flush();
  hand_over({Writer::Job::Kind::finish, handle, std::move(tail), {}, {}});
}

namespace {

// A payload's path relative to the transcript folder. Names can come from clients (an upload's
// file name): only the last component is kept, so a file never lands outside its session's
// folder.
fs::path payload_path(const std::string& server, std::uint64_t session, const std::string& name) {
  std::string base = fs::path(name).filename().string();
  if (base.empty() || base == "." || base == "..") base = "unnamed";
  return fs::path("files") / server / std::to_string(session) / base;
}

}  // namespace

void TranscriptSink::save_file_async(const std::string& server, std::uint64_t session,
                                     const std::string& name, std::string_view bytes,
                                     std::function<void(std::string)> done) {
  if (fd_ < 0 || !writer_) {
    done(std::string());
    return;
  }
  fs::path rel = payload_path(server, session, name);
  fs::path path = dir_ / rel;
  hand_over(
      {Writer::Job::Kind::save, 0, {}, std::move(rel), std::move(path), std::move(done), bytes});
}

std::string TranscriptSink::save_file(const std::string& server, std::uint64_t session,
                                      const std::string& name, std::string_view bytes) {
  if (fd_ < 0) return {};
  const fs::path rel = payload_path(server, session, name);
  if (const int error = write_file_atomically(dir_ / rel, bytes); error != 0) {
    report_write_error(error);
    return {};
  }
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

// One `  "key": value` line of a session document's head or tail, written by hand so that the
// events between them keep their one-line form.
void append_field(std::string& out, const char* key, const Json& value, const char* end = ",\n") {
  out += "  \"";
  out += key;
  out += "\": ";
  out += value.dump(-1, ' ', false, Json::error_handler_t::replace);
  out += end;
}

// `extra` with the channel's name added ("" is the main connection: nothing added).
Json on_channel(Json extra, std::string_view channel) {
  if (channel.empty()) return extra;
  if (!extra.is_object()) extra = Json::object();
  extra["channel"] = std::string(channel);
  return extra;
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
  if (RecordingObserver* observer = sink_.observer()) {
    SessionSummary summary;
    summary.server = server_;
    summary.protocol = protocol_;
    summary.session = session_;
    summary.peer = peer_;
    summary.local = local_;
    summary.started = started_wall_;
    summary_ = observer->opened(std::move(summary));
  }
  if (!recording()) return;
  line_prefix_ = "{\"server\":";
  append_json_string(line_prefix_, server_);
  line_prefix_ += ",\"session\":" + std::to_string(session_);
  // The document's head goes out now; events follow as they happen; finish() writes the rest.
  std::string head = "{\n";
  append_field(head, "server", server_);
  append_field(head, "protocol", protocol_);
  append_field(head, "session", session_);
  append_field(head, "peer", peer_);
  append_field(head, "local", local_);
  append_field(head, "started", iso8601(started_wall_));
  head += "  \"events\": [";
  handle_ = sink_.begin_session(server_, session_, std::move(head));
  if (summary_) sink_.track(this, true);
  Json open = Json::object();
  open["peer"] = peer_;
  open["local"] = local_;
  open["protocol"] = protocol_;
  event("open", std::move(open));
}

void SessionRecorder::set_datagrams() { datagrams_ = true; }

void SessionRecorder::client(std::string_view bytes, std::string_view channel, Json extra) {
  client(bytes, on_channel(std::move(extra), channel));
}

void SessionRecorder::server(std::string_view bytes, std::string_view channel, Json extra) {
  server(bytes, on_channel(std::move(extra), channel));
}

void SessionRecorder::event(std::string_view name, std::string_view channel, Json extra) {
  event(name, on_channel(std::move(extra), channel));
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

void SessionRecorder::add_text(std::string_view text) {
  // The events.jsonl line is the same object with the server and session in front.
  sink_.append_line({line_prefix_, text.size() > 2 ? "," : "", text.substr(1)}, summary_.get());
  if (summary_) ++summary_->events;
  // The session document lists them one per line. At most kDocBuffer of it waits here; the
  // rest is on its way to the document, so memory does not grow with the session.
  constexpr std::size_t kDocBuffer = std::size_t{16} * 1024;
  doc_pending_ += first_event_ ? "\n    " : ",\n    ";
  doc_pending_ += text;
  first_event_ = false;
  if (doc_pending_.size() >= kDocBuffer)
    sink_.session_text(handle_, std::exchange(doc_pending_, {}));
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
  add_text(text);
}

void SessionRecorder::client(std::string_view bytes, Json extra) {
  if (summary_ && !finished_) summary_->bytes_from_client += bytes.size();
  if (!recording() || finished_ || bytes.empty()) return;
  add_bytes("client", bytes, std::move(extra));
}

void SessionRecorder::server(std::string_view bytes, Json extra) {
  if (summary_ && !finished_) summary_->bytes_from_server += bytes.size();
  if (!recording() || finished_ || bytes.empty()) return;
  add_bytes("server", bytes, std::move(extra));
}

void SessionRecorder::event(std::string_view name, Json extra) {
  if (summary_ && !finished_ && name == "fault" && extra.is_object()) {
    const auto it = extra.find("fault");
    if (it != extra.end() && it->is_string())
      sink_.observer()->fault(*summary_, it->get_ref<const std::string&>());
  }
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

void SessionRecorder::save_file_async(const std::string& name, std::string_view bytes,
                                      std::function<void(std::string)> done) {
  sink_.save_file_async(server_, session_, name, bytes, std::move(done));
}

void SessionRecorder::hand_over() {
  if (!doc_pending_.empty()) sink_.session_text(handle_, std::exchange(doc_pending_, {}));
}

void SessionRecorder::finish(CloseReason reason) {
  if (finished_) return;
  const auto tell_observer = [&] {
    if (!summary_) return;
    summary_->ended = std::chrono::system_clock::now();
    summary_->close = reason;
    if (RecordingObserver* observer = sink_.observer()) observer->closed(*summary_);
  };
  if (!recording()) {
    finished_ = true;
    tell_observer();
    return;
  }
  Json close = Json::object();
  close["close"] = to_string(reason);
  event("close", std::move(close));
  finished_ = true;
  // The rest of the document: the events are already on their way to it.
  std::string tail = "\n  ],\n";
  append_field(tail, "ended", iso8601(std::chrono::system_clock::now()));
  append_field(tail, "close", to_string(reason), datagrams_ ? ",\n" : "\n");
  if (datagrams_) append_field(tail, "transport", "datagram", "\n");
  tail += "}\n";
  tail.insert(0, doc_pending_);
  doc_pending_ = std::string();
  sink_.finish_session(handle_, std::move(tail));
  if (summary_) sink_.track(this, false);
  tell_observer();
}

}  // namespace protofarm
