#include "netpol_guard/kube/config.hpp"

#include <openssl/evp.h>
#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace netpol_guard::kube {

namespace fs = std::filesystem;

namespace {

bool read_text(const std::string& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream s;
  s << in.rdbuf();
  out = s.str();
  return true;
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

// Reads "<key>-data" (base64) or "<key>" (a file) from a mapping.
bool data_or_file(const YAML::Node& n, const std::string& key, const std::string& base_dir,
                  std::string& out, std::string& error) {
  std::string data = field(n, (key + "-data").c_str());
  if (!data.empty()) {
    auto decoded = base64_decode(data);
    if (!decoded) {
      error = key + "-data is not valid base64";
      return false;
    }
    out = *decoded;
    return true;
  }
  std::string file = field(n, key.c_str());
  if (file.empty()) return true;
  if (!read_text(resolve(file, base_dir), out)) {
    error = "cannot read " + key + " " + resolve(file, base_dir);
    return false;
  }
  return true;
}

}  // namespace

std::optional<std::string> base64_decode(const std::string& in) {
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
      return std::nullopt;  // data after padding
    }
    text.push_back(ch == '-' ? '+' : ch == '_' ? '/' : ch);
  }
  if (padding > 2) return std::nullopt;
  while (text.size() % 4 != 0) {
    text.push_back('=');
    ++padding;
  }
  if (padding > 2) return std::nullopt;  // a lone character is no byte
  if (text.empty()) return std::string();
  std::string out(text.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(text.data()),
                          static_cast<int>(text.size()));
  if (n < 0) return std::nullopt;
  // EVP_DecodeBlock counts the padding as zero bytes.
  out.resize(static_cast<std::size_t>(n) - padding);
  return out;
}

bool parse_server_url(const std::string& url, std::string& host, std::string& port,
                      std::string& error) {
  const std::string scheme = "https://";
  if (url.rfind(scheme, 0) != 0) {
    error = "server \"" + url + "\" is not an https:// URL (TLS verification is always on)";
    return false;
  }
  std::string rest = url.substr(scheme.size());
  rest = rest.substr(0, rest.find('/'));
  if (rest.empty()) {
    error = "server URL has no host";
    return false;
  }
  if (rest.front() == '[') {
    auto close = rest.find(']');
    if (close == std::string::npos) {
      error = "server URL has an unterminated IPv6 address";
      return false;
    }
    host = rest.substr(1, close - 1);
    port = close + 1 < rest.size() && rest[close + 1] == ':' ? rest.substr(close + 2) : "443";
  } else {
    auto colon = rest.rfind(':');
    host = colon == std::string::npos ? rest : rest.substr(0, colon);
    port = colon == std::string::npos ? "443" : rest.substr(colon + 1);
  }
  if (host.empty() || port.empty() || port.find_first_not_of("0123456789") != std::string::npos) {
    error = "server URL \"" + url + "\" has an invalid host or port";
    return false;
  }
  return true;
}

std::optional<cluster_config> parse_kubeconfig(const std::string& text, const std::string& base_dir,
                                               std::string& error) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const std::exception& e) {
    error = std::string("invalid kubeconfig YAML: ") + e.what();
    return std::nullopt;
  }
  try {
    if (!root.IsMap()) {
      error = "kubeconfig is not a mapping";
      return std::nullopt;
    }
    std::string context_name = field(root, "current-context");
    if (context_name.empty()) {
      error = "kubeconfig has no current-context";
      return std::nullopt;
    }
    YAML::Node context = named(root["contexts"], context_name, "context");
    if (!context || !context.IsMap()) {
      error = "kubeconfig has no context \"" + context_name + "\"";
      return std::nullopt;
    }
    std::string cluster_name = field(context, "cluster");
    std::string user_name = field(context, "user");
    YAML::Node cluster = named(root["clusters"], cluster_name, "cluster");
    if (!cluster || !cluster.IsMap()) {
      error = "kubeconfig has no cluster \"" + cluster_name + "\"";
      return std::nullopt;
    }
    cluster_config c;
    c.server = field(cluster, "server");
    if (!parse_server_url(c.server, c.host, c.port, error)) return std::nullopt;
    if (field(cluster, "insecure-skip-tls-verify") == "true") {
      error =
          "kubeconfig sets insecure-skip-tls-verify; netpol-guard always verifies the apiserver";
      return std::nullopt;
    }
    if (!data_or_file(cluster, "certificate-authority", base_dir, c.ca_pem, error)) {
      return std::nullopt;
    }
    YAML::Node user = named(root["users"], user_name, "user");
    if (user && user.IsMap()) {
      if (user["exec"] || user["auth-provider"]) {
        error = "kubeconfig user \"" + user_name +
                "\" uses exec or auth-provider credentials, which netpol-guard does not run; "
                "use a client certificate or a token";
        return std::nullopt;
      }
      if (!data_or_file(user, "client-certificate", base_dir, c.client_cert_pem, error) ||
          !data_or_file(user, "client-key", base_dir, c.client_key_pem, error)) {
        return std::nullopt;
      }
      c.token = field(user, "token");
      std::string token_file = field(user, "tokenFile");
      if (!token_file.empty()) c.token_file = resolve(token_file, base_dir);
    }
    if (c.client_cert_pem.empty() != c.client_key_pem.empty()) {
      error =
          "kubeconfig user has a client certificate without a key, or a key without a certificate";
      return std::nullopt;
    }
    return c;
  } catch (const std::exception& e) {
    error = std::string("invalid kubeconfig: ") + e.what();
    return std::nullopt;
  }
}

std::optional<cluster_config> load_kubeconfig(const std::string& path, std::string& error) {
  std::string text;
  if (!read_text(path, text)) {
    error = "cannot read kubeconfig " + path;
    return std::nullopt;
  }
  auto c = parse_kubeconfig(text, fs::path(path).parent_path().string(), error);
  if (c)
    c->source = "kubeconfig " + path;
  else
    error = path + ": " + error;
  return c;
}

std::optional<cluster_config> in_cluster_config(std::string& error, const std::string& sa_dir) {
  const char* host = std::getenv("KUBERNETES_SERVICE_HOST");
  const char* port = std::getenv("KUBERNETES_SERVICE_PORT");
  if (!host || !*host || !port || !*port) {
    error = "not in a cluster: KUBERNETES_SERVICE_HOST/PORT are not set";
    return std::nullopt;
  }
  cluster_config c;
  c.host = host;
  c.port = port;
  // IPv6 addresses need brackets in a URL.
  c.server = std::string("https://") +
             (c.host.find(':') != std::string::npos ? "[" + c.host + "]" : c.host) + ":" + c.port;
  if (!read_text(sa_dir + "/ca.crt", c.ca_pem)) {
    error = "cannot read " + sa_dir + "/ca.crt";
    return std::nullopt;
  }
  c.token_file = sa_dir + "/token";
  std::string probe;
  if (!read_text(c.token_file, probe)) {
    error = "cannot read " + c.token_file;
    return std::nullopt;
  }
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
    std::string text;
    if (read_text(file_, text)) cached_ = trim(text);
    read_at_ = t;
  }
  return cached_;
}

void token_source::invalidate() {
  std::lock_guard lock(mutex_);
  read_at_.reset();
}

}  // namespace netpol_guard::kube
