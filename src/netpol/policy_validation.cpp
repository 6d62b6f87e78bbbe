#include "netpol_guard/netpol/policy_validation.hpp"

#include <nlohmann/json.hpp>

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <string_view>

// Sources followed (Kubernetes 1.37.2 / apimachinery 0.37.2):
//   pkg/apis/networking/validation/validation.go   ValidateNetworkPolicy, ValidateIPBlock
//   pkg/apis/core/validation/validation.go          ValidateNamespace
//   apimachinery pkg/api/validation/objectmeta.go   ValidateObjectMeta(Accessor)
//   apimachinery pkg/apis/meta/v1/validation         ValidateLabelSelector, ValidateLabels
//   apimachinery pkg/api/validate/content            label keys/values, DNS-1123
//   apimachinery pkg/util/validation/{validation,ip}.go  ports, CIDRs (StrictIPCIDRValidation
//                                                      is on by default since 1.36)
// and, before validation, what decoding refuses: a field of the wrong JSON type
// and, under kubectl's default --validate=strict, a field the type does not have.

namespace netpol_guard {
namespace {

using json = nlohmann::json;

constexpr std::size_t dns1123_label_max = 63;
constexpr std::size_t dns1123_subdomain_max = 253;
constexpr std::size_t label_name_max = 63;
constexpr std::size_t label_value_max = 63;
constexpr std::size_t port_name_max = 15;
constexpr std::size_t annotations_max_bytes = 256 * 1024;  // TotalAnnotationSizeLimitB
constexpr std::int64_t max_port = 65535;

bool lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool alnum(char c) { return lower_alnum(c) || (c >= 'A' && c <= 'Z'); }

// [A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?
bool label_key_name_chars(std::string_view s) {
  if (s.empty() || !alnum(s.front()) || !alnum(s.back())) return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return alnum(c) || c == '-' || c == '_' || c == '.'; });
}

bool dns_label_chars(std::string_view s) {
  if (s.empty() || !lower_alnum(s.front()) || !lower_alnum(s.back())) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return lower_alnum(c) || c == '-'; });
}

// Messages quote values; a value with invalid UTF-8 is shown with U+FFFD, not thrown on.
std::string shown(const json& v) { return v.dump(-1, ' ', false, json::error_handler_t::replace); }
std::string quote(const std::string& s) { return shown(json(s)); }

// The first error, with the field path as the apiserver writes it.
class checker {
 public:
  bool failed() const { return error_.has_value(); }
  std::optional<std::string> result() const { return error_; }

  void fail(const std::string& path, const std::string& message) {
    if (!error_) error_ = path + ": " + message;
  }
  void invalid(const std::string& path, const json& value, const std::string& message) {
    fail(path, "Invalid value: " + shown(value) + ": " + message);
  }

  // JSON type checks, as decoding into the Go type does them. null is the zero value.
  bool string_or_null(const json& v, const std::string& path) {
    if (v.is_null() || v.is_string()) return true;
    type_error(v, path, "string");
    return false;
  }
  bool object_or_null(const json& v, const std::string& path) {
    if (v.is_null() || v.is_object()) return true;
    type_error(v, path, "object");
    return false;
  }
  bool array_or_null(const json& v, const std::string& path) {
    if (v.is_null() || v.is_array()) return true;
    type_error(v, path, "array");
    return false;
  }
  bool integer_or_null(const json& v, const std::string& path, std::int64_t lo, std::int64_t hi) {
    if (v.is_null()) return true;
    if (v.is_number_integer() && !(v.is_number_unsigned() && v.get<std::uint64_t>() > static_cast<std::uint64_t>(hi))) {
      auto i = v.get<std::int64_t>();
      if (i >= lo && i <= hi) return true;
    }
    type_error(v, path, hi == INT32_MAX ? "int32" : "int64");
    return false;
  }
  void type_error(const json& v, const std::string& path, const std::string& want) {
    std::string got = v.is_string() ? "string" : v.is_boolean() ? "bool" : v.is_number() ? "number"
                      : v.is_array() ? "array" : v.is_object() ? "object" : "null";
    std::string text = shown(v);
    if (text.size() > 60) text = text.substr(0, 57) + "...";
    fail(path, "Invalid value: " + text + ": cannot unmarshal " + got + " into a field of type " + want);
  }

