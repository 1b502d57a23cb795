#include "fakes/common/connection.hpp"

#include <algorithm>

#include "fakes/common/net.hpp"

namespace protofarm {

namespace {
constexpr Duration kLingerOnClose = std::chrono::seconds(2);
constexpr std::size_t kMaxDrainRecorded = std::size_t{64} * 1024;
}  // namespace

void ConnectionRegistry::drain_all() {
  // drain() may end sessions that remove themselves: iterate over a copy.
  const std::set<Connection*> live = live_;
  for (Connection* c : live) c->drain();
}

std::string Connection::describe(const StreamSocket::endpoint_type& ep) {
  return describe_endpoint(ep.data(), ep.size());
}

Connection::Connection(StreamSocket socket, SessionRecorder& recorder, ConnectionRegistry* registry,
                       Duration idle_timeout)
    : Connection(socket_stream(std::move(socket)), recorder, registry, idle_timeout) {}

Connection::Connection(std::unique_ptr<ByteStream> transport, SessionRecorder& recorder,
                       ConnectionRegistry* registry, Duration idle_timeout)
    : transport_(std::move(transport)),
      recorder_(recorder),
      registry_(registry),
      idle_timeout_(idle_timeout),
      read_deadline_(transport_->executor()),
      write_deadline_(transport_->executor()) {
  peer_ = transport_->peer();
  local_ = transport_->local();
  if (registry_) registry_->add(this);
}

Connection::~Connection() {
  *alive_ = false;
  if (registry_) registry_->remove(this);
  close_socket();
}

void Connection::close_socket() {
  transport_->close();
  read_deadline_.timer.cancel();
  write_deadline_.timer.cancel();
  for (asio::steady_timer* t : sleepers_) t->cancel();
}

void Connection::begin_io(Deadline& d, Duration timeout,
                          std::chrono::steady_clock::time_point cap) {
  ++d.pending;
  d.at = timeout == Duration::max() || timeout.count() <= 0
             ? std::chrono::steady_clock::time_point::max()
             : std::chrono::steady_clock::now() + timeout;
  d.at = std::min(d.at, cap);
  if (d.at == std::chrono::steady_clock::time_point::max()) return;
  if (d.armed && d.at < d.timer.expiry()) {
    d.timer.cancel();  // the old wait ends as aborted; arm a sooner one below
    d.armed = false;
  }
  arm(d);
}

void Connection::restart_read_deadline() {
  if (read_deadline_.pending == 0) return;
  --read_deadline_.pending;
  begin_io(read_deadline_, idle_timeout_, frame_deadline_);
}

void Connection::set_frame_deadline(std::chrono::steady_clock::time_point at) {
  frame_deadline_ = at;
}

void Connection::end_io(Deadline& d) {
  if (d.pending > 0) --d.pending;
}

void Connection::arm(Deadline& d) {
  if (d.armed || d.at == std::chrono::steady_clock::time_point::max()) return;
  d.armed = true;
  d.timer.expires_at(d.at);
  d.timer.async_wait([this, &d, alive = alive_, expiry = d.at](error_code ec) {
    if (!*alive) return;
    if (ec) return;  // cancelled: whoever cancelled re-arms if needed
    if (d.timer.expiry() != expiry) return;
    d.armed = false;
    if (!transport_->is_open() || d.pending == 0) return;
    if (std::chrono::steady_clock::now() >= d.at) {
      timed_out_ = true;
      note_close_reason(CloseReason::timeout);
      close_socket();
      return;
    }
    arm(d);
  });
}

IoResult Connection::map_error(const error_code& ec, std::size_t n) const {
  if (!ec) return {IoStatus::ok, n};
  if (timed_out_) return {IoStatus::timeout, n};
  if (aborted_) return {IoStatus::aborted, n};
  if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated) return {IoStatus::eof, n};
  if (ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
      ec == asio::error::connection_aborted)
    return {IoStatus::reset, n};
  if (ec == asio::error::operation_aborted || ec == asio::error::bad_descriptor)
    return {IoStatus::aborted, n};
  return {IoStatus::error, n};
}

