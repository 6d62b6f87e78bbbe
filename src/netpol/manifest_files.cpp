#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "netpol_guard/netpol/manifest_loader.hpp"
#include "netpol_guard/netpol/object.hpp"
#include "netpol_guard/netpol/policy_validation.hpp"

// Files and directories of manifests, read one file at a time, and the index
// built from their objects.

namespace netpol_guard {
namespace {

namespace fs = std::filesystem;
using result = boost::system::result<void, manifest_error>;

bool is_manifest_file(const fs::path& p) {
  auto ext = p.extension().string();
  return ext == ".yaml" || ext == ".yml" || ext == ".json";
}

// The files `paths` name: files as given, directories recursively, sorted.
boost::system::result<std::vector<fs::path>, manifest_error> manifest_files(
    const std::vector<std::string>& paths) {
  std::vector<fs::path> files;
  for (const auto& p : paths) {
    std::error_code ec;
    auto status = fs::status(p, ec);
    if (ec || !fs::exists(status)) {
      return manifest_error{p, "no such file or directory"};
    }
    if (fs::is_directory(status)) {
      std::vector<fs::path> found;
      for (auto it = fs::recursive_directory_iterator(p, ec); !ec && it != fs::end(it);
           it.increment(ec)) {
        if (it->is_regular_file() && is_manifest_file(it->path())) found.push_back(it->path());
      }
      if (ec) {
        return manifest_error{p, "cannot read directory: " + ec.message()};
      }
      std::sort(found.begin(), found.end());
      files.insert(files.end(), found.begin(), found.end());
    } else {
      files.emplace_back(p);
    }
  }
  return files;
}

// A file's bytes, at most max_manifest_bytes of them.
boost::system::result<std::string, manifest_error> read_file(const fs::path& f) {
  std::ifstream in(f, std::ios::binary);
  if (!in) {
    return manifest_error{f.string(), std::string("cannot open: ") + std::strerror(errno)};
  }
  std::string text;
  std::error_code ec;
  if (auto size = fs::file_size(f, ec); !ec) text.reserve(std::min(size, max_manifest_bytes) + 1);
  char buf[64 * 1024];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    text.append(buf, static_cast<std::size_t>(in.gcount()));
    if (text.size() > max_manifest_bytes) {
      return manifest_error{f.string(),
                            "file larger than " + std::to_string(max_manifest_bytes) + " bytes"};
    }
  }
  if (in.bad()) {
    return manifest_error{f.string(), std::string("cannot read: ") + std::strerror(errno)};
  }
  return text;
}

result index_object(namespace_index& index, const manifest_object& m) {
  if (auto valid = validate_manifest_object(m.object); !valid) {
    return manifest_error{m.source, valid.error(), m.line, describe_object(m.object)};
  }
  const auto& kind = m.object["kind"].get_ref<const std::string&>();
  boost::system::result<void, std::string> indexed;
  if (kind == "NetworkPolicy") {
    indexed = index_policy(index, m.object);
  } else if (kind == "Namespace") {
    indexed = index_namespace(index, m.object);
  }
  if (!indexed) {
    return manifest_error{m.source, indexed.error(), m.line, describe_object(m.object)};
  }
  return {};
}

}  // namespace

result read_manifests(const std::vector<std::string>& paths, const manifest_sink& sink) {
  auto files = manifest_files(paths);
  if (!files) return files.error();
  for (const auto& f : *files) {
    auto text = read_file(f);
    if (!text) return text.error();
    if (auto read = read_manifest_text(*text, f.string(), sink); !read) return read;
  }
  return {};
}

boost::system::result<std::vector<manifest_object>, manifest_error> load_manifests(
    const std::vector<std::string>& paths) {
  std::vector<manifest_object> out;
  auto read = read_manifests(paths, [&](manifest_object&& o) {
    out.push_back(std::move(o));
    return result();
  });
  if (!read) return read.error();
  return out;
}

boost::system::result<namespace_index, manifest_error> index_manifests(
    const std::vector<manifest_object>& objects) {
  namespace_index index;
  for (const auto& m : objects) {
    if (auto indexed = index_object(index, m); !indexed) return indexed.error();
  }
  return index;
}

boost::system::result<namespace_index, manifest_error> index_manifest_files(
    const std::vector<std::string>& paths) {
  namespace_index index;
  auto read = read_manifests(paths, [&](manifest_object&& o) { return index_object(index, o); });
  if (!read) return read.error();
  return index;
}

}  // namespace netpol_guard
