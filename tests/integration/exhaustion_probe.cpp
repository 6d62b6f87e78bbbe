#include "exhaustion_probe.hpp"

#include <nlohmann/json.hpp>

#include "../support/server_process.hpp"

namespace netpol_guard::testing {

using nlohmann::json;
using std::chrono::milliseconds;
using clock_type = std::chrono::steady_clock;

std::string examples() { return source_dir() + "/manifests/examples"; }

std::string review(const std::string& uid) {
  json r = json::parse(fixture("admission/pod-create.json"));
  r["request"]["uid"] = uid;
  return r.dump();
}

bool answered_correctly(const std::optional<http_reply>& r, const std::string& uid) {
  if (!r || r->status != 200) return false;
  auto doc = json::parse(r->body, nullptr, false);
  return !doc.is_discarded() && doc["response"]["uid"] == uid &&
         doc["response"]["allowed"] == false;
}

double metric(const std::string& text, const std::string& series) {
  auto at = text.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + series.size() + 2));
}

long ms_since(clock_type::time_point t) {
  return std::chrono::duration_cast<milliseconds>(clock_type::now() - t).count();
}

fresh_result fresh_review(unsigned short port, const std::string& uid) {
  const auto start = clock_type::now();
  tls_client c(port);
  std::string error;
  fresh_result r;
  if (c.connect(error, max_fresh_wait)) r.ok = answered_correctly(c.post(review(uid)), uid);
  r.wait_ms = ms_since(start);
  return r;
}

}  // namespace netpol_guard::testing