Task<IoResult> Connection::read_some(asio::mutable_buffer buf) {
  if (draining_ && !aborted_) abort(CloseReason::shutdown);
  if (!transport_->is_open() || closing_ || peer_finished_)
    co_return IoResult{timed_out_ ? IoStatus::timeout : IoStatus::aborted, 0};
  // The transcript writer is far behind (a slow disk, or clients sending faster than it can
  // be written): read no more until it catches up, so what waits for it stays bounded.
  while (recorder_.congested() && !draining_) {
    if (!co_await sleep(std::chrono::milliseconds(2)))
      co_return IoResult{timed_out_ ? IoStatus::timeout : IoStatus::aborted, 0};
  }
  begin_io(read_deadline_, idle_timeout_, frame_deadline_);
  reading_ = true;
  auto [ec, n] = co_await transport_->read_some(buf);
  reading_ = false;
  end_io(read_deadline_);
  IoResult r = map_error(ec, n);
  if (r.status == IoStatus::eof) {
    note_close_reason(CloseReason::client);
    peer_finished_ = true;
  }
  if (r.status == IoStatus::reset || r.status == IoStatus::error)
    note_close_reason(CloseReason::reset);
  if (!r.ok()) co_return r;
  received_ += n;
  if (faults_.reset_after_received && received_ >= *faults_.reset_after_received) {
    // Hand over the bytes up to the limit, then reset as the fault says.
    const std::uint64_t over = received_ - *faults_.reset_after_received;
    r.bytes = n - static_cast<std::size_t>(std::min<std::uint64_t>(over, n));
    received_ = *faults_.reset_after_received;
    Json e = Json::object();
    e["fault"] = "reset_after";
    e["received"] = received_;
    recorder_.event("fault", channel_, std::move(e));
    reset(CloseReason::fault);
    if (r.bytes == 0) r.status = IoStatus::aborted;
  }
  co_return r;
}

Task<IoResult> Connection::raw_write(std::string_view bytes) {
  if (!transport_->is_open() || closing_) co_return IoResult{IoStatus::aborted, 0};
  begin_io(write_deadline_, idle_timeout_);
  auto [ec, n] = co_await transport_->write(asio::buffer(bytes.data(), bytes.size()));
  end_io(write_deadline_);
  IoResult r = map_error(ec, n);
  if (r.status == IoStatus::reset || r.status == IoStatus::error)
    note_close_reason(CloseReason::reset);
  co_return r;
}

Task<bool> Connection::write(std::string_view bytes, WriteOptions options) {
  if (bytes.empty()) co_return is_open();
  const Shaping& shaping =
      (options.shaping && options.shaping->any()) ? *options.shaping : faults_.shaping;
  if (faults_.latency.count() > 0 && !co_await sleep(faults_.latency)) co_return false;

  std::size_t limit = bytes.size();
  bool reset_at_limit = false;
  if (faults_.reset_after_sent) {
    const std::uint64_t room =
        sent_ >= *faults_.reset_after_sent ? 0 : *faults_.reset_after_sent - sent_;
    if (room <= bytes.size()) {
      limit = static_cast<std::size_t>(room);
      reset_at_limit = true;
    }
  }
  std::size_t piece = limit;
  Duration pause{0};
  if (shaping.fragment > 0) {
    piece = shaping.fragment;
    pause = shaping.gap;
  } else if (shaping.pace) {
    // Ticks of about 20ms: one byte at a time for slow rates, bigger pieces for fast ones.
    piece = std::max<std::size_t>(1, static_cast<std::size_t>(*shaping.pace / 50.0));
    pause = Duration{static_cast<std::int64_t>(static_cast<double>(piece) / *shaping.pace * 1e6)};
  }
  std::size_t offset = 0;
  while (offset < limit) {
    const std::size_t n = std::min(piece, limit - offset);
    if (offset > 0 && pause.count() > 0 && !co_await sleep(pause)) co_return false;
    const IoResult r = co_await raw_write(bytes.substr(offset, n));
    if (options.record) recorder_.server(bytes.substr(offset, r.bytes), channel_, options.extra);
    sent_ += r.bytes;
    offset += r.bytes;
    if (!r.ok()) co_return false;
  }
  if (reset_at_limit) {
    Json e = Json::object();
    e["fault"] = "reset_after";
    e["sent"] = sent_;
    recorder_.event("fault", channel_, std::move(e));
    reset(CloseReason::fault);
    co_return false;
  }
  co_return true;
}

