// What a Connection reads from and writes to: a socket (plain, or TLS once upgraded) in the farm,
// or an in-memory pipe in tests (memory_transport.hpp), so a whole session runs without a network
// and any one of its reads or writes can be made to fail.
//
// Operations report errors as values (the error codes a socket gives: eof, connection_reset,
// operation_aborted after close(), ...). close() cancels every pending operation; reset() is an
// abortive close (RST on a socket). One reader and one writer may be pending at a time.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <tuple>

#include "fakes/common/asio.hpp"

namespace protofarm {

class ByteStream {
 public:
  using Result = std::tuple<error_code, std::size_t>;
  virtual ~ByteStream() = default;

  virtual asio::any_io_executor executor() = 0;
  virtual bool is_open() const = 0;
  virtual std::string peer() const = 0;  // "127.0.0.1:40000", "[::1]:1", "unix:", "memory"
  virtual std::string local() const = 0;
  // At least one byte, through TLS when it is active.
  virtual Task<Result> read_some(asio::mutable_buffer buf) = 0;
  // Every byte, through TLS when it is active.
  virtual Task<Result> write(asio::const_buffer buf) = 0;
  // Below TLS: what is left on the wire after an orderly close (the lingering drain).
  virtual Task<Result> read_raw_some(asio::mutable_buffer buf) = 0;
  virtual void shutdown_send() = 0;
  virtual void reset() = 0;
  virtual void close() = 0;

  // Server-side TLS handshake on this transport; afterwards reads and writes go through TLS.
  virtual Task<error_code> start_tls(asio::ssl::context& context) = 0;
  // Sends close_notify (the peer's answer is not awaited).
  virtual Task<error_code> stop_tls() = 0;
  virtual bool tls_active() const = 0;
  // The TLS session's version, cipher and SNI name (empty when unknown).
  struct TlsInfo {
    std::string version, cipher, sni;
    bool resumed = false;  // the handshake resumed an earlier session (a ticket or session id)
    std::string client_subject;  // the client certificate's subject, when it sent one
  };
  virtual TlsInfo tls_info() const = 0;
};

// A connected stream socket (TCP, Unix) of the farm.
std::unique_ptr<ByteStream> socket_stream(StreamSocket socket);

}  // namespace protofarm
