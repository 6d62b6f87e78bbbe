#include "netpol_guard/admission/review_fields.hpp"

#include <array>

namespace netpol_guard::review_fields {
namespace {

// The whole map of what is read. Small enough to scan linearly per key.
constexpr std::array<key_rule, 36> key_rules{{
    {node::root, "apiVersion", field::api_version, node::skip},
    {node::root, "kind", field::review_kind, node::skip},
    {node::root, "request", field::c_request, node::request},
    {node::request, "uid", field::uid, node::skip},
    {node::request, "kind", field::c_kind, node::kind},
    {node::request, "resource", field::c_resource, node::resource},
    {node::request, "subResource", field::sub_resource, node::skip},
    {node::request, "name", field::name, node::skip},
    {node::request, "namespace", field::namespace_name, node::skip},
    {node::request, "operation", field::operation, node::skip},
    {node::request, "dryRun", field::dry_run, node::skip},
    {node::request, "userInfo", field::c_user_info, node::user_info},
    {node::request, "object", field::c_object, node::object},
    {node::request, "oldObject", field::c_old_object, node::old_object},
    {node::kind, "group", field::kind_group, node::skip},
    {node::kind, "version", field::kind_version, node::skip},
    {node::kind, "kind", field::kind_kind, node::skip},
    {node::resource, "group", field::res_group, node::skip},
    {node::resource, "version", field::res_version, node::skip},
    {node::resource, "resource", field::res_resource, node::skip},
    {node::user_info, "username", field::username, node::skip},
    {node::user_info, "groups", field::c_groups, node::user_groups},
    {node::object, "metadata", field::c_obj_metadata, node::object_metadata},
    {node::object, "spec", field::c_obj_spec, node::object_spec},
    {node::old_object, "metadata", field::c_old_metadata, node::old_object_metadata},
    {node::old_object, "spec", field::c_old_spec, node::old_object_spec},
    {node::object_metadata, "name", field::obj_name, node::skip},
    {node::object_metadata, "namespace", field::obj_namespace, node::skip},
    {node::object_metadata, "generateName", field::obj_generate_name, node::skip},
    {node::object_metadata, "deletionTimestamp", field::obj_deletion, node::skip},
    {node::object_metadata, "creationTimestamp", field::obj_created, node::skip},
    {node::old_object_metadata, "name", field::old_name, node::skip},
    {node::old_object_metadata, "namespace", field::old_namespace, node::skip},
    {node::old_object_metadata, "generateName", field::old_generate_name, node::skip},
    {node::old_object_metadata, "deletionTimestamp", field::old_deletion, node::skip},
    {node::old_object_metadata, "creationTimestamp", field::old_created, node::skip},
}};

}  // namespace

const char* field_path(field f) {
  switch (f) {
    case field::api_version:
      return "apiVersion";
    case field::review_kind:
      return "kind";
    case field::uid:
      return "request.uid";
    case field::kind_group:
      return "request.kind.group";
    case field::kind_version:
      return "request.kind.version";
    case field::kind_kind:
      return "request.kind.kind";
    case field::res_group:
      return "request.resource.group";
    case field::res_version:
      return "request.resource.version";
    case field::res_resource:
      return "request.resource.resource";
    case field::sub_resource:
      return "request.subResource";
    case field::name:
      return "request.name";
    case field::namespace_name:
      return "request.namespace";
    case field::operation:
      return "request.operation";
    case field::dry_run:
      return "request.dryRun";
    case field::username:
      return "request.userInfo.username";
    case field::obj_name:
      return "request.object.metadata.name";
    case field::obj_namespace:
      return "request.object.metadata.namespace";
    case field::obj_generate_name:
      return "request.object.metadata.generateName";
    case field::obj_deletion:
      return "request.object.metadata.deletionTimestamp";
    case field::obj_created:
      return "request.object.metadata.creationTimestamp";
    case field::old_name:
      return "request.oldObject.metadata.name";
    case field::old_namespace:
      return "request.oldObject.metadata.namespace";
    case field::old_generate_name:
      return "request.oldObject.metadata.generateName";
    case field::old_deletion:
      return "request.oldObject.metadata.deletionTimestamp";
    case field::old_created:
      return "request.oldObject.metadata.creationTimestamp";
    case field::c_request:
      return "request";
    case field::c_kind:
      return "request.kind";
    case field::c_resource:
      return "request.resource";
    case field::c_user_info:
      return "request.userInfo";
    case field::c_groups:
      return "request.userInfo.groups";
    case field::c_object:
      return "request.object";
    case field::c_old_object:
      return "request.oldObject";
    case field::c_obj_metadata:
      return "request.object.metadata";
    case field::c_old_metadata:
      return "request.oldObject.metadata";
    case field::c_obj_spec:
      return "request.object.spec";
    case field::c_old_spec:
      return "request.oldObject.spec";
    default:
      return "field";
  }
}

const key_rule* find_key_rule(node parent, std::string_view key) {
  for (const auto& r : key_rules) {
    if (r.parent == parent && r.key == key) return &r;
  }
  return nullptr;
}

bool is_policy_spec_key(std::string_view k) {
  return k == "podSelector" || k == "policyTypes" || k == "ingress" || k == "egress";
}

bool is_captured_metadata_key(std::string_view k) {
  return k == "labels" || k == "annotations" || k == "ownerReferences";
}

bool is_capture_member(field f) {
  return f == field::obj_spec_member || f == field::old_spec_member ||
         f == field::obj_meta_member || f == field::old_meta_member;
}

}  // namespace netpol_guard::review_fields
