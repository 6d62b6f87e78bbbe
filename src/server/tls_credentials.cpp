#include "netpol_guard/server/tls_credentials.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <boost/asio/ssl.hpp>
#include <ctime>
#include <fstream>
#include <memory>
#include <sstream>

namespace netpol_guard {

namespace ssl = boost::asio::ssl;

namespace {

// TLS 1.2 suites: ECDHE with AEAD only. TLS 1.3 suites are all AEAD.
constexpr const char* tls12_ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

using boost::system::in_place_error;

// The certificate, key and client CA as read together: a rotation is judged on all three.
struct credential_files {
  std::string cert, key, ca;
  std::string contents() const { return cert + '\0' + key + '\0' + ca; }
};

// The value and the error are both strings, so the error is tagged.
boost::system::result<std::string, std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {in_place_error, "cannot read " + path};
  std::ostringstream s;
  s << in.rdbuf();
  return {boost::system::in_place_value, s.str()};
}

// An empty `ca_file` is not read. credential_files is constructible from a
// string, so errors are tagged.
boost::system::result<credential_files, std::string> read_credential_files(
    const std::string& cert_file, const std::string& key_file, const std::string& ca_file) {
  auto cert = read_file(cert_file);
  if (!cert) return {in_place_error, cert.error()};
  auto key = read_file(key_file);
  if (!key) return {in_place_error, key.error()};
  credential_files out{std::move(*cert), std::move(*key), {}};
  if (!ca_file.empty()) {
    auto ca = read_file(ca_file);
    if (!ca) return {in_place_error, ca.error()};
    out.ca = std::move(*ca);
  }
  return out;
}

std::string openssl_error() {
  unsigned long e = ERR_get_error();
  if (e == 0) return "unknown TLS error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  ERR_clear_error();
  return buf;
}

// The apiserver offers only http/1.1; pick it when offered, and do not fail
// clients that offer something else.
int select_alpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                unsigned int inlen, void*) {
  for (unsigned int i = 0; i < inlen;) {
    unsigned int len = in[i];
    if (i + 1 + len > inlen) break;
    if (len == 8 && std::memcmp(in + i + 1, "http/1.1", 8) == 0) {
      *out = in + i + 1;
      *outlen = static_cast<unsigned char>(len);
      return SSL_TLSEXT_ERR_OK;
    }
    i += 1 + len;
  }
  return SSL_TLSEXT_ERR_NOACK;
}

// notAfter of the first certificate in the chain (the serving one), in Unix
// seconds; 0 when it cannot be read, which the expiry alert treats as expired.
double leaf_not_after(const std::string& cert_pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size())), BIO_free);
  if (!bio) return 0;
  std::unique_ptr<X509, decltype(&X509_free)> cert(
      PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr), X509_free);
  std::tm tm{};
  if (!cert || ASN1_TIME_to_tm(X509_get0_notAfter(cert.get()), &tm) != 1) {
    ERR_clear_error();
    return 0;
  }
  return static_cast<double>(timegm(&tm));
}

}  // namespace

boost::system::result<std::shared_ptr<ssl::context>, std::string> make_server_tls_context(
    const std::string& cert_pem, const std::string& key_pem, const std::string& client_ca_file) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  boost::system::error_code ec;
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                       ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                       ssl::context::single_dh_use | ssl::context::no_compression,
                   ec);
  SSL_CTX* native = ctx->native_handle();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  SSL_CTX_set_options(native, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  if (SSL_CTX_set_cipher_list(native, tls12_ciphers) != 1) {
    return "cannot set TLS ciphers: " + openssl_error();
  }
  SSL_CTX_set_alpn_select_cb(native, select_alpn, nullptr);
  ctx->use_certificate_chain(boost::asio::buffer(cert_pem), ec);
  if (ec) {
    return "invalid TLS certificate: " + ec.message();
  }
  ctx->use_private_key(boost::asio::buffer(key_pem), ssl::context::pem, ec);
  if (ec) {
    return "invalid TLS private key: " + ec.message();
  }
  if (SSL_CTX_check_private_key(native) != 1) {
    ERR_clear_error();
    return std::string("TLS private key does not match the certificate");
  }
  if (!client_ca_file.empty()) {
    ctx->load_verify_file(client_ca_file, ec);
    if (ec) {
      return "cannot load --client-ca-file " + client_ca_file + ": " + ec.message();
    }
    ctx->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
  }
  return ctx;
}

tls_credentials::tls_credentials(std::string cert_file, std::string key_file,
                                 std::string client_ca_file, tls_stats* m)
    : cert_file_(std::move(cert_file)),
      key_file_(std::move(key_file)),
      client_ca_file_(std::move(client_ca_file)),
      stats_(m) {}

boost::system::result<void, std::string> tls_credentials::load() {
  auto files = read_credential_files(cert_file_, key_file_, client_ca_file_);
  if (!files) return files.error();
  std::string contents = files->contents();
  auto ctx = make_server_tls_context(files->cert, files->key, client_ca_file_);
  if (!ctx) {
    last_failed_contents_ = contents;
    return ctx.error();
  }
  current_.store(std::move(*ctx), std::memory_order_release);
  if (stats_ != nullptr) stats_->set_certificate_expiry(leaf_not_after(files->cert));
  last_contents_ = std::move(contents);
  last_failed_contents_.clear();
  return {};
}

boost::system::result<bool, std::string> tls_credentials::reload_if_changed() {
  auto files = read_credential_files(cert_file_, key_file_, client_ca_file_);
  if (!files) return files.error();
  std::string contents = files->contents();
  if (contents == last_contents_) return false;
  // Already reported; wait for the files to change again.
  if (contents == last_failed_contents_) return false;
  auto loaded = load();
  if (!loaded) return loaded.error();
  return true;
}

}  // namespace netpol_guard