  // Strict field validation: every key must be a field of the type.
  bool known_fields(const json& obj, const std::string& path, std::initializer_list<std::string_view> fields) {
    for (const auto& [k, _] : obj.items()) {
      if (std::find(fields.begin(), fields.end(), k) == fields.end()) {
        fail(path.empty() ? k : path + "." + k,
             "unknown field " + quote(path.empty() ? k : path + "." + k) +
                 " (kubectl's default --validate=strict refuses it)");
        return false;
      }
    }
    return true;
  }

  // map[string]string
  bool string_map(const json& v, const std::string& path) {
    if (!object_or_null(v, path)) return false;
    if (v.is_null()) return true;
    for (const auto& [k, val] : v.items()) {
      if (!string_or_null(val, path + "." + k)) return false;
    }
    return true;
  }
  bool string_array(const json& v, const std::string& path) {
    if (!array_or_null(v, path)) return false;
    if (v.is_null()) return true;
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (!string_or_null(v[i], path + "[" + std::to_string(i) + "]")) return false;
    }
    return true;
  }

 private:
  std::optional<std::string> error_;
};

const json& field(const json& obj, const char* name) {
  static const json null_value;
  if (!obj.is_object()) return null_value;
  auto it = obj.find(name);
  return it == obj.end() ? null_value : *it;
}

std::string str(const json& v) { return v.is_string() ? v.get<std::string>() : std::string(); }

std::string index_path(const std::string& path, std::size_t i) {
  return path + "[" + std::to_string(i) + "]";
}

// metav1.ObjectMeta: types and unknown fields.
void decode_object_meta(checker& c, const json& md) {
  if (!c.object_or_null(md, "metadata") || md.is_null()) return;
  if (!c.known_fields(md, "metadata",
                      {"name", "generateName", "namespace", "selfLink", "uid", "resourceVersion",
                       "generation", "creationTimestamp", "deletionTimestamp",
                       "deletionGracePeriodSeconds", "labels", "annotations", "ownerReferences",
                       "finalizers", "managedFields"})) {
    return;
  }
  for (const char* f : {"name", "generateName", "namespace", "selfLink", "uid", "resourceVersion",
                        "creationTimestamp", "deletionTimestamp"}) {
    if (!c.string_or_null(field(md, f), std::string("metadata.") + f)) return;
  }
  if (!c.integer_or_null(field(md, "generation"), "metadata.generation", INT64_MIN, INT64_MAX)) return;
  if (!c.integer_or_null(field(md, "deletionGracePeriodSeconds"), "metadata.deletionGracePeriodSeconds",
                         INT64_MIN, INT64_MAX)) {
    return;
  }
  if (!c.string_map(field(md, "labels"), "metadata.labels")) return;
  if (!c.string_map(field(md, "annotations"), "metadata.annotations")) return;
  if (!c.array_or_null(field(md, "ownerReferences"), "metadata.ownerReferences")) return;
  if (!c.string_array(field(md, "finalizers"), "metadata.finalizers")) return;
  c.array_or_null(field(md, "managedFields"), "metadata.managedFields");
}

void validate_labels(checker& c, const json& labels, const std::string& path) {
  if (!labels.is_object()) return;
  for (const auto& [k, v] : labels.items()) {
    if (!is_qualified_name(k)) {
      c.invalid(path, k, "name part must consist of alphanumeric characters, '-', '_' or '.', and must "
                         "start and end with an alphanumeric character (an optional DNS subdomain "
                         "prefix and '/'; at most 63 characters)");
      return;
    }
    std::string value = str(v);
    if (!is_label_value(value)) {
      c.invalid(path, value, "a valid label must be an empty string or consist of alphanumeric "
                             "characters, '-', '_' or '.', and must start and end with an "
                             "alphanumeric character (at most 63 characters)");
      return;
    }
  }
}

