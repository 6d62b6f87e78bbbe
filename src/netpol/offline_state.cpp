#include "netpol_guard/offline_state.hpp"

#include <malloc.h>

#include <algorithm>

namespace netpol_guard {

namespace fs = std::filesystem;

offline_state::offline_state(std::vector<std::string> paths) : paths_(std::move(paths)) {}

std::string offline_state::fingerprint() const {
  std::vector<std::string> parts;
  auto add = [&](const fs::path& p) {
    std::error_code ec;
    auto size = fs::file_size(p, ec);
    auto mtime = fs::last_write_time(p, ec);
    parts.push_back(p.string() + ":" + std::to_string(ec ? 0 : size) + ":" +
                    std::to_string(ec ? 0 : mtime.time_since_epoch().count()));
  };
  for (const auto& p : paths_) {
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
      for (auto it = fs::recursive_directory_iterator(p, ec); !ec && it != fs::end(it);
           it.increment(ec)) {
        if (it->is_regular_file()) add(it->path());
      }
    } else {
      add(p);
    }
  }
  std::sort(parts.begin(), parts.end());
  std::string out;
  for (const auto& s : parts) out += s + "\n";
  return out;
}

bool offline_state::load(manifest_error& error) {
  std::lock_guard lock(reload_mutex_);
  std::string fp = fingerprint();
  auto objects = load_manifests(paths_, error);
  if (!objects) return false;
  auto index = index_manifests(*objects, error);
  if (!index) return false;
  cell_.publish(index->freeze("files"));
  fingerprint_ = std::move(fp);
  loaded_ = true;
  objects.reset();
  index.reset();
  // Parsing the manifests needs far more memory than the index keeps: give the
  // parser's peak back to the system.
  malloc_trim(0);
  return true;
}

bool offline_state::reload_if_changed(manifest_error& error) {
  {
    std::lock_guard lock(reload_mutex_);
    if (fingerprint() == fingerprint_) return false;
  }
  return load(error);
}

state_readiness offline_state::readiness() const {
  state_readiness r;
  r.ready = loaded_;
  if (!r.ready) r.reason = "policies not loaded";
  return r;
}

}  // namespace netpol_guard
