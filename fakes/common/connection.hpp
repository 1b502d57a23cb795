// One stream connection (TCP over IPv4/IPv6, or a Unix stream socket), plain or TLS: accepted by
// a listener, or a session's extra channel (channels.hpp).
//
// The session coroutine owns its Connection. Every read and write has a deadline (the idle
// timeout): when it passes, the socket is closed, the pending operation ends and the close
// reason becomes `timeout`. Network trouble comes back as an IoStatus, never as an exception.
// Reads and writes keep separate deadlines and every sleep has its own timer, so one coroutine
// may read while another writes or waits (an FTP ABOR read during a paced transfer) without
// either cancelling the other's timer.
//
// Writes are recorded as `server` events exactly as they go out (one event per fragment when a
// write is fragmented or paced); reads are not recorded here, because the fake records what it
// consumes together with the parsed command. The connection-level faults of the server (pace,
// fragment, latency, reset after N bytes) are applied to every read and write.
//
// Farm shutdown calls abort() on every live connection through the ConnectionRegistry: the
// socket closes, timers are cancelled, and each session ends with close reason `shutdown`.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "fakes/common/asio.hpp"
#include "fakes/common/byte_stream.hpp"
#include "fakes/common/faults.hpp"
#include "fakes/common/recorder.hpp"

namespace protofarm {

enum class IoStatus { ok, eof, timeout, reset, aborted, error };

struct IoResult {
  IoStatus status = IoStatus::ok;
  std::size_t bytes = 0;
  bool ok() const { return status == IoStatus::ok; }
};

class Connection;

// Live connections of the farm, so that shutdown can end them all.
class ConnectionRegistry {
 public:
  void add(Connection* c) { live_.insert(c); }
  void remove(Connection* c) { live_.erase(c); }
  // The farm is stopping: every connection drains (Connection::drain()).
  void drain_all();
  std::size_t size() const { return live_.size(); }

 private:
  std::set<Connection*> live_;
};

// The implicit default constructor is noexcept and builds `extra` with nlohmann::json's noexcept
// null constructor; clang-tidy 14 follows that into the constructor that allocates for an object
// or array (never taken for null) and reports a throw. nlohmann silences the same report there.
struct WriteOptions {  // NOLINT(bugprone-exception-escape): json's null ctor cannot throw
  const Shaping* shaping = nullptr;  // overrides the connection's fault shaping when it has any
  Json extra = nullptr;              // merged into the recorded server event (e.g. "rule")
  // False: the bytes are counted but not recorded (a download whose content the transcript
  // names by size and digest instead, as FTP's RETR does).
  bool record = true;
};

class Connection {
 public:
  Connection(StreamSocket socket, SessionRecorder& recorder, ConnectionRegistry* registry,
             Duration idle_timeout);
  // On any transport: an in-memory one in tests (memory_transport.hpp).
  Connection(std::unique_ptr<ByteStream> transport, SessionRecorder& recorder,
             ConnectionRegistry* registry, Duration idle_timeout);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Reads what is available (at least one byte) into buf. Not recorded.
  Task<IoResult> read_some(asio::mutable_buffer buf);
  // Writes all bytes, shaped, and records them. False when the connection is gone.
  Task<bool> write(std::string_view bytes, WriteOptions options = {});
  // Waits without blocking other sessions. False when the connection was aborted meanwhile.
  Task<bool> sleep(Duration d);
  // Server-side TLS handshake on this connection (implicit TLS, or after STARTTLS). Records a
  // `tls` event (version, cipher) or a `tls_failed` event; false on failure.
  Task<bool> start_tls(asio::ssl::context& context);

