// The control API's view of the farm as it runs (docs/control-api.md): every session's summary,
// the transcript events as they happen (for Server-Sent Events), and the counters behind
// /metrics. It is the recorder's observer (fakes/common/recorder.hpp), so it sees what the
// recorder sees and knows no protocol.
//
// Memory is bounded whatever the farm does: the last kMaxSummaries session summaries and the
// last kMaxEventBytes of events are held; older ones are dropped (they are on disk under
// --transcripts). An SSE client reads the shared buffer at its own position, so a client that
// stops reading costs nothing here: it finds a gap when it reads again.
// Single-threaded: everything runs on the farm's io_context.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fakes/common/asio.hpp"
#include "fakes/common/recorder.hpp"

namespace protofarm::control {

class Hub final : public RecordingObserver {
 public:
  static constexpr std::size_t kMaxSummaries = 100'000;
  static constexpr std::size_t kMaxEventBytes = std::size_t{8} * 1024 * 1024;

  // `recording`: whether the sink writes transcripts. Without, the hub makes the open and close
  // events itself, so SSE clients still see sessions come and go.
  Hub(asio::io_context& io, bool recording)
      : io_(io), recording_(recording), wake_timer_(std::in_place, io) {}

  // The io_context is about to go while the hub stays (sessions still finishing report to it):
  // its timer goes first, and nobody is woken any more.
  void detach() {
    waiters_.clear();
    wake_timer_.reset();
  }

  // RecordingObserver
  std::shared_ptr<SessionSummary> opened(SessionSummary summary) override;
  void closed(SessionSummary& summary) override;
  void line(const SessionSummary& summary, std::string_view line) override;
  void fault(const SessionSummary& summary, std::string_view fault) override;

  bool recording() const { return recording_; }

  // Summaries, oldest first: of one server (all when empty), with seq > since_seq or started
  // at or after since_time, the last `limit` of them.
  std::vector<std::shared_ptr<const SessionSummary>> sessions(
      const std::string& server, std::uint64_t since_seq,
      std::optional<std::chrono::system_clock::time_point> since_time, std::size_t limit) const;
  const SessionSummary* find(const std::string& server, std::uint64_t session) const;
  std::uint64_t last_seq() const { return next_seq_ - 1; }
  std::uint64_t open_sessions(const std::string& server) const;
  const std::map<std::string, std::uint64_t>& faults(const std::string& server) const;
  // Bytes each way of a server's sessions (the closed ones and those still open).
  std::pair<std::uint64_t, std::uint64_t> bytes(const std::string& server) const;
  std::uint64_t events_total() const { return next_id_ - 1; }

  // The events after `after_id` (of `server`, when not empty) in SSE form, up to about
  // max_bytes; `after_id` moves past what was taken (and past other servers' events). When
  // events after `after_id` are gone already, `missed` says how many.
  // The text is shared: the clients at one position (all of them, after a wake-up) are given
  // the same batch, formatted once.
  struct Batch {
    std::shared_ptr<const std::string> data;
    std::uint64_t missed = 0;
    const std::string& text() const {
      static const std::string kEmpty;
      return data ? *data : kEmpty;
    }
  };
  Batch take(std::uint64_t& after_id, const std::string& server, std::size_t max_bytes) const;
  std::uint64_t last_event_id() const { return next_id_ - 1; }

  // An SSE client waits for events: the timer's wait is cancelled when some arrived. Waiters
  // are woken at once after a quiet spell, then at most every kWakeInterval, so that a burst of
  // events goes out in a few large writes rather than one write per event per client (and one
  // wake-up of each client).
  static constexpr auto kWakeInterval = std::chrono::milliseconds(200);
  void add_waiter(asio::steady_timer* timer) { waiters_.insert(timer); }
  void remove_waiter(asio::steady_timer* timer) { waiters_.erase(timer); }
  // Wakes every waiting client now (the farm is stopping).
  void cancel_waiters() {
    const auto waiters = std::exchange(waiters_, {});
    for (asio::steady_timer* t : waiters) t->cancel();
    if (wake_timer_) wake_timer_->cancel();
  }
  std::size_t& sse_clients() { return sse_clients_; }

  static Json to_json(const SessionSummary& s);

 private:
  // The events are held in chunks of about kChunkBytes: one line costs a copy into the newest
  // chunk, not an allocation, and the oldest chunk goes whole when the buffer is full.
  static constexpr std::size_t kChunkBytes = std::size_t{1} << 20;
  struct Event {
    std::uint64_t id;
    std::uint32_t offset, size;
    std::uint32_t server;  // index into servers_
  };
  struct Chunk {
    std::string text;
    std::vector<Event> events;
  };
  struct Totals {
    std::uint64_t open = 0;
    std::uint64_t closed_from_client = 0, closed_from_server = 0;
    std::map<std::string, std::uint64_t> faults;
  };
  void push(const std::string& server, std::string_view line);
  std::uint32_t server_index(const std::string& server);
  void wake();

  asio::io_context& io_;
  bool recording_;
  std::deque<std::shared_ptr<SessionSummary>> summaries_;
  std::map<std::string, Totals> totals_;
  std::map<std::uint64_t, std::shared_ptr<SessionSummary>> open_;  // by seq
  std::uint64_t next_seq_ = 1;
  std::deque<Chunk> chunks_;
  Chunk spare_;   // the last chunk dropped, emptied, kept for the next
  struct Taken {  // the last batch take() made, and what it was asked
    std::uint64_t after = 0, until = 0, first_held = 0;
    std::string server;
    std::size_t max_bytes = 0;
    Batch batch;
  };
  mutable Taken last_taken_;
  std::size_t event_bytes_ = 0;
  std::uint64_t next_id_ = 1;
  std::vector<std::string> servers_;
  std::uint32_t last_server_index_ = 0;  // the last one pushed
  std::set<asio::steady_timer*> waiters_;
  std::optional<asio::steady_timer> wake_timer_;
  bool wake_armed_ = false;
  std::chrono::steady_clock::time_point last_wake_{};
  std::size_t sse_clients_ = 0;
};

}  // namespace protofarm::control
