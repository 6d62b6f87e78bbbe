#include "review_decoder_nlohmann.hpp"

#include <bitset>
#include <nlohmann/json.hpp>
#include <vector>

#include "netpol_guard/admission/review_facts.hpp"
#include "netpol_guard/admission/review_fields.hpp"

// The request decoder netpol-guard used before simdjson, kept as the oracle of the
// differential tests: nlohmann's SAX parser validates every byte.
namespace netpol_guard::oracle {
namespace {

using json = nlohmann::json;
using namespace review_fields;

// Streams the body, keeping the fields review_fields.hpp names and, for spec members of a
// NetworkPolicy, a small DOM of just those members.
class review_reader final : public nlohmann::json_sax<json> {
 public:
  admission_request req;
  json object_spec = json::object();
  json old_spec = json::object();
  json object_meta = json::object();
  json old_meta = json::object();
  bool has_api_version = false, has_review_kind = false, has_request = false, has_uid = false;
  std::string api_version, review_kind;
  codec_error error;
  bool failed = false;

  bool null() override { return scalar(json(nullptr)); }
  bool boolean(bool v) override { return scalar(json(v)); }
  bool number_integer(number_integer_t v) override { return scalar(json(v)); }
  bool number_unsigned(number_unsigned_t v) override { return scalar(json(v)); }
  bool number_float(number_float_t v, const string_t&) override { return scalar(json(v)); }
  bool string(string_t& v) override {
    // Captured subtrees and spec members keep the value as JSON; the NetworkPolicy
    // check reports a wrong type there.
    if (capture_depth_ > 0 || is_capture_member(pending_)) {
      return scalar(json(std::move(v)));
    }
    if (in_groups()) {
      req.groups.push_back(std::move(v));
      return true;
    }
    field f = take_pending();
    if (f == field::none) return true;
    if (!mark_seen(f)) return false;
    return store_string(f, std::move(v));
  }
  bool binary(binary_t&) override { return true; }

  bool start_object(std::size_t) override { return open(/*is_object=*/true); }
  bool end_object() override { return close(); }
  bool start_array(std::size_t) override { return open(/*is_object=*/false); }
  bool end_array() override { return close(); }

  bool key(string_t& k) override {
    if (capture_depth_ > 0) {
      json& parent = *capture_stack_.back();
      if (parent.contains(k)) {
        // Metadata is kept to compare two versions of a NetworkPolicy and for a
        // Namespace's settings, and may be a Pod's labels in a body whose
        // resource comes late: the last value wins there, as in the apiserver's
        // own decoder.
        if (!capture_strict_) {
          parent.erase(k);
        } else {
          return fail("duplicate_key", "duplicate key \"" + k + "\"");
        }
      }
      capture_key_ = std::move(k);
      return true;
    }
    pending_ = field::none;
    pending_child_ = node::skip;
    const node parent = stack_.back();
    if (parent == node::skip) return true;
    if (parent == node::object_spec || parent == node::old_object_spec) {
      if (is_policy_spec_key(k)) {
        pending_ = parent == node::object_spec ? field::obj_spec_member : field::old_spec_member;
        capture_key_ = std::move(k);
      }
      return true;
    }
    if ((parent == node::object_metadata || parent == node::old_object_metadata) &&
        is_captured_metadata_key(k) && keeps_metadata()) {
      pending_ = parent == node::object_metadata ? field::obj_meta_member : field::old_meta_member;
      capture_key_ = std::move(k);
      return true;
    }
    if (const key_rule* r = find_key_rule(parent, k)) {
      pending_ = r->f;
      pending_child_ = r->child;
    }
    return true;
  }

  bool parse_error(std::size_t pos, const std::string&,
                   const nlohmann::detail::exception& e) override {
    if (failed) return false;
    // nlohmann's message quotes the bytes it last read: leave those out, so the
    // answer and the log line never echo (possibly invalid, possibly huge) input.
    std::string what = e.what();
    if (auto p = what.find("] "); p != std::string::npos) what = what.substr(p + 2);
    if (auto lr = what.find("; last read: "); lr != std::string::npos) {
      auto next = what.find("; ", lr + 2);
      what.erase(lr, next == std::string::npos ? std::string::npos : next - lr);
    }
    for (auto& ch : what) {
      if (static_cast<unsigned char>(ch) >= 0x80 || static_cast<unsigned char>(ch) < 0x20) ch = '?';
    }
    if (what.size() > 200) what.resize(200);
    return fail("malformed_json", "malformed JSON at byte " + std::to_string(pos) + ": " + what);
  }

 private:
  bool fail(const char* reason, std::string message) {
    if (!failed) {
      failed = true;
      error = codec_error{reason, std::move(message)};
    }
    return false;
  }

  // Labels, annotations and ownerReferences are kept for NetworkPolicies and
  // Namespaces. The apiserver sends request.resource before the objects, so Pods'
  // labels are never kept; a body in another order only costs a little more.
  bool keeps_metadata() const {
    return !seen_.test(static_cast<std::size_t>(field::res_resource)) ||
           req.resource == "networkpolicies" || req.resource == "namespaces";
  }

