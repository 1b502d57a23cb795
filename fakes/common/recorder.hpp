// The transcript recorder (DESIGN.md, "Transcripts").
//
// TranscriptSink is farm-wide and owns DIR: it appends every event to DIR/events.jsonl with one
// write(2) per line, so a farm killed with SIGKILL leaves every event up to the kill; it writes
// DIR/sessions/<server>/<n>.json atomically (temporary file, then rename) when a session ends;
// and it saves payloads under DIR/files/<server>/<n>/. Without a DIR it records nothing and
// every call is cheap.
//
// SessionRecorder records one connection (or one UDP peer). Its events carry `t_ms` since the
// session started, and either `from` (client/server) with the bytes as `text` (valid UTF-8) or
// `base64`, or `event` with a name. finish() writes the session document once; the destructor
// finishes a session that was not finished explicitly, so a transcript is never lost (should that
// fail, out of memory, it says so on stderr rather than throw).
// Single-threaded: all calls come from the farm's io_context thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace protofarm {

using Json = nlohmann::ordered_json;

enum class CloseReason { client, server, reset, timeout, fault, shutdown };
const char* to_string(CloseReason reason);

// ISO 8601 UTC with milliseconds: 2026-11-24T17:14:00.123Z
std::string iso8601(std::chrono::system_clock::time_point t);

// What the farm's observer (the control API) keeps of one session, with or without a
// transcript folder: the recorder keeps it up to date as the session goes.
struct SessionSummary {
  std::uint64_t seq = 0;  // the observer's: sessions across the farm in the order they opened
  std::string server, protocol, peer, local;
  std::uint64_t session = 0;
  std::chrono::system_clock::time_point started, ended;
  std::optional<CloseReason> close;  // set once the session ended
  std::uint64_t bytes_from_client = 0, bytes_from_server = 0;
  std::uint64_t events = 0;  // events recorded (0 when not recording)
};

// Told of every session and, while recording, of every events.jsonl line. Knows no protocol.
// Single-threaded, like the recorder.
class RecordingObserver {
 public:
  virtual ~RecordingObserver() = default;
  // A session began; the recorder updates the summary returned until the session ends.
  virtual std::shared_ptr<SessionSummary> opened(SessionSummary summary) = 0;
  virtual void closed(SessionSummary& summary) = 0;
  // One events.jsonl line of this session (without its newline), as it is written.
  virtual void line(const SessionSummary& summary, std::string_view line) = 0;
  // A `fault` event with this name (counted whether or not transcripts are written).
  virtual void fault(const SessionSummary& summary, std::string_view fault) = 0;
};

class SessionRecorder;

class TranscriptSink {
 public:
  // Without a directory nothing is written. With one, it is created, and a previous run's
  // events.jsonl, sessions/ and files/ in it are removed. Throws std::runtime_error when the
  // directory cannot be prepared.
  explicit TranscriptSink(std::optional<std::filesystem::path> dir = std::nullopt);
  ~TranscriptSink();
  TranscriptSink(const TranscriptSink&) = delete;
  TranscriptSink& operator=(const TranscriptSink&) = delete;

  // Starts recording into dir (see the constructor). Throws std::runtime_error.
  void open(const std::filesystem::path& dir);
  bool enabled() const { return fd_ >= 0; }
  const std::filesystem::path& dir() const { return dir_; }

  // events.jsonl lines are written at once, unless set_deferred_flush() gave a way to run a
  // flush later: then they gather in memory and go out in one write when the farm has handled
  // what is ready (the farm posts the flush to its io_context, which runs it before it waits
  // for more input), or sooner when 64 KiB gather. A farm killed while idle still leaves every
  // event on disk. Session documents are the writer thread's (below).
  using Defer = std::function<void(std::function<void()>)>;
  void set_deferred_flush(Defer defer) { defer_ = std::move(defer); }
  void flush();
  // Waits until the writer has written everything handed over so far (tests; shutdown).
  void sync();
  // Whether the writer is more than 1 MiB behind (a slow disk, or a client sending faster
  // than it can be written): connections then wait before they read more, so memory stays
  // bounded while the disk catches up (Connection::read_some).
  bool congested() const;

  void append_event(const Json& line);
  // Appends one line made of these already serialised parts (the newline is added); the
  // observer sees it as a line of session `from`, when given.
  void append_line(std::initializer_list<std::string_view> parts,
                   const SessionSummary* from = nullptr);

  void set_observer(RecordingObserver* observer) { observer_ = observer; }
  RecordingObserver* observer() const { return observer_; }

  // The document of an open session as it stands (its events so far; "ended" and "close"
  // null, "open": true), or nullopt when no such session is open and recorded. Waits for the
  // writer, so it is for the control API, not for a hot path.
  std::optional<std::string> live_document(const std::string& server, std::uint64_t session);
  // The recorders of open sessions register here while there is an observer (SessionRecorder
  // does it itself).
  void track(SessionRecorder* recorder, bool open);

