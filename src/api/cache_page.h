// The cache's dashboard page, served at GET /cache: one self-contained HTML document (inline CSS
// and JavaScript, nothing fetched from elsewhere) that asks for a token, then reads
// /api/cache/stats and /api/cache/stats/history every 10 s and plots them as SVG line charts.
// The page itself is static and public; the data it reads needs an owner's or the operator's token.
#pragma once

#include <memory>
#include <string>

namespace tajir::api {

// The page's bytes, built once.
const std::shared_ptr<const std::string>& cache_page_html();

}  // namespace tajir::api