// ValidateObjectMetaAccessor: name (or generateName), namespace, labels, annotations.
void validate_object_meta(checker& c, const json& md, bool namespaced, bool name_is_label) {
  auto name_ok = [&](std::string n, bool prefix) {
    // NameIsDNSSubdomain/NameIsDNSLabel(name, prefix): a generateName may end in '-'.
    if (prefix && !n.empty() && n.back() == '-') n.back() = 'a';
    return name_is_label ? is_dns1123_label(n) : is_dns1123_subdomain(n);
  };
  const std::string rule = name_is_label
      ? "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "
        "must start and end with an alphanumeric character (at most 63 characters)"
      : "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
        "'.', and must start and end with an alphanumeric character (at most 253 characters)";
  std::string generate = str(field(md, "generateName"));
  std::string name = str(field(md, "name"));
  if (!generate.empty() && !name_ok(generate, true)) return c.invalid("metadata.generateName", generate, rule);
  if (name.empty() && generate.empty()) return c.fail("metadata.name", "Required value: name or generateName is required");
  if (!name.empty() && !name_ok(name, false)) return c.invalid("metadata.name", name, rule);
  std::string ns = str(field(md, "namespace"));
  if (namespaced && !ns.empty() && !is_dns1123_label(ns)) {
    return c.invalid("metadata.namespace", ns,
                     "a lowercase RFC 1123 label must consist of lower case alphanumeric characters "
                     "or '-', and must start and end with an alphanumeric character (at most 63 "
                     "characters)");
  }
  validate_labels(c, field(md, "labels"), "metadata.labels");
  if (c.failed()) return;
  const json& annotations = field(md, "annotations");
  if (annotations.is_object()) {
    std::size_t total = 0;
    for (const auto& [k, v] : annotations.items()) {
      std::string lower = k;
      std::transform(lower.begin(), lower.end(), lower.begin(),
                     [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
      if (!is_qualified_name(lower)) {
        return c.invalid("metadata.annotations", k, "name part must consist of alphanumeric "
                         "characters, '-', '_' or '.', and must start and end with an alphanumeric "
                         "character");
      }
      total += k.size() + str(v).size();
    }
    if (total > annotations_max_bytes) {
      return c.fail("metadata.annotations", "Too long: may not be more than " +
                    std::to_string(annotations_max_bytes) + " bytes");
    }
  }
}

// metav1.LabelSelector: decode, then ValidateLabelSelector.
void check_selector(checker& c, const json& sel, const std::string& path) {
  if (!c.object_or_null(sel, path) || sel.is_null()) return;
  if (!c.known_fields(sel, path, {"matchLabels", "matchExpressions"})) return;
  const json& labels = field(sel, "matchLabels");
  if (!c.string_map(labels, path + ".matchLabels")) return;
  const json& exprs = field(sel, "matchExpressions");
  if (!c.array_or_null(exprs, path + ".matchExpressions")) return;
  if (exprs.is_array()) {
    for (std::size_t i = 0; i < exprs.size(); ++i) {
      std::string p = index_path(path + ".matchExpressions", i);
      const json& e = exprs[i];
      if (!c.object_or_null(e, p) || e.is_null()) continue;
      if (!c.known_fields(e, p, {"key", "operator", "values"})) return;
      if (!c.string_or_null(field(e, "key"), p + ".key") ||
          !c.string_or_null(field(e, "operator"), p + ".operator") ||
          !c.string_array(field(e, "values"), p + ".values")) {
        return;
      }
    }
  }
  validate_labels(c, labels, path + ".matchLabels");
  if (c.failed() || !exprs.is_array()) return;
  for (std::size_t i = 0; i < exprs.size(); ++i) {
    std::string p = index_path(path + ".matchExpressions", i);
    const json& e = exprs[i];
    std::string op = str(field(e, "operator"));
    const json& values = field(e, "values");
    std::size_t n = values.is_array() ? values.size() : 0;
    if (op == "In" || op == "NotIn") {
      if (n == 0) return c.fail(p + ".values", "Required value: must be specified when `operator` is 'In' or 'NotIn'");
    } else if (op == "Exists" || op == "DoesNotExist") {
      if (n > 0) return c.fail(p + ".values", "Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'");
    } else {
      return c.invalid(p + ".operator", op, "not a valid selector operator");
    }
    std::string key = str(field(e, "key"));
    if (!is_qualified_name(key)) {
      return c.invalid(p + ".key", key, "name part must consist of alphanumeric characters, '-', "
                       "'_' or '.', and must start and end with an alphanumeric character");
    }
    for (std::size_t j = 0; j < n; ++j) {
      std::string v = str(values[j]);
      if (!is_label_value(v)) {
        return c.invalid(index_path(p + ".values", j), v, "a valid label must be an empty string "
                         "or consist of alphanumeric characters, '-', '_' or '.', and must start "
                         "and end with an alphanumeric character");
      }
    }
  }
}

struct cidr {
  int family = 0;
  std::array<unsigned char, 16> addr{};
  int bits = 0;
};

// netutils.ParseCIDRSloppy followed by the strict checks (no leading zeros,
// no IPv4-mapped IPv6, no bits beyond the prefix length).
std::optional<std::string> parse_cidr(const std::string& s, cidr& out) {
  const std::string bad = "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)";
  auto slash = s.find('/');
  if (slash == std::string::npos || slash + 1 >= s.size()) return bad;
  std::string ip = s.substr(0, slash), len = s.substr(slash + 1);
  if (!std::all_of(len.begin(), len.end(), [](char c) { return c >= '0' && c <= '9'; }) || len.size() > 3) {
    return bad;
  }
  out.family = ip.find(':') == std::string::npos ? AF_INET : AF_INET6;
  if (inet_pton(out.family, ip.c_str(), out.addr.data()) != 1) {
    // inet_pton refuses leading zeros that ParseCIDRSloppy accepts; strict
    // validation refuses them too, so the value is invalid either way.
    return bad;
  }
  out.bits = std::stoi(len);
  const int max_bits = out.family == AF_INET ? 32 : 128;
  if (out.bits > max_bits) return bad;
  if (len.size() > 1 && len[0] == '0') return std::string("must not have leading 0s in IP or prefix length");
  if (out.family == AF_INET6) {
    static constexpr unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(out.addr.data(), mapped, 12) == 0) return std::string("must not have an IPv4-mapped IPv6 address");
  }
  const int bytes = max_bits / 8;
  for (int b = 0; b < bytes; ++b) {
    int keep = std::clamp(out.bits - b * 8, 0, 8);
    unsigned char mask = static_cast<unsigned char>(keep == 0 ? 0 : 0xff << (8 - keep));
    if (out.addr[static_cast<std::size_t>(b)] & ~mask) return std::string("must not have bits set beyond the prefix length");
  }
  return std::nullopt;
}

bool cidr_contains(const cidr& net, const cidr& inner) {
  if (net.family != inner.family) return false;
  for (int bit = 0; bit < net.bits; ++bit) {
    auto byte = static_cast<std::size_t>(bit / 8);
    int shift = 7 - bit % 8;
    if (((net.addr[byte] >> shift) & 1) != ((inner.addr[byte] >> shift) & 1)) return false;
  }
  return true;
}

void check_ip_block(checker& c, const json& b, const std::string& path) {
  if (!c.known_fields(b, path, {"cidr", "except"})) return;
  if (!c.string_or_null(field(b, "cidr"), path + ".cidr") ||
      !c.string_array(field(b, "except"), path + ".except")) {
    return;
  }
  std::string value = str(field(b, "cidr"));
  if (value.empty()) return c.fail(path + ".cidr", "Required value");
  cidr net;
  if (auto why = parse_cidr(value, net)) return c.invalid(path + ".cidr", value, *why);
  const json& except = field(b, "except");
  if (!except.is_array()) return;
  for (std::size_t i = 0; i < except.size(); ++i) {
    std::string p = index_path(path + ".except", i);
    std::string e = str(except[i]);
    cidr inner;
    if (auto why = parse_cidr(e, inner)) return c.invalid(p, e, *why);
    if (!cidr_contains(net, inner) || net.bits >= inner.bits) {
      return c.invalid(p, e, "must be a strict subset of `cidr`");
    }
  }
}

// ValidateNetworkPolicyPeer: exactly one kind; ipBlock never with another.
void check_peer(checker& c, const json& peer, const std::string& path) {
  if (!c.object_or_null(peer, path)) return;
  if (peer.is_object() && !c.known_fields(peer, path, {"podSelector", "namespaceSelector", "ipBlock"})) return;
  const json& pods = field(peer, "podSelector");
  const json& namespaces = field(peer, "namespaceSelector");
  const json& block = field(peer, "ipBlock");
  int peers = 0;
  if (!pods.is_null()) {
    ++peers;
    check_selector(c, pods, path + ".podSelector");
  }
  if (!namespaces.is_null()) {
    ++peers;
    check_selector(c, namespaces, path + ".namespaceSelector");
  }
  if (!block.is_null()) {
    ++peers;
    if (!c.object_or_null(block, path + ".ipBlock")) return;
    check_ip_block(c, block, path + ".ipBlock");
  }
  if (c.failed()) return;
  if (peers == 0) return c.fail(path, "Required value: must specify a peer");
  if (peers > 1 && !block.is_null()) return c.fail(path, "Forbidden: may not specify both ipBlock and another peer");
}

// ValidateNetworkPolicyPort.
void check_port(checker& c, const json& port, const std::string& path) {
  if (!c.object_or_null(port, path) || port.is_null()) return;
  if (!c.known_fields(port, path, {"protocol", "port", "endPort"})) return;
  const json& protocol = field(port, "protocol");
  const json& number = field(port, "port");
  const json& end = field(port, "endPort");
  if (!c.string_or_null(protocol, path + ".protocol")) return;
  if (!number.is_null() && !number.is_string() &&
      !c.integer_or_null(number, path + ".port", INT32_MIN, INT32_MAX)) {
    return;
  }
  if (!c.integer_or_null(end, path + ".endPort", INT32_MIN, INT32_MAX)) return;
  if (protocol.is_string()) {
    std::string p = protocol.get<std::string>();
    if (p != "TCP" && p != "UDP" && p != "SCTP") {
      return c.fail(path + ".protocol", "Unsupported value: " + quote(p) +
                                            ": supported values: \"TCP\", \"UDP\", \"SCTP\"");
    }
  }
  auto valid_port = [](std::int64_t v) { return v >= 1 && v <= max_port; };
  const std::string range = "must be between 1 and 65535, inclusive";
  if (number.is_number_integer()) {
    auto p = number.get<std::int64_t>();
    if (!valid_port(p)) return c.invalid(path + ".port", number, range);
    if (!end.is_null()) {
      auto e = end.get<std::int64_t>();
      if (e < p) return c.invalid(path + ".endPort", end, "must be greater than or equal to `port`");
      if (!valid_port(e)) return c.invalid(path + ".endPort", end, range);
    }
  } else if (number.is_string()) {
    if (!end.is_null()) return c.invalid(path + ".endPort", end, "may not be specified when `port` is non-numeric");
    std::string name = number.get<std::string>();
    if (!is_iana_svc_name(name)) {
      return c.invalid(path + ".port", name, "must be a number 1-65535 or a name of at most 15 "
                       "characters: a-z, 0-9 and '-', with at least one letter, no '--', not "
                       "starting or ending with '-' (a quoted number is a name, and invalid)");
    }
  } else if (!end.is_null()) {
    return c.invalid(path + ".endPort", end, "may not be specified when `port` is not specified");
  }
}

void check_rules(checker& c, const json& rules, const std::string& path, const char* peers_field) {
  if (!c.array_or_null(rules, path) || rules.is_null()) return;
  for (std::size_t i = 0; i < rules.size() && !c.failed(); ++i) {
    std::string p = index_path(path, i);
    const json& rule = rules[i];
    if (!c.object_or_null(rule, p) || rule.is_null()) continue;
    if (!c.known_fields(rule, p, {"ports", peers_field})) return;
    const json& ports = field(rule, "ports");
    if (!c.array_or_null(ports, p + ".ports")) return;
    if (ports.is_array()) {
      for (std::size_t j = 0; j < ports.size() && !c.failed(); ++j) {
        check_port(c, ports[j], index_path(p + ".ports", j));
      }
    }
    const json& peers = field(rule, peers_field);
    if (!c.array_or_null(peers, p + "." + peers_field)) return;
    if (peers.is_array()) {
      for (std::size_t j = 0; j < peers.size() && !c.failed(); ++j) {
        check_peer(c, peers[j], index_path(p + "." + peers_field, j));
      }
    }
  }
}

bool check_type_meta(checker& c, const json& o, const std::string& api_version) {
  const json& v = field(o, "apiVersion");
  if (!c.string_or_null(v, "apiVersion")) return false;
  std::string have = str(v);
  if (have.empty()) {
    c.fail("apiVersion", "Required value: apiVersion not set");
    return false;
  }
  if (have != api_version) {
    c.fail("apiVersion", "no matches for kind " + quote(str(field(o, "kind"))) + " in version " +
                             quote(have) + " (use " + api_version + ")");
    return false;
  }
  return true;
}

// Built-in kinds a GitOps repository commonly holds, with the versions a 1.37
// apiserver serves. A wrong apiVersion for one of them is kubectl's "no matches
// for kind"; other kinds (custom resources) are not checked: whether their CRD
// exists is the cluster's business.
struct served_kind {
  std::string_view kind;
  std::array<std::string_view, 2> versions;
  bool namespaced;
};
constexpr std::array<served_kind, 33> served_kinds{{
    {"Pod", {"v1", ""}, true},
    {"Service", {"v1", ""}, true},
    {"ConfigMap", {"v1", ""}, true},
    {"Secret", {"v1", ""}, true},
    {"ServiceAccount", {"v1", ""}, true},
    {"Endpoints", {"v1", ""}, true},
    {"PersistentVolumeClaim", {"v1", ""}, true},
    {"ReplicationController", {"v1", ""}, true},
    {"PodTemplate", {"v1", ""}, true},
    {"LimitRange", {"v1", ""}, true},
    {"ResourceQuota", {"v1", ""}, true},
    {"Event", {"v1", "events.k8s.io/v1"}, true},
    {"Deployment", {"apps/v1", ""}, true},
    {"ReplicaSet", {"apps/v1", ""}, true},
    {"StatefulSet", {"apps/v1", ""}, true},
    {"DaemonSet", {"apps/v1", ""}, true},
    {"ControllerRevision", {"apps/v1", ""}, true},
    {"Job", {"batch/v1", ""}, true},
    {"CronJob", {"batch/v1", ""}, true},
    {"Role", {"rbac.authorization.k8s.io/v1", ""}, true},
    {"RoleBinding", {"rbac.authorization.k8s.io/v1", ""}, true},
    {"ClusterRole", {"rbac.authorization.k8s.io/v1", ""}, false},
    {"ClusterRoleBinding", {"rbac.authorization.k8s.io/v1", ""}, false},
    {"Ingress", {"networking.k8s.io/v1", ""}, true},
    {"IngressClass", {"networking.k8s.io/v1", ""}, false},
    {"HorizontalPodAutoscaler", {"autoscaling/v2", "autoscaling/v1"}, true},
    {"PodDisruptionBudget", {"policy/v1", ""}, true},
    {"Lease", {"coordination.k8s.io/v1", ""}, true},
    {"EndpointSlice", {"discovery.k8s.io/v1", ""}, true},
    {"CSIStorageCapacity", {"storage.k8s.io/v1", ""}, true},
    {"PersistentVolume", {"v1", ""}, false},
    {"StorageClass", {"storage.k8s.io/v1", ""}, false},
    {"CustomResourceDefinition", {"apiextensions.k8s.io/v1", ""}, false},
}};

std::optional<std::string> validate_other(const json& o) {
  checker c;
  const std::string kind = str(field(o, "kind"));
  const json& v = field(o, "apiVersion");
  if (!c.string_or_null(v, "apiVersion")) return c.result();
  const std::string version = str(v);
  if (version.empty()) {
    c.fail("apiVersion", "Required value: apiVersion not set");
    return c.result();
  }
  const json& md = field(o, "metadata");
  if (!c.object_or_null(md, "metadata")) return c.result();
  if (!c.string_or_null(field(md, "name"), "metadata.name") ||
      !c.string_or_null(field(md, "generateName"), "metadata.generateName") ||
      !c.string_or_null(field(md, "namespace"), "metadata.namespace")) {
    return c.result();
  }
  auto it = std::find_if(served_kinds.begin(), served_kinds.end(),
                         [&](const served_kind& k) { return k.kind == kind; });
  if (it == served_kinds.end()) {
    // A custom kind: the report counts the namespace it names, so that name
    // must be one the apiserver could hold.
    std::string ns = str(field(md, "namespace"));
    if (!ns.empty() && !is_dns1123_label(ns)) {
      c.invalid("metadata.namespace", ns, "a lowercase RFC 1123 label must consist of lower case "
                "alphanumeric characters or '-', and must start and end with an alphanumeric character");
    }
    return c.result();
  }
  if (std::find(it->versions.begin(), it->versions.end(), version) == it->versions.end() || version.empty()) {
    c.fail("apiVersion", "no matches for kind " + quote(kind) + " in version " + quote(version) +
                             " (use " + std::string(it->versions[0]) + ")");
    return c.result();
  }
  std::string ns = str(field(md, "namespace"));
  if (it->namespaced && !ns.empty() && !is_dns1123_label(ns)) {
    c.invalid("metadata.namespace", ns, "a lowercase RFC 1123 label must consist of lower case "
              "alphanumeric characters or '-', and must start and end with an alphanumeric character");
  }
  return c.result();
}

}  // namespace

