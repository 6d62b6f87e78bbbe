#include "netpol_guard/kube/config.hpp"

#include <openssl/evp.h>
#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace netpol_guard::kube {

namespace fs = std::filesystem;
using boost::system::in_place_error;
using boost::system::in_place_value;

namespace {

// The whole file, or nothing when it cannot be opened (callers name the file).
std::optional<std::string> read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream s;
  s << in.rdbuf();
  return std::move(s).str();
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

std::string resolve(const std::string& path, const std::string& base_dir) {
  if (path.empty() || fs::path(path).is_absolute() || base_dir.empty()) return path;
  return (fs::path(base_dir) / path).string();
}

// A scalar field of a mapping, or "" when absent.
std::string field(const YAML::Node& n, const char* key) {
  if (!n || !n.IsMap()) return "";
  auto v = n[key];
  if (!v || !v.IsScalar()) return "";
  return v.Scalar();
}

// Finds the entry of `list` whose name is `name`, returning its `inner` mapping.
YAML::Node named(const YAML::Node& list, const std::string& name, const char* inner) {
  if (!list || !list.IsSequence()) return YAML::Node();
  for (const auto& item : list) {
    if (item.IsMap() && field(item, "name") == name) return item[inner];
  }
  return YAML::Node();
}

// Reads "<key>-data" (base64) or "<key>" (a file) from a mapping; "" when
// neither is set. The value and the error are both strings: errors are tagged.
boost::system::result<std::string, std::string> data_or_file(const YAML::Node& n,
                                                             const std::string& key,
                                                             const std::string& base_dir) {
  std::string data = field(n, (key + "-data").c_str());
  if (!data.empty()) {
    auto decoded = base64_decode(data);
    if (!decoded) return {in_place_error, key + "-data is not valid base64"};
    return decoded;
  }
  std::string file = field(n, key.c_str());
  if (file.empty()) return {in_place_value};
  auto out = read_text(resolve(file, base_dir));
  if (!out) return {in_place_error, "cannot read " + key + " " + resolve(file, base_dir)};
  return {in_place_value, std::move(*out)};
}

}  // namespace

boost::system::result<std::string, std::string> base64_decode(const std::string& in) {
  const std::string invalid = "not valid base64";
  // EVP_DecodeBlock takes whole quanta of the standard alphabet and no inner
  // whitespace: drop line breaks and spaces (PEM-style wrapping), map the
  // URL-safe alphabet onto the standard one, and pad an unpadded tail.
  std::string text;
  text.reserve(in.size() + 3);
  std::size_t padding = 0;
  for (char ch : in) {
    if (ch == '\n' || ch == '\r' || ch == ' ' || ch == '\t') continue;
    if (ch == '=') {
      ++padding;
    } else if (padding > 0) {
      return {in_place_error, invalid};  // data after padding
    }
    text.push_back(ch == '-' ? '+' : ch == '_' ? '/' : ch);
  }
  if (padding > 2) return {in_place_error, invalid};
  while (text.size() % 4 != 0) {
    text.push_back('=');
    ++padding;
  }
  if (padding > 2) return {in_place_error, invalid};  // a lone character is no byte
  if (text.empty()) return {in_place_value};
  std::string out(text.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(text.data()),
                          static_cast<int>(text.size()));
  if (n < 0) return {in_place_error, invalid};
  // EVP_DecodeBlock counts the padding as zero bytes.
  out.resize(static_cast<std::size_t>(n) - padding);
  return {in_place_value, std::move(out)};
}

boost::system::result<server_address, std::string> parse_server_url(const std::string& url) {
  std::string host, port;
  const std::string scheme = "https://";
  if (url.rfind(scheme, 0) != 0) {
    return {in_place_error,
            "server \"" + url + "\" is not an https:// URL (TLS verification is always on)"};
  }
  std::string rest = url.substr(scheme.size());
  rest = rest.substr(0, rest.find('/'));
  if (rest.empty()) {
    return {in_place_error, "server URL has no host"};
  }
  if (rest.front() == '[') {
    auto close = rest.find(']');
    if (close == std::string::npos) {
      return {in_place_error, "server URL has an unterminated IPv6 address"};
    }
    host = rest.substr(1, close - 1);
    port = close + 1 < rest.size() && rest[close + 1] == ':' ? rest.substr(close + 2) : "443";
  } else {
    auto colon = rest.rfind(':');
    host = colon == std::string::npos ? rest : rest.substr(0, colon);
    port = colon == std::string::npos ? "443" : rest.substr(colon + 1);
  }
  if (host.empty() || port.empty() || port.find_first_not_of("0123456789") != std::string::npos) {
    return {in_place_error, "server URL \"" + url + "\" has an invalid host or port"};
  }
  return server_address{std::move(host), std::move(port)};
}

