#include "netpol_guard/netpol/offline_state.hpp"

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

boost::system::result<void, manifest_error> offline_state::load() {
  std::lock_guard lock(reload_mutex_);
  std::string fp = fingerprint();
  // One document's JSON at a time: the index keeps only policy summaries.
  auto built = index_manifest_files(paths_);
  std::optional<namespace_index> index;
  manifest_error error;
  if (built) {
    index = std::move(*built);
  } else {
    error = built.error();
  }
  if (!index) {
    // Remember the broken files so that the reload loop reports them once,
    // not on every tick; the last good snapshot stays published.
    if (loaded_) {
      fingerprint_ = std::move(fp);
      reload_failures_.fetch_add(1);
    }
    std::lock_guard error_lock(error_mutex_);
    last_error_ = error.what();
    return error;
  }
  cell_.publish(index->freeze("files"));
  fingerprint_ = std::move(fp);
  loaded_ = true;
  {
    std::lock_guard error_lock(error_mutex_);
    last_error_.clear();
  }
  index.reset();
  // Parsing the manifests needs far more memory than the index keeps: give the
  // parser's peak back to the system.
  malloc_trim(0);
  return {};
}

boost::system::result<bool, manifest_error> offline_state::reload_if_changed() {
  {
    std::lock_guard lock(reload_mutex_);
    if (fingerprint() == fingerprint_) return false;
  }
  auto loaded = load();
  if (!loaded) return loaded.error();
  return true;
}

std::string offline_state::last_error() const {
  std::lock_guard lock(error_mutex_);
  return last_error_;
}

state_readiness offline_state::readiness() const {
  state_readiness r;
  r.ready = loaded_;
  std::string error = last_error();
  if (!r.ready) {
    r.reason = error.empty() ? "policies not loaded" : "policies not loaded: " + error;
  } else if (!error.empty()) {
    // Still serving the last good state; /readyz's detail says why it is old.
    r.reason = "serving the last good policies; reload failed: " + error;
  }
  return r;
}

}  // namespace netpol_guard