bool is_dns1123_label(const std::string& s) {
  return s.size() <= dns1123_label_max && dns_label_chars(s);
}

bool is_dns1123_subdomain(const std::string& s) {
  if (s.empty() || s.size() > dns1123_subdomain_max) return false;
  std::size_t start = 0;
  for (;;) {
    auto dot = s.find('.', start);
    if (!dns_label_chars(std::string_view(s).substr(start, dot == std::string::npos ? std::string::npos : dot - start))) {
      return false;
    }
    if (dot == std::string::npos) return true;
    start = dot + 1;
  }
}

bool is_qualified_name(const std::string& s) {
  auto slash = s.find('/');
  std::string_view name = s;
  if (slash != std::string::npos) {
    if (s.find('/', slash + 1) != std::string::npos) return false;
    std::string prefix = s.substr(0, slash);
    if (prefix.empty() || !is_dns1123_subdomain(prefix)) return false;
    name = std::string_view(s).substr(slash + 1);
  }
  return !name.empty() && name.size() <= label_name_max && label_key_name_chars(name);
}

bool is_label_value(const std::string& s) {
  return s.empty() || (s.size() <= label_value_max && label_key_name_chars(s));
}

bool is_iana_svc_name(const std::string& s) {
  if (s.empty() || s.size() > port_name_max) return false;
  if (!std::all_of(s.begin(), s.end(), [](char c) { return lower_alnum(c) || c == '-'; })) return false;
  if (std::none_of(s.begin(), s.end(), [](char c) { return c >= 'a' && c <= 'z'; })) return false;
  if (s.find("--") != std::string::npos) return false;
  return s.front() != '-' && s.back() != '-';
}