  // Orderly close: TLS close_notify, FIN, then a short wait for the client's own close so that
  // the last reply is not lost to a reset caused by unread input. Drained bytes are recorded on
  // a plain connection (marked after_close); under TLS they are records no longer decrypted,
  // and are dropped.
  Task<void> close(CloseReason reason = CloseReason::server);
  // The first half of close(): close_notify under TLS, then FIN; nothing more is sent, and
  // close() later only waits for the client's close. (An FTP download ends so, then the 226
  // goes out, then the data connection is closed: a client may read the 226 before it closes.)
  Task<void> finish_sending(CloseReason reason = CloseReason::server);
  // Abortive close (RST), as a real reset looks to the client.
  void reset(CloseReason reason = CloseReason::reset);
  // Stops answering: records whatever the client sends until it closes or the farm stops.
  Task<void> hang();
  // Ends the connection from outside (farm shutdown).
  void abort(CloseReason reason);
  // The farm is stopping, with a grace period: a connection waiting for its client ends now
  // (close reason shutdown); one in the middle of answering (a reply being written or paced, a
  // rule's delay, a transfer) finishes that, and ends at its next read.
  void drain();

  bool is_open() const { return transport_->is_open() && !closing_; }
  bool tls_active() const { return transport_->tls_active(); }
  // Whether the TLS handshake resumed an earlier session (FTP's data channels must, with
  // require_session_reuse).
  bool tls_resumed() const { return tls_resumed_; }
  CloseReason close_reason() const { return reason_.value_or(CloseReason::server); }
  void note_close_reason(CloseReason reason) {
    if (!reason_) reason_ = reason;
  }
  std::uint64_t bytes_sent() const { return sent_; }
  std::uint64_t bytes_received() const { return received_; }

  SessionRecorder& recorder() { return recorder_; }
  // The session channel this connection records on ("" for the main connection; "data" for an
  // FTP data connection): every event it records carries it.
  void set_channel(std::string channel) { channel_ = std::move(channel); }
  const std::string& channel() const { return channel_; }
  const std::string& peer() const { return peer_; }
  const std::string& local() const { return local_; }
  Duration idle_timeout() const { return idle_timeout_; }
  void set_idle_timeout(Duration d) { idle_timeout_ = d; }
  // A deadline for reads beside the idle timeout, whatever arrives meanwhile: the line reader
  // sets it when a command line (or request head) begins, so a client sending one byte at a
  // time cannot hold a session past it; time_point::max() lifts it.
  void set_frame_deadline(std::chrono::steady_clock::time_point at);
  // Starts the idle timeout afresh for a read already pending (one begun while the timeout was
  // off: FTP's control connection waits without a deadline while a transfer runs).
  void restart_read_deadline();
  ConnectionFaults& faults() { return faults_; }
  asio::any_io_executor executor() { return transport_->executor(); }

  static std::string describe(const StreamSocket::endpoint_type& ep);

 private:
  Task<IoResult> raw_write(std::string_view bytes);
  IoResult map_error(const error_code& ec, std::size_t n) const;
  void close_socket();

  std::unique_ptr<ByteStream> transport_;
  SessionRecorder& recorder_;
  ConnectionRegistry* registry_;
  Duration idle_timeout_;
  ConnectionFaults faults_;
  std::string peer_, local_;
  std::string channel_;

  // One deadline per direction: a pending read and a pending write each have their own.
  struct Deadline {
    explicit Deadline(const asio::any_io_executor& ex) : timer(ex) {}
    asio::steady_timer timer;
    std::chrono::steady_clock::time_point at = std::chrono::steady_clock::time_point::max();
    int pending = 0;
    bool armed = false;
  };
  void begin_io(
      Deadline& d, Duration timeout,
      std::chrono::steady_clock::time_point cap = std::chrono::steady_clock::time_point::max());
  void end_io(Deadline& d);
  void arm(Deadline& d);

  Deadline read_deadline_;
  std::chrono::steady_clock::time_point frame_deadline_ =
      std::chrono::steady_clock::time_point::max();
  Deadline write_deadline_;
  std::set<asio::steady_timer*> sleepers_;  // every sleep() in progress, for abort and close
  bool timed_out_ = false;
  bool aborted_ = false;
  bool closing_ = false;
  bool peer_finished_ = false;
  bool reading_ = false;      // waiting for the client
  bool draining_ = false;     // the farm is stopping: the next read ends the connection
  bool tls_resumed_ = false;  // the peer's end of input was seen: reads return at once
  std::optional<CloseReason> reason_;
  std::uint64_t sent_ = 0;
  std::uint64_t received_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace protofarm
