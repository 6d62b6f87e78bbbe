#pragma once

// How to reach the kube-apiserver: from a kubeconfig's current context, or from
// the in-cluster service account. TLS verification is always on.

#include <boost/system/result.hpp>
#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>

namespace netpol_guard::kube {

struct cluster_config {
  std::string server;  // https://host:port
  std::string host;    // for SNI and verification; IPv6 without brackets
  std::string port;
  std::string ca_pem;  // trust anchors for the apiserver
  std::string client_cert_pem;
  std::string client_key_pem;
  std::string token;       // a static bearer token
  std::string token_file;  // a token re-read from this file (service accounts)
  std::string source;      // "kubeconfig <path>" or "in-cluster"
};

// Reads the current context of a kubeconfig. Relative file paths are taken from
// `base_dir`. The error is one clear line. cluster_config is constructible from
// a string, so errors are built tagged (boost::system::in_place_error).
boost::system::result<cluster_config, std::string> parse_kubeconfig(const std::string& text,
                                                                    const std::string& base_dir);
boost::system::result<cluster_config, std::string> load_kubeconfig(const std::string& path);

// KUBERNETES_SERVICE_HOST/PORT, the service account token and CA.
inline constexpr const char* service_account_dir = "/var/run/secrets/kubernetes.io/serviceaccount";
boost::system::result<cluster_config, std::string> in_cluster_config(
    const std::string& sa_dir = service_account_dir);

struct server_address {
  std::string host;  // IPv6 without brackets
  std::string port;
};
// Splits "https://host:port/..." into host and port (default 443).
boost::system::result<server_address, std::string> parse_server_url(const std::string& url);

// Standard or URL-safe alphabet, padded or not, line breaks ignored. The value
// and the error are both strings: build and read them tagged.
boost::system::result<std::string, std::string> base64_decode(const std::string& in);

// The bearer token to send. A token file is re-read at most every `refresh`
// and at once after invalidate() (a 401): kubelet rotates projected tokens.
class token_source {
 public:
  using clock = std::function<std::chrono::steady_clock::time_point()>;
  token_source(std::string static_token, std::string file,
               std::chrono::seconds refresh = std::chrono::seconds(60), clock now = {});
  std::string token();
  void invalidate();
  bool empty() const { return static_token_.empty() && file_.empty(); }

 private:
  std::string static_token_, file_;
  std::chrono::seconds refresh_;
  clock now_;
  std::mutex mutex_;
  std::string cached_;
  std::optional<std::chrono::steady_clock::time_point> read_at_;
};

}  // namespace netpol_guard::kube
