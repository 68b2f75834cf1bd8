#include "app/hot_keys.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace tajir::app {
namespace {

constexpr const char* kHeader = "# tajir hot keys 1";

Status io_error(const std::string& what, const std::string& path) {
  return Status(StatusCode::kUnavailable, what + " " + path + ": " + std::strerror(errno));
}

}  // namespace

std::string default_hot_keys_path(const std::string& db_url) {
  if (!db_url.starts_with("sqlite:")) return "";
  std::string path = db_url.substr(7);
  if (path.starts_with("//")) path.erase(0, 2);
  return path.empty() ? "" : path + ".hotkeys";
}

Status save_hot_keys(const std::string& path, const std::vector<std::string>& keys) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    if (!out) return io_error("cannot write", tmp);
    out << kHeader << '\n';
    for (const std::string& k : keys) {
      if (k.find('\n') == std::string::npos) out << k << '\n';
    }
    out.flush();
    if (!out) return io_error("cannot write", tmp);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) return io_error("cannot rename to", path);
  return OkStatus();
}

Result<std::vector<std::string>> load_hot_keys(const std::string& path, size_t max) {
  std::vector<std::string> keys;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return keys;
  std::ifstream in(path);
  if (!in) return io_error("cannot read", path);
  std::string line;
  if (!std::getline(in, line) || line != kHeader)
    return Status(StatusCode::kInvalidArgument, path + " is not a tajir hot-key file");
  while (keys.size() < max && std::getline(in, line)) {
    if (!line.empty()) keys.push_back(std::move(line));
  }
  return keys;
}

}  // namespace tajir::app
