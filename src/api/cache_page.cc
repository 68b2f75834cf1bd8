// The files of the cache page (cache_page.h), each wrapped once in a shared buffer that every
// response hands out as is.
#include "api/cache_page.h"

#include <map>

namespace tajir::api {
namespace {

std::string_view content_type_of(std::string_view name) {
  if (name.ends_with(".html")) return "text/html; charset=utf-8";
  if (name.ends_with(".js")) return "text/javascript; charset=utf-8";
  if (name.ends_with(".css")) return "text/css; charset=utf-8";
  return "application/octet-stream";
}

}  // namespace

const WebFile* web_file(std::string_view name) {
  static const auto files = [] {
    std::map<std::string, WebFile, std::less<>> out;
    for (const EmbeddedFile& f : embedded_web_files()) {
      out.emplace(std::string(f.name),
                  WebFile{content_type_of(f.name), std::make_shared<const std::string>(f.bytes)});
    }
    return out;
  }();
  auto it = files.find(name);
  return it == files.end() ? nullptr : &it->second;
}

}  // namespace tajir::api