  // Inside the array request.userInfo.groups, whose items are read as they come.
  bool in_groups() const { return !stack_.empty() && stack_.back() == node::user_groups; }

  static const char* container_type(field f) {
    return f == field::c_groups ? "an array of strings" : "an object";
  }

  json& member_target(field f) {
    switch (f) {
      case field::obj_spec_member:
        return object_spec;
      case field::old_spec_member:
        return old_spec;
      case field::obj_meta_member:
        return object_meta;
      default:
        return old_meta;
    }
  }

  static const char* member_prefix(field f) {
    switch (f) {
      case field::obj_spec_member:
        return "request.object.spec.";
      case field::old_spec_member:
        return "request.oldObject.spec.";
      case field::obj_meta_member:
        return "request.object.metadata.";
      default:
        return "request.oldObject.metadata.";
    }
  }

  field take_pending() {
    field f = pending_;
    pending_ = field::none;
    return f;
  }

  bool mark_seen(field f) {
    auto i = static_cast<std::size_t>(f);
    if (is_capture_member(f)) {
      if (member_target(f).contains(capture_key_)) {
        if (f == field::obj_meta_member || f == field::old_meta_member) {
          member_target(f).erase(capture_key_);
          return true;
        }
        return fail("duplicate_key",
                    std::string("duplicate key ") + member_prefix(f) + capture_key_);
      }
      return true;
    }
    if (seen_.test(i)) {
      return fail("duplicate_key", std::string("duplicate key ") + field_path(f));
    }
    seen_.set(i);
    return true;
  }

  bool wrong_type(field f, const char* want) {
    return fail("wrong_type", std::string(field_path(f)) + ": expected " + want);
  }

  bool scalar(json v) {
    if (capture_depth_ > 0) return add_captured(std::move(v));
    if (in_groups()) return wrong_type(field::c_groups, "an array of strings");
    field f = take_pending();
    if (f == field::none) return true;
    if (!mark_seen(f)) return false;
    if (is_capture_member(f)) {
      member_target(f)[capture_key_] = std::move(v);
      return true;
    }
    // null is "unset" for every field we read (Go's encoding of empty values).
    if (v.is_null()) return true;
    if (f == field::dry_run) {
      if (!v.is_boolean()) return wrong_type(f, "a boolean");
      req.dry_run = v.get<bool>();
      return true;
    }
    if (f == field::obj_deletion || f == field::old_deletion || f == field::obj_created ||
        f == field::old_created) {
      return wrong_type(f, "a string");
    }
    if (f >= field::c_request) return wrong_type(f, container_type(f));
    return wrong_type(f, "a string");
  }

  bool store_string(field f, std::string&& v) {
    switch (f) {
      case field::api_version:
        api_version = std::move(v);
        has_api_version = true;
        break;
      case field::review_kind:
        review_kind = std::move(v);
        has_review_kind = true;
        break;
      case field::uid:
        req.uid = std::move(v);
        has_uid = true;
        break;
      case field::kind_group:
        req.kind_group = std::move(v);
        break;
      case field::kind_version:
        req.kind_version = std::move(v);
        break;
      case field::kind_kind:
        req.kind = std::move(v);
        break;
      case field::res_group:
        req.resource_group = std::move(v);
        break;
      case field::res_version:
        req.resource_version = std::move(v);
        break;
      case field::res_resource:
        req.resource = std::move(v);
        break;
      case field::sub_resource:
        req.sub_resource = std::move(v);
        break;
      case field::name:
        req.name = std::move(v);
        break;
      case field::namespace_name:
        req.namespace_name = std::move(v);
        break;
      case field::operation:
        req.operation = std::move(v);
        break;
      case field::username:
        req.username = std::move(v);
        break;
      case field::obj_name:
        req.object.name = std::move(v);
        break;
      case field::obj_namespace:
        req.object.namespace_name = std::move(v);
        break;
      case field::obj_generate_name:
        req.object.generate_name = std::move(v);
        break;
      case field::obj_deletion:
        req.object.deleting = !v.empty();
        break;
      case field::obj_created:
        req.object.created = std::move(v);
        break;
      case field::old_name:
        req.old_object.name = std::move(v);
        break;
      case field::old_namespace:
        req.old_object.namespace_name = std::move(v);
        break;
      case field::old_generate_name:
        req.old_object.generate_name = std::move(v);
        break;
      case field::old_deletion:
        req.old_object.deleting = !v.empty();
        break;
      case field::old_created:
        req.old_object.created = std::move(v);
        break;
      case field::dry_run:
        return wrong_type(f, "a boolean");
      default:
        return wrong_type(f, container_type(f));
    }
    return true;
  }

