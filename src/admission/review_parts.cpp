#include "netpol_guard/admission/review_parts.hpp"

namespace netpol_guard::review_walker {

using review_fields::field;

std::string* string_field(review_parts& parts, field f) {
  auto& req = parts.req;
  switch (f) {
    case field::api_version:
      parts.has_api_version = true;
      return &parts.api_version;
    case field::review_kind:
      parts.has_review_kind = true;
      return &parts.review_kind;
    case field::uid:
      parts.has_uid = true;
      return &req.uid;
    case field::kind_group:
      return &req.kind_group;
    case field::kind_version:
      return &req.kind_version;
    case field::kind_kind:
      return &req.kind;
    case field::res_group:
      return &req.resource_group;
    case field::res_version:
      return &req.resource_version;
    case field::res_resource:
      return &req.resource;
    case field::sub_resource:
      return &req.sub_resource;
    case field::name:
      return &req.name;
    case field::namespace_name:
      return &req.namespace_name;
    case field::operation:
      return &req.operation;
    case field::username:
      return &req.username;
    case field::obj_name:
      return &req.object.name;
    case field::obj_namespace:
      return &req.object.namespace_name;
    case field::obj_generate_name:
      return &req.object.generate_name;
    case field::obj_created:
      return &req.object.created;
    case field::old_name:
      return &req.old_object.name;
    case field::old_namespace:
      return &req.old_object.namespace_name;
    case field::old_generate_name:
      return &req.old_object.generate_name;
    case field::old_created:
      return &req.old_object.created;
    default:
      return nullptr;
  }
}

}  // namespace netpol_guard::review_walker
