#include "netpol_guard/kube/watch_stream.hpp"

namespace netpol_guard::kube {

void watch_stream_parser::reset() {
  pending_.clear();
  depth_ = 0;
  in_string_ = escape_ = false;
  error_.clear();
}

bool watch_stream_parser::emit(const std::function<bool(watch_event&&)>& on_event) {
  nlohmann::json doc = nlohmann::json::parse(pending_, nullptr, /*allow_exceptions=*/false);
  pending_.clear();
  if (doc.is_discarded() || !doc.is_object()) {
    error_ = "watch stream: malformed event";
    return false;
  }
  auto type = doc.find("type");
  auto object = doc.find("object");
  if (type == doc.end() || !type->is_string() || object == doc.end() || !object->is_object()) {
    error_ = "watch stream: event without type or object";
    return false;
  }
  return on_event(watch_event{type->get<std::string>(), std::move(*object)});
}

boost::system::result<void, std::string> watch_stream_parser::feed(
    std::string_view bytes, const std::function<bool(watch_event&&)>& on_event) {
  if (scan(bytes, on_event)) return {};
  return error_;
}

bool watch_stream_parser::scan(std::string_view bytes,
                               const std::function<bool(watch_event&&)>& on_event) {
  if (!error_.empty()) return false;
  std::size_t start = 0;
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    const char c = bytes[i];
    if (depth_ == 0) {
      if (c == ' ' || c == '\n' || c == '\r' || c == '\t') {
        start = i + 1;
        continue;
      }
      if (c != '{') {
        error_ = "watch stream: expected '{' between events";
        return false;
      }
      start = i;
      depth_ = 1;
      continue;
    }
    if (in_string_) {
      if (escape_)
        escape_ = false;
      else if (c == '\\')
        escape_ = true;
      else if (c == '"')
        in_string_ = false;
      continue;
    }
    if (c == '"')
      in_string_ = true;
    else if (c == '{' || c == '[')
      ++depth_;
    else if (c == '}' || c == ']') {
      if (--depth_ == 0) {
        pending_.append(bytes.substr(start, i + 1 - start));
        start = i + 1;
        if (pending_.size() > max_event_bytes_) {
          error_ = "watch stream: event larger than " + std::to_string(max_event_bytes_) + " bytes";
          return false;
        }
        if (!emit(on_event)) return error_.empty() ? true : false;
      }
    }
  }
  if (depth_ > 0) {
    pending_.append(bytes.substr(start));
    if (pending_.size() > max_event_bytes_) {
      error_ = "watch stream: event larger than " + std::to_string(max_event_bytes_) + " bytes";
      return false;
    }
  }
  return true;
}

}  // namespace netpol_guard::kube