boost::system::result<cluster_config, std::string> parse_kubeconfig(const std::string& text,
                                                                    const std::string& base_dir) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const std::exception& e) {
    return {in_place_error, std::string("invalid kubeconfig YAML: ") + e.what()};
  }
  try {
    if (!root.IsMap()) {
      return {in_place_error, "kubeconfig is not a mapping"};
    }
    std::string context_name = field(root, "current-context");
    if (context_name.empty()) {
      return {in_place_error, "kubeconfig has no current-context"};
    }
    YAML::Node context = named(root["contexts"], context_name, "context");
    if (!context || !context.IsMap()) {
      return {in_place_error, "kubeconfig has no context \"" + context_name + "\""};
    }
    std::string cluster_name = field(context, "cluster");
    std::string user_name = field(context, "user");
    YAML::Node cluster = named(root["clusters"], cluster_name, "cluster");
    if (!cluster || !cluster.IsMap()) {
      return {in_place_error, "kubeconfig has no cluster \"" + cluster_name + "\""};
    }
    cluster_config c;
    c.server = field(cluster, "server");
    auto address = parse_server_url(c.server);
    if (!address) return {in_place_error, address.error()};
    c.host = std::move(address->host);
    c.port = std::move(address->port);
    if (field(cluster, "insecure-skip-tls-verify") == "true") {
      return {
          in_place_error,
          "kubeconfig sets insecure-skip-tls-verify; netpol-guard always verifies the apiserver"};
    }
    auto ca = data_or_file(cluster, "certificate-authority", base_dir);
    if (!ca) return {in_place_error, ca.error()};
    c.ca_pem = std::move(*ca);
    YAML::Node user = named(root["users"], user_name, "user");
    if (user && user.IsMap()) {
      if (user["exec"] || user["auth-provider"]) {
        return {in_place_error,
                "kubeconfig user \"" + user_name +
                    "\" uses exec or auth-provider credentials, which netpol-guard does not run; "
                    "use a client certificate or a token"};
      }
      auto cert = data_or_file(user, "client-certificate", base_dir);
      if (!cert) return {in_place_error, cert.error()};
      auto key = data_or_file(user, "client-key", base_dir);
      if (!key) return {in_place_error, key.error()};
      c.client_cert_pem = std::move(*cert);
      c.client_key_pem = std::move(*key);
      c.token = field(user, "token");
      std::string token_file = field(user, "tokenFile");
      if (!token_file.empty()) c.token_file = resolve(token_file, base_dir);
    }
    if (c.client_cert_pem.empty() != c.client_key_pem.empty()) {
      return {
          in_place_error,
          "kubeconfig user has a client certificate without a key, or a key without a certificate"};
    }
    return c;
  } catch (const std::exception& e) {
    return {in_place_error, std::string("invalid kubeconfig: ") + e.what()};
  }
}

boost::system::result<cluster_config, std::string> load_kubeconfig(const std::string& path) {
  auto text = read_text(path);
  if (!text) return {in_place_error, "cannot read kubeconfig " + path};
  auto c = parse_kubeconfig(*text, fs::path(path).parent_path().string());
  if (!c) return {in_place_error, path + ": " + c.error()};
  c->source = "kubeconfig " + path;
  return c;
}

boost::system::result<cluster_config, std::string> in_cluster_config(const std::string& sa_dir) {
  const char* host = std::getenv("KUBERNETES_SERVICE_HOST");
  const char* port = std::getenv("KUBERNETES_SERVICE_PORT");
  if (!host || !*host || !port || !*port) {
    return {in_place_error, "not in a cluster: KUBERNETES_SERVICE_HOST/PORT are not set"};
  }
  cluster_config c;
  c.host = host;
  c.port = port;
  // IPv6 addresses need brackets in a URL.
  c.server = std::string("https://") +
             (c.host.find(':') != std::string::npos ? "[" + c.host + "]" : c.host) + ":" + c.port;
  auto ca = read_text(sa_dir + "/ca.crt");
  if (!ca) return {in_place_error, "cannot read " + sa_dir + "/ca.crt"};
  c.ca_pem = std::move(*ca);
  c.token_file = sa_dir + "/token";
  if (!read_text(c.token_file)) return {in_place_error, "cannot read " + c.token_file};
  c.source = "in-cluster";
  return c;
}

token_source::token_source(std::string static_token, std::string file, std::chrono::seconds refresh,
                           clock now)
    : static_token_(std::move(static_token)),
      file_(std::move(file)),
      refresh_(refresh),
      now_(now ? std::move(now) : [] { return std::chrono::steady_clock::now(); }) {}

std::string token_source::token() {
  if (file_.empty()) return static_token_;
  std::lock_guard lock(mutex_);
  auto t = now_();
  if (!read_at_ || t - *read_at_ >= refresh_) {
    if (auto text = read_text(file_)) cached_ = trim(std::move(*text));
    read_at_ = t;
  }
  return cached_;
}

void token_source::invalidate() {
  std::lock_guard lock(mutex_);
  read_at_.reset();
}

}  // namespace netpol_guard::kube
