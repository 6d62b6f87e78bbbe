#pragma once

// The serving certificate and key, and the TLS context built from them.

#include <atomic>
#include <boost/asio/ssl/context.hpp>
#include <boost/system/result.hpp>
#include <memory>
#include <string>

#include "netpol_guard/server/tls_stats.hpp"

namespace netpol_guard {

// Serving credentials, reloaded from files when they change. A reload that
// fails (a certificate beside a key that does not match, mid-rotation) keeps the
// previous credentials; connections in progress keep theirs.
class tls_credentials {
 public:
  // `m`, when given, gets the serving certificate's notAfter on every load.
  tls_credentials(std::string cert_file, std::string key_file, std::string client_ca_file,
                  tls_stats* m = nullptr);
  boost::system::result<void, std::string> load();
  // True when new credentials were published; false when the files did not
  // change, or are the ones that already failed to load (reported once). Files
  // that cannot be read are an error on every call.
  boost::system::result<bool, std::string> reload_if_changed();
  std::shared_ptr<boost::asio::ssl::context> current() const {
    return current_.load(std::memory_order_acquire);
  }

 private:
  std::string cert_file_, key_file_, client_ca_file_;
  tls_stats* stats_;
  std::string last_contents_;
  std::string last_failed_contents_;
  std::atomic<std::shared_ptr<boost::asio::ssl::context>> current_;
};

// Builds a server TLS context: TLS 1.2+ with AEAD suites only, ALPN http/1.1.
boost::system::result<std::shared_ptr<boost::asio::ssl::context>, std::string>
make_server_tls_context(const std::string& cert_pem, const std::string& key_pem,
                        const std::string& client_ca_file);

}  // namespace netpol_guard
