#include "netpol_guard/netpol/policy_validation.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <string_view>

#include "netpol_guard/netpol/meta_validation.hpp"

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

using namespace validation;

constexpr std::size_t port_name_max = 15;
constexpr std::int64_t max_port = 65535;

struct cidr {
  int family = 0;
  std::array<unsigned char, 16> addr{};
  int bits = 0;
};

// netutils.ParseCIDRSloppy followed by the strict checks (no leading zeros,
// no IPv4-mapped IPv6, no bits beyond the prefix length).
boost::system::result<cidr, std::string> parse_cidr(const std::string& s) {
  cidr out;
  const std::string bad = "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)";
  auto slash = s.find('/');
  if (slash == std::string::npos || slash + 1 >= s.size()) return bad;
  std::string ip = s.substr(0, slash), len = s.substr(slash + 1);
  if (!std::all_of(len.begin(), len.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
      len.size() > 3) {
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
  if (len.size() > 1 && len[0] == '0')
    return std::string("must not have leading 0s in IP or prefix length");
  if (out.family == AF_INET6) {
    static constexpr unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(out.addr.data(), mapped, 12) == 0)
      return std::string("must not have an IPv4-mapped IPv6 address");
  }
  const int bytes = max_bits / 8;
  for (int b = 0; b < bytes; ++b) {
    int keep = std::clamp(out.bits - b * 8, 0, 8);
    unsigned char mask = static_cast<unsigned char>(keep == 0 ? 0 : 0xff << (8 - keep));
    if (out.addr[static_cast<std::size_t>(b)] & ~mask)
      return std::string("must not have bits set beyond the prefix length");
  }
  return out;
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
  auto net = parse_cidr(value);
  if (!net) return c.invalid(path + ".cidr", value, net.error());
  const json& except = field(b, "except");
  if (!except.is_array()) return;
  for (std::size_t i = 0; i < except.size(); ++i) {
    std::string p = index_path(path + ".except", i);
    std::string e = str(except[i]);
    auto inner = parse_cidr(e);
    if (!inner) return c.invalid(p, e, inner.error());
    if (!cidr_contains(*net, *inner) || net->bits >= inner->bits) {
      return c.invalid(p, e, "must be a strict subset of `cidr`");
    }
  }
}

// ValidateNetworkPolicyPeer: exactly one kind; ipBlock never with another.
void check_peer(checker& c, const json& peer, const std::string& path) {
  if (!c.object_or_null(peer, path)) return;
  if (peer.is_object() &&
      !c.known_fields(peer, path, {"podSelector", "namespaceSelector", "ipBlock"}))
    return;
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
  if (peers > 1 && !block.is_null())
    return c.fail(path, "Forbidden: may not specify both ipBlock and another peer");
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
      if (e < p)
        return c.invalid(path + ".endPort", end, "must be greater than or equal to `port`");
      if (!valid_port(e)) return c.invalid(path + ".endPort", end, range);
    }
  } else if (number.is_string()) {
    if (!end.is_null())
      return c.invalid(path + ".endPort", end, "may not be specified when `port` is non-numeric");
    std::string name = number.get<std::string>();
    if (!is_iana_svc_name(name)) {
      return c.invalid(path + ".port", name,
                       "must be a number 1-65535 or a name of at most 15 "
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

boost::system::result<void, std::string> validate_other(const json& o) {
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
      c.invalid(
          "metadata.namespace", ns,
          "a lowercase RFC 1123 label must consist of lower case "
          "alphanumeric characters or '-', and must start and end with an alphanumeric character");
    }
    return c.result();
  }
  if (std::find(it->versions.begin(), it->versions.end(), version) == it->versions.end() ||
      version.empty()) {
    c.fail("apiVersion", "no matches for kind " + quote(kind) + " in version " + quote(version) +
                             " (use " + std::string(it->versions[0]) + ")");
    return c.result();
  }
  std::string ns = str(field(md, "namespace"));
  if (it->namespaced && !ns.empty() && !is_dns1123_label(ns)) {
    c.invalid(
        "metadata.namespace", ns,
        "a lowercase RFC 1123 label must consist of lower case "
        "alphanumeric characters or '-', and must start and end with an alphanumeric character");
  }
  return c.result();
}

}  // namespace

boost::system::result<void, std::string> validate_network_policy(const json& p) {
  checker c;
  if (!c.known_fields(p, "", {"apiVersion", "kind", "metadata", "spec"})) return c.result();
  if (!check_type_meta(c, p, "networking.k8s.io/v1")) return c.result();
  const json& md = field(p, "metadata");
  decode_object_meta(c, md);
  if (c.failed()) return c.result();
  const json& spec = field(p, "spec");
  if (!c.object_or_null(spec, "spec")) return c.result();
  if (spec.is_object()) {
    if (!c.known_fields(spec, "spec", {"podSelector", "ingress", "egress", "policyTypes"}))
      return c.result();
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

boost::system::result<void, std::string> validate_namespace(const json& ns) {
  checker c;
  if (!c.known_fields(ns, "", {"apiVersion", "kind", "metadata", "spec", "status"}))
    return c.result();
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

boost::system::result<void, std::string> validate_manifest_object(const json& object) {
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