  bool open(bool is_object) {
    if (++depth_ > max_json_depth) {
      return fail("too_deep",
                  "JSON nested deeper than " + std::to_string(max_json_depth) + " levels");
    }
    if (capture_depth_ > 0) {
      ++capture_depth_;
      json& parent = *capture_stack_.back();
      json child = is_object ? json::object() : json::array();
      json* slot;
      if (parent.is_array()) {
        parent.push_back(std::move(child));
        slot = &parent.back();
      } else {
        slot = &(parent[capture_key_] = std::move(child));
      }
      capture_stack_.push_back(slot);
      return true;
    }
    if (stack_.empty()) {  // the document itself
      if (!is_object) return fail("not_admission_review", "body is not a JSON object");
      stack_.push_back(node::root);
      return true;
    }
    if (in_groups()) return wrong_type(field::c_groups, "an array of strings");
    field f = take_pending();
    if (f == field::none) {
      stack_.push_back(node::skip);
      return true;
    }
    if (!mark_seen(f)) return false;
    if (is_capture_member(f)) {
      json* slot = &(member_target(f)[capture_key_] = is_object ? json::object() : json::array());
      capture_stack_.push_back(slot);
      capture_depth_ = 1;
      capture_strict_ = f == field::obj_spec_member || f == field::old_spec_member;
      return true;
    }
    if (f < field::c_request) return wrong_type(f, f == field::dry_run ? "a boolean" : "a string");
    if (is_object == (f == field::c_groups)) return wrong_type(f, container_type(f));
    if (f == field::c_request) has_request = true;
    if (f == field::c_object) req.object.present = true;
    if (f == field::c_old_object) req.old_object.present = true;
    stack_.push_back(pending_child_);
    return true;
  }

  bool close() {
    --depth_;
    if (capture_depth_ > 0) {
      --capture_depth_;
      capture_stack_.pop_back();
      return true;
    }
    stack_.pop_back();
    return true;
  }

  bool add_captured(json v) {
    json& parent = *capture_stack_.back();
    if (parent.is_array()) {
      parent.push_back(std::move(v));
    } else {
      parent[capture_key_] = std::move(v);
    }
    return true;
  }

  std::vector<node> stack_;
  std::vector<json*> capture_stack_;
  std::size_t capture_depth_ = 0;
  bool capture_strict_ = true;
  std::size_t depth_ = 0;
  std::string capture_key_;
  field pending_ = field::none;
  node pending_child_ = node::skip;
  std::bitset<static_cast<std::size_t>(field::count_)> seen_;
};

bool is_network_policy(const admission_request& r) {
  return r.resource_group == "networking.k8s.io" && r.resource == "networkpolicies";
}

}  // namespace

boost::system::result<admission_request, codec_error> decode_admission_review_nlohmann(
    std::string_view body) {
  review_reader reader;
  bool ok = json::sax_parse(body.begin(), body.end(), &reader, json::input_format_t::json,
                            /*strict=*/true);
  if (!ok || reader.failed) {
    if (reader.failed) return reader.error;
    return codec_error{"malformed_json", "malformed JSON"};
  }
  if (!reader.has_review_kind || reader.review_kind != "AdmissionReview") {
    return codec_error{"not_admission_review",
                       "body is not an AdmissionReview (kind must be \"AdmissionReview\")"};
  }
  if (reader.api_version == "admission.k8s.io/v1") {
    reader.req.version = review_version::v1;
  } else if (reader.api_version == "admission.k8s.io/v1beta1") {
    reader.req.version = review_version::v1beta1;
  } else {
    return codec_error{"unsupported_version",
                       "unsupported apiVersion \"" + reader.api_version +
                           "\" (want admission.k8s.io/v1 or admission.k8s.io/v1beta1)"};
  }
  if (!reader.has_request) {
    return codec_error{"missing_request", "AdmissionReview has no request"};
  }
  if (!reader.has_uid || reader.req.uid.empty()) {
    return codec_error{"missing_uid", "AdmissionReview request has no uid"};
  }
  if (reader.req.operation.empty()) {
    return codec_error{"missing_operation", "AdmissionReview request has no operation"};
  }
  if ((reader.req.operation == "CREATE" || reader.req.operation == "UPDATE") &&
      !reader.req.object.present) {
    return codec_error{"missing_object",
                       "AdmissionReview request for " + reader.req.operation + " has no object"};
  }
  auto& req = reader.req;
  std::string err;
  if (is_network_policy(req)) {
    if (req.object.present) {
      err = review_facts::fill_policy(req.object, reader.object_spec, reader.object_meta,
                                      "request.object");
    }
    if (err.empty() && req.old_object.present) {
      err = review_facts::fill_policy(req.old_object, reader.old_spec, reader.old_meta,
                                      "request.oldObject");
    }
  } else if (req.resource_group.empty() && req.resource == "namespaces") {
    err = review_facts::fill_namespace_keys(req.object, reader.object_meta, "request.object");
    if (err.empty()) {
      err = review_facts::fill_namespace_keys(req.old_object, reader.old_meta, "request.oldObject");
    }
  }
  if (!err.empty()) return codec_error{"wrong_type", err};
  return std::move(req);
}

}  // namespace netpol_guard::oracle
