#include "fakes/common/memory_transport.hpp"

#include <algorithm>
#include <cstring>

namespace protofarm {

struct MemoryState {
  explicit MemoryState(const asio::any_io_executor& ex) : executor(ex), wake(ex) {
    wake.expires_at(asio::steady_timer::time_point::max());
  }
  asio::any_io_executor executor;
  asio::steady_timer wake;  // a read waiting for input waits here; cancelled to wake it
  std::string to_server;
  std::string from_server;
  bool client_closed = false;
  bool client_reset = false;
  bool server_open = true;
  bool server_closed = false;
  bool server_reset = false;
  std::size_t ops = 0;
  std::size_t fail_at = 0;
  error_code fail_with;

  void notify() {
    wake.cancel();
    wake.expires_at(asio::steady_timer::time_point::max());
  }
  // Counts one operation; the error it must fail with, if any.
  error_code count() {
    ++ops;
    if (fail_at != 0 && ops >= fail_at) return fail_with;
    if (client_reset) return asio::error::connection_reset;
    return {};
  }
};

namespace {

class MemoryStream final : public ByteStream {
 public:
  explicit MemoryStream(std::shared_ptr<MemoryState> state) : s_(std::move(state)) {}
  ~MemoryStream() override { close(); }

  asio::any_io_executor executor() override { return s_->executor; }
  bool is_open() const override { return s_->server_open; }
  std::string peer() const override { return "memory:client"; }
  std::string local() const override { return "memory:server"; }

  Task<Result> read_some(asio::mutable_buffer buf) override {
    for (;;) {
      if (!s_->server_open) co_return Result{asio::error::operation_aborted, 0};
      if (!s_->to_server.empty() || s_->client_closed || s_->client_reset) break;
      // Nothing yet: wait until the client sends, closes or the server's end is closed.
      co_await s_->wake.async_wait(use_tuple);
    }
    if (const error_code ec = s_->count()) co_return Result{ec, 0};
    if (s_->to_server.empty()) co_return Result{asio::error::eof, 0};
    const std::size_t n = std::min(buf.size(), s_->to_server.size());
    std::memcpy(buf.data(), s_->to_server.data(), n);
    s_->to_server.erase(0, n);
    co_return Result{error_code{}, n};
  }
  Task<Result> write(asio::const_buffer buf) override {
    if (!s_->server_open) co_return Result{asio::error::operation_aborted, 0};
    if (const error_code ec = s_->count()) co_return Result{ec, 0};
    s_->from_server.append(static_cast<const char*>(buf.data()), buf.size());
    co_return Result{error_code{}, buf.size()};
  }
  Task<Result> read_raw_some(asio::mutable_buffer buf) override {
    co_return co_await read_some(buf);
  }
  void shutdown_send() override { s_->server_closed = true; }
  void reset() override {
    s_->server_reset = true;
    close();
  }
  void close() override {
    if (!s_->server_open) return;
    s_->server_open = false;
    s_->server_closed = true;
    s_->notify();
  }
  Task<error_code> start_tls(asio::ssl::context&) override {
    co_return asio::error::operation_not_supported;
  }
  Task<error_code> stop_tls() override { co_return error_code{}; }
  bool tls_active() const override { return false; }
  TlsInfo tls_info() const override { return {}; }

 private:
  std::shared_ptr<MemoryState> s_;
};

}  // namespace

MemoryPeer::MemoryPeer(const asio::any_io_executor& ex)
    : state_(std::make_shared<MemoryState>(ex)) {}
MemoryPeer::~MemoryPeer() = default;

std::unique_ptr<ByteStream> MemoryPeer::server_end() {
  if (handed_out_) return nullptr;
  handed_out_ = true;
  return std::make_unique<MemoryStream>(state_);
}

void MemoryPeer::send(std::string_view bytes) {
  state_->to_server.append(bytes);
  state_->notify();
}
void MemoryPeer::close() {
  state_->client_closed = true;
  state_->notify();
}
void MemoryPeer::reset() {
  state_->client_reset = true;
  state_->notify();
}
const std::string& MemoryPeer::received() const { return state_->from_server; }
bool MemoryPeer::server_closed() const { return state_->server_closed; }
bool MemoryPeer::server_reset() const { return state_->server_reset; }
void MemoryPeer::fail_at(std::size_t nth, error_code error) {
  state_->fail_at = nth == 0 ? 0 : state_->ops + nth;
  state_->fail_with = error;
}
std::size_t MemoryPeer::operations() const { return state_->ops; }

}  // namespace protofarm