  // A session document, streamed: its text goes to DIR/sessions/<server>/.<n>.json.part as it
  // is recorded, and finish_session() appends the rest and renames it to <n>.json, so memory
  // does not grow with a session's length. Returns the session's handle (0 when not recording).
  std::uint64_t begin_session(const std::string& server, std::uint64_t session, std::string head);
  void session_text(std::uint64_t handle, std::string text);
  void finish_session(std::uint64_t handle, std::string tail);
  // Saves bytes as DIR/files/<server>/<session>/<name>; returns the path relative to DIR
  // ("files/mail/1/1.eml"), or "" when not recording or the write failed (then nothing is
  // left behind, and the fake must not acknowledge the payload as saved).
  std::string save_file(const std::string& server, std::uint64_t session, const std::string& name,
                        std::string_view bytes);
  // The same on the writer thread, so that creating the file and its folder (the slow calls on
  // a real disk) never hold up the farm's loop: `done` gets what save_file would return, once,
  // on the writer thread (it must hand over to the loop itself, as Session::save does), or at
  // once when not recording. Files are saved in the order asked for. The bytes are not copied:
  // they must stay as they are until `done` is called (sync() waits for that).
  void save_file_async(const std::string& server, std::uint64_t session, const std::string& name,
                       std::string_view bytes, std::function<void(std::string)> done);

 private:
  struct Writer;
  struct WriterJob;
  // Gives the writer a job; it is woken at the next flush (once per burst of the loop).
  void hand_over(WriterJob job);
  void schedule_flush();
  // Says once per run, on stderr, that transcripts cannot be written (a full disk).
  void report_write_error(int error);

  std::filesystem::path dir_;
  int fd_ = -1;
  Defer defer_;
  std::string pending_;            // events.jsonl lines not written yet
  std::uint64_t events_size_ = 0;  // events.jsonl's length: whole lines only
  std::atomic<bool> write_error_reported_{false};
  std::uint64_t next_handle_ = 0;
  bool flush_scheduled_ = false;
  bool writer_wake_ = false;  // jobs were handed over since the last flush
  std::unique_ptr<Writer> writer_;
  RecordingObserver* observer_ = nullptr;
  std::unordered_map<std::uint64_t, SessionRecorder*> open_;  // by handle, with an observer
};

class SessionRecorder {
 public:
  SessionRecorder(TranscriptSink& sink, std::string server, std::string protocol,
                  std::uint64_t session, std::string peer, std::string local);
  ~SessionRecorder();
  SessionRecorder(const SessionRecorder&) = delete;
  SessionRecorder& operator=(const SessionRecorder&) = delete;

  bool recording() const { return sink_.enabled(); }
  bool congested() const { return sink_.congested(); }
  std::uint64_t session() const { return session_; }
  const std::string& server_name() const { return server_; }
  const std::string& peer() const { return peer_; }
  std::uint64_t handle() const { return handle_; }

  // `extra` is merged into the event (command, args, rule, ...). Empty byte strings are skipped.
  void client(std::string_view bytes, Json extra = nullptr);
  void server(std::string_view bytes, Json extra = nullptr);
  void event(std::string_view name, Json extra = nullptr);
  // The same on a named channel of the session (DESIGN.md, "Transcripts": FTP's "data", a CGI
  // child's "cgi"): the event carries "channel". An empty name is the main connection.
  void client(std::string_view bytes, std::string_view channel, Json extra);
  void server(std::string_view bytes, std::string_view channel, Json extra);
  void event(std::string_view name, std::string_view channel, Json extra);
  // The session is a datagram peer's: its document says "transport": "datagram", so readers
  // (verify) keep each datagram's lines apart without knowing the protocol.
  void set_datagrams();
  // Saves a payload file for this session; returns its path relative to DIR ("" when off).
  std::string save_file(const std::string& name, std::string_view bytes);
  void save_file_async(const std::string& name, std::string_view bytes,
                       std::function<void(std::string)> done);

  // Writes the session document; later calls do nothing.
  void finish(CloseReason reason);
  // Hands the document text waiting here to the writer (TranscriptSink::live_document).
  void hand_over();
  bool finished() const { return finished_; }
  double elapsed_ms() const;

 private:
  void add(const Json& event);
  // Adds an event already serialised as a JSON object (its text, from "{" to "}").
  void add_text(std::string_view text);
  // A bytes event, serialised by hand: the most frequent event, kept cheap to record.
  void add_bytes(const char* from, std::string_view bytes, Json extra);
  // Milliseconds since the session started, to the microsecond, as JSON writes them.
  std::string t_ms() const;

  TranscriptSink& sink_;
  std::string server_, protocol_, peer_, local_;
  std::uint64_t session_;
  std::string line_prefix_;  // {"server":...,"session":N  for the events.jsonl lines
  std::chrono::steady_clock::time_point start_;
  std::chrono::system_clock::time_point started_wall_;
  std::uint64_t handle_ = 0;  // the sink's handle of this session's document
  std::string doc_pending_;   // document text not handed to the writer yet (bounded)
  bool first_event_ = true;
  bool finished_ = false;
  bool datagrams_ = false;
  std::shared_ptr<SessionSummary> summary_;  // the observer's, when there is one
};

}  // namespace protofarm
