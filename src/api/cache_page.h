// The cache's dashboard page, served at GET /cache, and the files it loads, at
// GET /cache/{file}: web/cache.html, cache.js and cache.css, and uPlot (the charts) from
// web/node_modules, embedded in the binary at build time (cmake/embed_web.cmake), so that the
// binary is the whole deployment and the page loads nothing from elsewhere.
//
// The page signs in (an owner's username and password, or the operator's token), then reads
// /api/cache/stats and /api/cache/stats/history every 5 s, plots them, and warms, clears and
// optimizes the cache. The files are static and public; what they read needs a token.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace tajir::api {

// One file of the page, as served.
struct WebFile {
  std::string_view content_type;
  std::shared_ptr<const std::string> bytes;
};

// The file called `name` ("cache.html", "cache.js", "uPlot.iife.min.js"...), or null.
const WebFile* web_file(std::string_view name);

// What the generated web_files.cc holds: each file's name and bytes.
struct EmbeddedFile {
  std::string_view name;
  std::string_view bytes;
};
std::span<const EmbeddedFile> embedded_web_files();

}  // namespace tajir::api