Task<bool> Connection::sleep(Duration d) {
  if (!transport_->is_open()) co_return false;
  if (d.count() <= 0) co_return true;
  // A timer of its own: concurrent sleeps (a paced write beside a delayed reply) never cancel
  // each other; close_socket() cancels them all.
  asio::steady_timer timer(transport_->executor(), d);
  sleepers_.insert(&timer);
  auto [ec] = co_await timer.async_wait(use_tuple);
  sleepers_.erase(&timer);
  co_return !ec && transport_->is_open() && !aborted_;
}

Task<bool> Connection::start_tls(asio::ssl::context& context) {
  if (!transport_->is_open()) co_return false;
  begin_io(read_deadline_, idle_timeout_);
  const error_code ec = co_await transport_->start_tls(context);
  end_io(read_deadline_);
  if (ec) {
    Json e = Json::object();
    e["error"] = ec.message();
    recorder_.event("tls_failed", channel_, std::move(e));
    const IoResult r = map_error(ec, 0);
    note_close_reason(r.status == IoStatus::timeout   ? CloseReason::timeout
                      : r.status == IoStatus::aborted ? CloseReason::shutdown
                                                      : CloseReason::client);
    close_socket();
    co_return false;
  }
  const ByteStream::TlsInfo info = transport_->tls_info();
  Json e = Json::object();
  e["version"] = info.version;
  e["cipher"] = info.cipher;
  if (!info.sni.empty()) e["sni"] = info.sni;
  if (info.resumed) e["resumed"] = true;
  if (!info.client_subject.empty()) e["client_certificate"] = info.client_subject;
  tls_resumed_ = info.resumed;
  recorder_.event("tls", channel_, std::move(e));
  co_return true;
}

Task<void> Connection::finish_sending(CloseReason reason) {
  if (!transport_->is_open() || closing_) co_return;
  note_close_reason(reason);
  if (transport_->tls_active()) {
    begin_io(write_deadline_, std::chrono::seconds(1));
    co_await transport_->stop_tls();  // sends close_notify; the peer's is optional
    end_io(write_deadline_);
  }
  closing_ = true;
  transport_->shutdown_send();
}

Task<void> Connection::close(CloseReason reason) {
  if (!transport_->is_open()) co_return;
  const bool tls = transport_->tls_active();
  co_await finish_sending(reason);
  // Lingering close: read until the client closes too (or briefly), so that input we never
  // read does not turn our close into a reset that eats the last reply on the client's side.
  std::string buf(4096, '\0');
  std::size_t recorded = 0;
  while (transport_->is_open()) {
    begin_io(read_deadline_, std::min(idle_timeout_, kLingerOnClose));
    auto [rec, n] = co_await transport_->read_raw_some(asio::buffer(buf));
    end_io(read_deadline_);
    if (rec) break;
    if (!tls && recorded < kMaxDrainRecorded) {
      Json e = Json::object();
      e["after_close"] = true;
      recorder_.client(std::string_view(buf.data(), n), channel_, std::move(e));
      recorded += n;
    }
  }
  close_socket();
}

void Connection::reset(CloseReason reason) {
  if (!transport_->is_open()) return;
  note_close_reason(reason);
  transport_->reset();
  close_socket();
}

Task<void> Connection::hang() {
  recorder_.event("hang", channel_, nullptr);
  std::string buf(4096, '\0');
  while (transport_->is_open() && !draining_) {
    begin_io(read_deadline_, Duration::max());
    reading_ = true;
    auto [ec, n] = co_await transport_->read_some(asio::buffer(buf));
    reading_ = false;
    end_io(read_deadline_);
    const IoResult r = map_error(ec, n);
    if (!r.ok()) {
      if (r.status == IoStatus::eof) note_close_reason(CloseReason::client);
      if (r.status == IoStatus::reset) note_close_reason(CloseReason::reset);
      break;
    }
    received_ += n;
    recorder_.client(std::string_view(buf.data(), n), channel_, nullptr);
  }
  close_socket();
}

void Connection::drain() {
  draining_ = true;
  if (reading_) abort(CloseReason::shutdown);
}

void Connection::abort(CloseReason reason) {
  aborted_ = true;
  note_close_reason(reason);
  close_socket();
}

}  // namespace protofarm
