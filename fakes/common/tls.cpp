#include "fakes/common/tls.hpp"

#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <stdexcept>

namespace protofarm {

const char* to_string(TlsMode mode) {
  switch (mode) {
    case TlsMode::none:
      return "none";
    case TlsMode::implicit:
      return "implicit";
    case TlsMode::starttls:
      return "starttls";
  }
  return "none";
}

namespace {

std::string openssl_error(const char* what) {
  char buf[256];
  ERR_error_string_n(ERR_get_error(), buf, sizeof buf);
  return std::string(what) + ": " + buf;
}

struct KeyDeleter {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct CertDeleter {
  void operator()(X509* c) const { X509_free(c); }
};
using Key = std::unique_ptr<EVP_PKEY, KeyDeleter>;
using Cert = std::unique_ptr<X509, CertDeleter>;

Key make_key() {
  Key key(EVP_EC_gen("P-256"));
  if (!key) throw std::runtime_error(openssl_error("cannot generate a TLS key"));
  return key;
}

void add_extension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (!ext) throw std::runtime_error(openssl_error("cannot build a certificate extension"));
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

Cert make_cert(EVP_PKEY* key, const char* common_name, long serial, X509* issuer,
               EVP_PKEY* issuer_key, bool is_ca) {
  Cert cert(X509_new());
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -24L * 3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 365L * 24 * 3600);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("protofarm"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(common_name), -1, -1, 0);
  X509* signer = issuer ? issuer : cert.get();
  X509_set_issuer_name(cert.get(), X509_get_subject_name(signer));
  add_extension(cert.get(), signer, NID_subject_key_identifier, "hash");
  if (is_ca) {
    add_extension(cert.get(), signer, NID_basic_constraints, "critical,CA:TRUE");
    add_extension(cert.get(), signer, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    add_extension(cert.get(), signer, NID_authority_key_identifier, "keyid:always");
    add_extension(cert.get(), signer, NID_basic_constraints, "critical,CA:FALSE");
    add_extension(cert.get(), signer, NID_key_usage, "critical,digitalSignature");
    add_extension(cert.get(), signer, NID_ext_key_usage, "serverAuth");
    add_extension(cert.get(), signer, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1,IP:::1");
  }
  if (!X509_sign(cert.get(), issuer_key, EVP_sha256()))
    throw std::runtime_error(openssl_error("cannot sign a certificate"));
  return cert;
}

void write_pem(const std::filesystem::path& path, X509* cert, EVP_PKEY* key) {
  FILE* f = std::fopen(path.c_str(), "w");
  if (!f) throw std::runtime_error("cannot write " + path.string());
  const bool ok = cert ? PEM_write_X509(f, cert) == 1
                       : PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr) == 1;
  std::fclose(f);
  if (!ok) throw std::runtime_error(openssl_error(("cannot write " + path.string()).c_str()));
}

}  // namespace

GeneratedCertificate generate_certificate(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw std::runtime_error("cannot create " + dir.string() + ": " + ec.message());
  Key ca_key = make_key();
  Cert ca = make_cert(ca_key.get(), "protofarm test CA", 1, nullptr, ca_key.get(), true);
  Key key = make_key();
  Cert cert = make_cert(key.get(), "localhost", 2, ca.get(), ca_key.get(), false);
  GeneratedCertificate out{dir / "ca.pem", dir / "cert.pem", dir / "key.pem"};
  write_pem(out.ca_file, ca.get(), nullptr);
  write_pem(out.cert_file, cert.get(), nullptr);
  write_pem(out.key_file, nullptr, key.get());
  return out;
}

asio::ssl::context& TlsContexts::server_context(const TlsConfig& config) {
  std::string cert = config.cert_file, key = config.key_file;
  if (cert.empty()) {
    if (!generated_) generated_ = generate_certificate(dir_);
    cert = generated_->cert_file.string();
    key = generated_->key_file.string();
  }
  const auto asks = config.client_certificate;
  auto& slot = contexts_[cert + "\n" + key + "\n" + std::to_string(static_cast<int>(asks))];
  if (slot) return *slot;
  auto ctx = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
  ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                   asio::ssl::context::no_sslv3 | asio::ssl::context::single_dh_use);
  SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
  error_code ec;
  ctx->use_certificate_chain_file(cert, ec);
  if (ec) throw std::runtime_error("cannot load TLS certificate " + cert + ": " + ec.message());
  ctx->use_private_key_file(key, asio::ssl::context::pem, ec);
  if (ec) throw std::runtime_error("cannot load TLS key " + key + ": " + ec.message());
  if (asks != TlsConfig::ClientCertificate::none) {
    // A fake records who the client says it is; it does not judge the certificate.
    ctx->set_verify_mode(asio::ssl::verify_peer | (asks == TlsConfig::ClientCertificate::require
                                                       ? asio::ssl::verify_fail_if_no_peer_cert
                                                       : asio::ssl::verify_none));
    ctx->set_verify_callback([](bool, asio::ssl::verify_context&) { return true; });
    // Sessions resumed across servers of different verify settings would skip the request.
    static constexpr unsigned char kSessionContext[] = "protofarm-client-cert";
    SSL_CTX_set_session_id_context(ctx->native_handle(), kSessionContext,
                                   sizeof kSessionContext - 1);
  }
  slot = std::move(ctx);
  return *slot;
}

}  // namespace protofarm
