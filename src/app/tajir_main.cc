// tajir: the point-of-sale server and its tools.
//
//   tajir serve [--port 8080] [--db sqlite:PATH | --db postgresql://...] [--config FILE] ...
//   tajir seed  [--db ...] [--shops N] [--products N] [--customers N] [--bills N]
//   tajir demo
//   tajir routes       (every route the server has: METHOD PATTERN per line)
#include <cstdio>
#include <string>

#include "app/commands.h"
#include "app/config.h"

int main(int argc, char** argv) {
  using namespace tajir::app;
  const std::string cmd = argc > 1 ? argv[1] : "";
  if (cmd == "serve" || cmd == "seed") {
    auto config = load_config(argc - 1, argv + 1);
    if (!config.ok()) {
      std::fprintf(stderr, "tajir %s: %s\n", cmd.c_str(), config.status().message().c_str());
      return 2;
    }
    return cmd == "serve" ? serve(*config) : seed(*config);
  }
  if (cmd == "demo") return demo();
  if (cmd == "routes") return routes();
  std::fprintf(stderr,
               "usage: tajir serve|seed|demo [settings]\n"
               "  serve  the JSON API (API.md) on --address:--port\n"
               "  seed   demo data: shops, products, customers, a year of bills\n"
               "  demo   a short demonstration of the cache engine\n%s",
               config_usage().c_str());
  return cmd.empty() || cmd == "--help" || cmd == "help" ? 0 : 2;
}
