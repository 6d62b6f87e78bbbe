#pragma once

// The map of an AdmissionReview that the decoder reads: the positions that
// matter, the leaf fields kept, and which key leads where. Everything else in a
// body is skipped unread. Only review_decoder.cpp uses it.

#include <string_view>

namespace netpol_guard::review_fields {

// Positions in the AdmissionReview that matter. Everything else is `skip`.
enum class node : unsigned char {
  skip,
  root,
  request,
  kind,
  resource,
  user_info,
  user_groups,  // the array request.userInfo.groups
  object,
  old_object,
  object_metadata,
  old_object_metadata,
  object_spec,
  old_object_spec,
};

// Leaf fields the decision reads. Each may appear once.
enum class field : unsigned char {
  none,
  api_version,
  review_kind,
  uid,
  kind_group,
  kind_version,
  kind_kind,
  res_group,
  res_version,
  res_resource,
  sub_resource,
  name,
  namespace_name,
  operation,
  dry_run,
  username,
  obj_name,
  obj_namespace,
  obj_generate_name,
  obj_deletion,
  obj_created,
  old_name,
  old_namespace,
  old_generate_name,
  old_deletion,
  old_created,
  // Containers, tracked for duplicate keys.
  c_request,
  c_kind,
  c_resource,
  c_user_info,
  c_groups,  // an array, not an object
  c_object,
  c_old_object,
  c_obj_metadata,
  c_old_metadata,
  c_obj_spec,
  c_old_spec,
  // Captured subtrees of a NetworkPolicy spec.
  obj_spec_member,
  old_spec_member,
  obj_meta_member,
  old_meta_member,
  count_
};

// The field's path in the AdmissionReview, for error messages.
const char* field_path(field f);

struct key_rule {
  node parent;
  std::string_view key;
  field f;
  node child;  // the node a container value becomes
};

// The rule for `key` inside `parent`, or nullptr when the key is not read.
const key_rule* find_key_rule(node parent, std::string_view key);

// Members of a NetworkPolicy's spec that decide its coverage.
bool is_policy_spec_key(std::string_view k);
// Metadata a user may change on an object; kept for NetworkPolicies, so the
// decision can tell a finalizer-only UPDATE from any other, and for Namespaces,
// whose labels and annotations carry their rollout settings.
bool is_captured_metadata_key(std::string_view k);
// Members captured whole as JSON (spec members and user-editable metadata).
bool is_capture_member(field f);

}  // namespace netpol_guard::review_fields
