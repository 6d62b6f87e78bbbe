#pragma once

// Incremental parser of a watch response body: a stream of JSON objects
// {"type": ..., "object": ...}. One chunk may hold several events and one event
// may span chunks, so bytes are split on complete top-level objects, not lines.

#include <boost/system/result.hpp>
#include <cstddef>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace netpol_guard::kube {

struct watch_event {
  std::string type;  // ADDED, MODIFIED, DELETED, BOOKMARK, ERROR
  nlohmann::json object;
};

class watch_stream_parser {
 public:
  static constexpr std::size_t default_max_event_bytes = 16 * 1024 * 1024;
  explicit watch_stream_parser(std::size_t max_event_bytes = default_max_event_bytes)
      : max_event_bytes_(max_event_bytes) {}

  // Calls `on_event` for each complete event; stops early when it returns false.
  // An error on malformed input or an oversize event; it sticks (error()) until reset().
  boost::system::result<void, std::string> feed(std::string_view bytes,
                                                const std::function<bool(watch_event&&)>& on_event);
  // Bytes of an unfinished event are buffered (a disconnect now loses them).
  bool mid_event() const { return depth_ > 0 || !pending_.empty(); }
  const std::string& error() const { return error_; }
  void reset();

 private:
  bool scan(std::string_view bytes, const std::function<bool(watch_event&&)>& on_event);
  bool emit(const std::function<bool(watch_event&&)>& on_event);

  std::size_t max_event_bytes_;
  std::string pending_;
  std::size_t depth_ = 0;
  bool in_string_ = false;
  bool escape_ = false;
  std::string error_;
};

}  // namespace netpol_guard::kube
