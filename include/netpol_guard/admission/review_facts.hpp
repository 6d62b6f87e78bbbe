#pragma once

// The facts the decision reads from the parts of request.object and
// request.oldObject that the decoder captures whole: a NetworkPolicy's spec and
// metadata, a Namespace's labels and annotations. Only review_decoder.cpp uses it.

#include <nlohmann/json_fwd.hpp>
#include <string>

#include "netpol_guard/admission/decision.hpp"

namespace netpol_guard::review_facts {

// Fills `o.policy` and `o.content` from the captured `spec` and `metadata`
// (objects). Returns "" or the wrong_type message, naming the field after `where`
// ("request.object").
std::string fill_policy(object_facts& o, const nlohmann::json& spec, const nlohmann::json& metadata,
                        const char* where);

// Fills `o.keys` from the captured `metadata`: labels and annotations must be
// objects (or null), and the netpol-guard keys in them strings. Returns "" or
// the wrong_type message.
std::string fill_namespace_keys(object_facts& o, const nlohmann::json& metadata, const char* where);

}  // namespace netpol_guard::review_facts
