#include "fakes/common/byte_stream.hpp"

#include <openssl/bio.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <boost/asio/write.hpp>

#include "fakes/common/net.hpp"

namespace protofarm {

namespace {

class SocketStream final : public ByteStream {
 public:
  explicit SocketStream(StreamSocket socket) : socket_(std::move(socket)) {}

  asio::any_io_executor executor() override { return socket_.get_executor(); }
  bool is_open() const override { return socket_.is_open(); }
  std::string peer() const override {
    error_code ec;
    const auto ep = socket_.remote_endpoint(ec);
    return describe_endpoint(ep.data(), ep.size());
  }
  std::string local() const override {
    error_code ec;
    const auto ep = socket_.local_endpoint(ec);
    return describe_endpoint(ep.data(), ep.size());
  }

  Task<Result> read_some(asio::mutable_buffer buf) override {
    if (tls_) co_return co_await tls_->async_read_some(buf, use_tuple);
    co_return co_await socket_.async_read_some(buf, use_tuple);
  }
  Task<Result> write(asio::const_buffer buf) override {
    if (tls_) co_return co_await asio::async_write(*tls_, buf, use_tuple);
    co_return co_await asio::async_write(socket_, buf, use_tuple);
  }
  Task<Result> read_raw_some(asio::mutable_buffer buf) override {
    co_return co_await socket_.async_read_some(buf, use_tuple);
  }
  void shutdown_send() override {
    error_code ec;
    socket_.shutdown(asio::socket_base::shutdown_send, ec);
  }
  void reset() override {
    error_code ec;
    socket_.set_option(asio::socket_base::linger(true, 0), ec);
    socket_.close(ec);
  }
  void close() override {
    error_code ec;
    socket_.close(ec);
  }

  Task<error_code> start_tls(asio::ssl::context& context) override {
    tls_ = std::make_unique<asio::ssl::stream<StreamSocket&>>(socket_, context);
    auto [ec] = co_await tls_->async_handshake(asio::ssl::stream_base::server, use_tuple);
    co_return ec;
  }
  Task<error_code> stop_tls() override {
    if (!tls_) co_return error_code{};
    auto [ec] = co_await tls_->async_shutdown(use_tuple);
    co_return ec;
  }
  bool tls_active() const override { return tls_ != nullptr; }
  TlsInfo tls_info() const override {
    TlsInfo info;
    if (!tls_) return info;
    SSL* ssl = tls_->native_handle();
    info.version = SSL_get_version(ssl);
    info.cipher = SSL_get_cipher_name(ssl);
    if (const char* sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name)) info.sni = sni;
    info.resumed = SSL_session_reused(ssl) == 1;
    if (X509* peer = SSL_get1_peer_certificate(ssl)) {
      // RFC 2253 form: "CN=client,O=Example".
      if (BIO* out = BIO_new(BIO_s_mem())) {
        X509_NAME_print_ex(out, X509_get_subject_name(peer), 0, XN_FLAG_RFC2253);
        char* text = nullptr;
        const long n = BIO_get_mem_data(out, &text);
        if (n > 0) info.client_subject.assign(text, static_cast<std::size_t>(n));
        BIO_free(out);
      }
      X509_free(peer);
    }
    return info;
  }

 private:
  StreamSocket socket_;
  std::unique_ptr<asio::ssl::stream<StreamSocket&>> tls_;
};

}  // namespace

std::unique_ptr<ByteStream> socket_stream(StreamSocket socket) {
  return std::make_unique<SocketStream>(std::move(socket));
}

}  // namespace protofarm
