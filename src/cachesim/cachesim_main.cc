// tajir-cachesim: replays traces through the engine's eviction policies and Bélády's optimum
// and prints one CSV row per trace x capacity x policy. See simulator.h; `--help` for flags.
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "cachesim/belady.h"
#include "cachesim/simulator.h"
#include "cachesim/trace.h"
#include "util/args.h"

namespace {

using tajir::cachesim::CapacitySpec;

constexpr char kUsage[] =
    "usage: tajir-cachesim --trace FILE [--trace FILE ...] [--capacity N[,N...]]\n"
    "                      [--policies tajir,lru,fifo,belady] [--bytes]\n"
    "  --trace FILE     one request per line: `key` or `key,size` (repeatable)\n"
    "  --capacity LIST  objects (bytes with --bytes), or P% of the trace's unique keys\n"
    "                   (unique bytes with --bytes); default 1%,2%,5%,10%\n"
    "  --policies LIST  any of tajir (the engine default), lru, fifo, belady; default all\n"
    "  --bytes          charge each request its size and read capacities as bytes;\n"
    "                   belady is then a farthest-next-use heuristic, not the exact optimum\n"
    "Prints CSV: trace,policy,capacity,requests,misses,miss_ratio\n";

[[noreturn]] void fail(const std::string& message) {
  std::fprintf(stderr, "tajir-cachesim: %s\n%s", message.c_str(), kUsage);
  std::exit(2);
}

std::vector<std::string> split(std::string_view s) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (true) {
    size_t comma = s.find(',', pos);
    out.emplace_back(s.substr(pos, comma == std::string_view::npos ? comma : comma - pos));
    if (comma == std::string_view::npos) return out;
    pos = comma + 1;
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> traces;
  std::string capacity_text = "1%,2%,5%,10%";
  std::vector<std::string> policies(std::begin(tajir::cachesim::kAllPolicies),
                                    std::end(tajir::cachesim::kAllPolicies));
  bool use_bytes = false;
  tajir::ArgReader args(argc, argv);
  while (args.next()) {
    const std::string arg(args.flag());
    auto take = [&]() -> std::string {
      auto value = args.value();
      if (!value.ok()) fail(value.status().message());
      return *std::move(value);
    };
    if (args.has_inline_value() && (arg == "--help" || arg == "--bytes")) {
      fail(arg + " takes no value");
    }
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (arg == "--trace") {
      traces.push_back(take());
    } else if (arg == "--capacity") {
      capacity_text = take();
    } else if (arg == "--policies") {
      policies = split(take());
    } else if (arg == "--bytes") {
      use_bytes = true;
    } else {
      fail("unknown argument '" + arg + "'");
    }
  }
  if (traces.empty()) fail("no --trace given");
  auto capacities = tajir::cachesim::parse_capacities(capacity_text);
  if (!capacities.ok()) fail(capacities.status().message());
  for (const std::string& p : policies) {
    bool known = false;
    for (std::string_view k : tajir::cachesim::kAllPolicies) known |= (p == k);
    if (!known) fail("unknown policy '" + p + "' (want tajir, lru, fifo or belady)");
  }
  if (use_bytes) {
    for (const std::string& p : policies) {
      if (p == "belady") {
        std::fprintf(stderr,
                     "tajir-cachesim: note: with --bytes, belady is the farthest-next-use "
                     "heuristic, not the exact optimum\n");
      }
    }
  }

  std::printf("%s\n", std::string(tajir::cachesim::kCsvHeader).c_str());
  for (const std::string& path : traces) {
    auto trace = tajir::cachesim::load_trace(path);
    if (!trace.ok()) fail(trace.status().message());
    std::vector<uint64_t> next;
    for (const CapacitySpec& spec : *capacities) {
      const uint64_t capacity = tajir::cachesim::resolve_capacity(spec, *trace, use_bytes);
      for (const std::string& p : policies) {
        if (p == "belady" && next.empty()) {
          next = tajir::cachesim::next_use(trace->ids, trace->unique_keys());
        }
        auto misses = tajir::cachesim::simulate(*trace, p, capacity, use_bytes, &next);
        if (!misses.ok()) fail(misses.status().message());
        std::printf(
            "%s\n",
            tajir::cachesim::csv_row(trace->name, p, capacity, trace->requests(), *misses).c_str());
      }
    }
    std::fflush(stdout);
  }
  return 0;
}