std::optional<std::string> validate_network_policy(const json& p) {
  checker c;
  if (!c.known_fields(p, "", {"apiVersion", "kind", "metadata", "spec"})) return c.result();
  if (!check_type_meta(c, p, "networking.k8s.io/v1")) return c.result();
  const json& md = field(p, "metadata");
  decode_object_meta(c, md);
  if (c.failed()) return c.result();
  const json& spec = field(p, "spec");
  if (!c.object_or_null(spec, "spec")) return c.result();
  if (spec.is_object()) {
    if (!c.known_fields(spec, "spec", {"podSelector", "ingress", "egress", "policyTypes"})) return c.result();
    if (!c.string_array(field(spec, "policyTypes"), "spec.policyTypes")) return c.result();
  }
  validate_object_meta(c, md, true, false);
  if (c.failed()) return c.result();
  check_selector(c, field(spec, "podSelector"), "spec.podSelector");
  check_rules(c, field(spec, "ingress"), "spec.ingress", "from");
  check_rules(c, field(spec, "egress"), "spec.egress", "to");
  if (c.failed()) return c.result();
  const json& types = field(spec, "policyTypes");
  if (types.is_array()) {
    if (types.size() > 2) {
      c.invalid("spec.policyTypes", types, "may not specify more than two policyTypes");
      return c.result();
    }
    for (std::size_t i = 0; i < types.size(); ++i) {
      std::string t = str(types[i]);
      if (t != "Ingress" && t != "Egress") {
        c.fail(index_path("spec.policyTypes", i),
               "Unsupported value: " + quote(t) + ": supported values: \"Ingress\", \"Egress\"");
        return c.result();
      }
    }
  }
  return c.result();
}

