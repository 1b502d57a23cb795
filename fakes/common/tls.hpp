// TLS for the fakes: server contexts, and a certificate generated at start when a scenario
// names none.
//
// The generated material is a small private CA (ca.pem) and a server certificate it signed
// (cert.pem, key.pem) for localhost, 127.0.0.1 and ::1. Clients trust ca.pem; the ready file
// names it. Keys are ECDSA P-256, which takes well under a millisecond to make, so TLS costs
// start-up nothing noticeable.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "fakes/common/asio.hpp"

namespace protofarm {

enum class TlsMode { none, implicit, starttls };
const char* to_string(TlsMode mode);

struct TlsConfig {
  TlsMode mode = TlsMode::none;
  std::string cert_file;  // PEM chain; empty: use the generated certificate
  std::string key_file;   // PEM private key
  // A session's extra channels (FTP data connections) must resume the main connection's TLS
  // session (TLS 1.2 session id or TLS 1.3 ticket).
  bool require_session_reuse = false;
  // Whether the server asks for a client certificate (`client_certificate:`): `request` asks and
  // goes on without one, `require` fails the handshake without one. Any certificate is taken
  // (nothing is verified); the `tls` event names its subject.
  enum class ClientCertificate { none, request, require };
  ClientCertificate client_certificate = ClientCertificate::none;
};

struct GeneratedCertificate {
  std::filesystem::path ca_file, cert_file, key_file;
};

// Writes ca.pem, cert.pem and key.pem into dir. Throws std::runtime_error on failure.
GeneratedCertificate generate_certificate(const std::filesystem::path& dir);

// Server contexts, one per certificate, made on first use and shared by the servers using it.
class TlsContexts {
 public:
  // Where a generated certificate is written (on first need).
  TlsContexts() = default;
  void set_directory(std::filesystem::path generated_dir) { dir_ = std::move(generated_dir); }
  // Throws std::runtime_error when the certificate or key cannot be loaded.
  asio::ssl::context& server_context(const TlsConfig& config);
  // The generated CA, if one was made.
  const GeneratedCertificate* generated() const { return generated_ ? &*generated_ : nullptr; }

 private:
  std::filesystem::path dir_;
  std::optional<GeneratedCertificate> generated_;
  std::map<std::string, std::unique_ptr<asio::ssl::context>> contexts_;
};

}  // namespace protofarm
