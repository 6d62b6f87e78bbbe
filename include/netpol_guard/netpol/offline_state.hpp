#pragma once

// Namespace state from manifest files (--policies). Reloaded when the files
// change; a failed reload keeps the last good state and says why.

#include <atomic>
#include <boost/system/result.hpp>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

#include "netpol_guard/netpol/manifest_loader.hpp"
#include "netpol_guard/netpol/namespace_state.hpp"

namespace netpol_guard {

class offline_state final : public namespace_state {
 public:
  explicit offline_state(std::vector<std::string> paths);

  // Loads the files. An error when they cannot be read or hold an object
  // kubectl or the apiserver would refuse; the state then stays as it was
  // (empty before the first success).
  boost::system::result<void, manifest_error> load();
  // Reloads when any file's size or modification time changed (or files were
  // added or removed). True when a new snapshot was published, false when
  // nothing changed. A failed reload keeps the last good state, is counted, and
  // stays in readiness()'s reason until a reload succeeds; the same broken
  // files are not re-read until they change again.
  boost::system::result<bool, manifest_error> reload_if_changed();

  // Reloads that failed since start.
  std::uint64_t reload_failures() const { return reload_failures_.load(); }
  // The error of the last failed load, "" once a load succeeded after it.
  std::string last_error() const;

  std::shared_ptr<const namespace_snapshot> snapshot() const override { return cell_.load(); }
  state_readiness readiness() const override;

 private:
  std::string fingerprint() const;

  std::vector<std::string> paths_;
  snapshot_cell cell_;
  std::mutex reload_mutex_;
  std::string fingerprint_;
  std::atomic<bool> loaded_{false};
  std::atomic<std::uint64_t> reload_failures_{0};
  mutable std::mutex error_mutex_;
  std::string last_error_;
};

}  // namespace netpol_guard