std::optional<std::string> validate_namespace(const json& ns) {
  checker c;
  if (!c.known_fields(ns, "", {"apiVersion", "kind", "metadata", "spec", "status"})) return c.result();
  if (!check_type_meta(c, ns, "v1")) return c.result();
  const json& md = field(ns, "metadata");
  decode_object_meta(c, md);
  if (c.failed()) return c.result();
  const json& spec = field(ns, "spec");
  if (!c.object_or_null(spec, "spec")) return c.result();
  if (spec.is_object() && (!c.known_fields(spec, "spec", {"finalizers"}) ||
                           !c.string_array(field(spec, "finalizers"), "spec.finalizers"))) {
    return c.result();
  }
  const json& status = field(ns, "status");
  if (!c.object_or_null(status, "status")) return c.result();
  if (status.is_object() && (!c.known_fields(status, "status", {"phase", "conditions"}) ||
                             !c.string_or_null(field(status, "phase"), "status.phase") ||
                             !c.array_or_null(field(status, "conditions"), "status.conditions"))) {
    return c.result();
  }
  // A cluster-scoped object's metadata.namespace is dropped by the apiserver
  // before validation, so it is not checked here.
  validate_object_meta(c, md, false, true);
  return c.result();
}

std::optional<std::string> validate_manifest_object(const json& object) {
  const std::string kind = str(field(object, "kind"));
  if (kind == "NetworkPolicy") return validate_network_policy(object);
  if (kind == "Namespace") return validate_namespace(object);
  return validate_other(object);
}

std::string describe_object(const json& object) {
  std::string kind = str(field(object, "kind"));
  const json& md = field(object, "metadata");
  std::string name = str(field(md, "name"));
  if (name.empty()) name = str(field(md, "generateName"));
  std::string ns = str(field(md, "namespace"));
  if (kind == "Namespace" || ns.empty()) {
    if (kind == "NetworkPolicy" && !name.empty()) return kind + " default/" + name;
    return name.empty() ? kind : kind + " " + name;
  }
  return kind + " " + ns + "/" + (name.empty() ? "(no name)" : name);
}

}  // namespace netpol_guard
