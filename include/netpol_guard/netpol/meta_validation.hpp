#pragma once

// apimachinery's rules for names, labels, object metadata and label selectors
// (k8s.io/apimachinery pkg/util/validation, pkg/api/validation/objectmeta.go,
// pkg/apis/meta/v1/validation), Kubernetes 1.37.

#include <string>

#include "netpol_guard/netpol/validation_checker.hpp"

namespace netpol_guard {

bool is_dns1123_label(const std::string& s);
bool is_dns1123_subdomain(const std::string& s);
bool is_qualified_name(const std::string& s);  // label keys
bool is_label_value(const std::string& s);
bool is_iana_svc_name(const std::string& s);  // named ports

namespace validation {

// metav1.ObjectMeta: types and unknown fields.
void decode_object_meta(checker& c, const json& md);
void validate_labels(checker& c, const json& labels, const std::string& path);
// ValidateObjectMetaAccessor: name (or generateName), namespace, labels, annotations.
void validate_object_meta(checker& c, const json& md, bool namespaced, bool name_is_label);
// metav1.LabelSelector: decode, then ValidateLabelSelector.
void check_selector(checker& c, const json& sel, const std::string& path);

}  // namespace validation
}  // namespace netpol_guard
