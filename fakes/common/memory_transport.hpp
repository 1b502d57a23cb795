// An in-memory ByteStream for tests and fuzzers (after Beast's test::stream): a whole session of
// any fake runs on it without a socket, and fail_at() makes its Nth read or write fail, so a test
// can walk every error path of a session (tests/unit/session_faults_test.cpp).
//
// MemoryPeer is the client's end, owned by the test; the server's end is the ByteStream a
// Connection takes. Both share one state on the loop's executor, single-threaded. What the
// client sends is queued and read by the server; what the server writes is collected; the
// client's close() is the server's end of input. TLS is not available in memory (start_tls
// fails with operation_not_supported, which the session records as tls_failed).
#pragma once

#include <memory>
#include <string>

#include "fakes/common/byte_stream.hpp"

namespace protofarm {

struct MemoryState;

class MemoryPeer {
 public:
  explicit MemoryPeer(const asio::any_io_executor& ex);
  ~MemoryPeer();
  MemoryPeer(const MemoryPeer&) = delete;
  MemoryPeer& operator=(const MemoryPeer&) = delete;

  // The server's end, once (a second call gives nullptr).
  std::unique_ptr<ByteStream> server_end();

  // The client sends bytes (queued for the server's reads).
  void send(std::string_view bytes);
  // The client closes its sending side: the server reads end of input once the queue is empty.
  void close();
  // The client resets: the server's next read or write fails with connection_reset.
  void reset();
  // Everything the server wrote so far.
  const std::string& received() const;
  // Whether the server closed or reset its end.
  bool server_closed() const;
  bool server_reset() const;

  // The nth transport operation from now (1-based, reads and writes counted together) fails
  // with `error`, and so does every later one: like a connection that broke there. 0: never.
  void fail_at(std::size_t nth, error_code error = asio::error::connection_reset);
  // How many reads and writes the server's end has done.
  std::size_t operations() const;

 private:
  std::shared_ptr<MemoryState> state_;
  bool handed_out_ = false;
};

}  // namespace protofarm
