// tajir-tracegen: writes a synthetic trace (see generator.h) for tajir-cachesim.
// `--help` for flags.
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>

#include "cachesim/generator.h"
#include "util/args.h"

namespace {

constexpr char kUsage[] =
    "usage: tajir-tracegen [--kind zipf|scan|loop|drift|mix] [--requests N] [--keys N]\n"
    "                      [--alpha A] [--seed S] [--sizes] [--out FILE]\n"
    "                      [--scan-fraction F] [--scan-length N] [--loop-fraction F]\n"
    "                      [--loop-keys N] [--drift-every N]\n"
    "  --kind           zipf (default); scan: Zipf with bursts of one-hit wonders;\n"
    "                   loop: Zipf interleaved with a cyclic loop; drift: Zipf whose popular\n"
    "                   set shifts over time; mix: the four in turn\n"
    "  --requests N     default 1000000;  --keys N  Zipf population, default 100000\n"
    "  --alpha A        Zipf skew, default 0.9 (0.7..1.1 are typical)\n"
    "  --seed S         default 1; the same options always give the same trace\n"
    "  --sizes          write `key,size` with a fixed size per key (64..65536 bytes)\n"
    "  --scan-fraction  share of requests in scans (scan), default 0.2\n"
    "  --scan-length    requests per scan burst, default keys/10\n"
    "  --loop-fraction  share of requests on the loop (loop), default 0.3\n"
    "  --loop-keys      loop length, default keys/5\n"
    "  --drift-every    requests per one-rank shift of the ranking (drift), default\n"
    "                   requests/keys\n";

[[noreturn]] void fail(const std::string& message) {
  std::fprintf(stderr, "tajir-tracegen: %s\n%s", message.c_str(), kUsage);
  std::exit(2);
}

template <typename T>
T parse_number(const std::string& flag, const std::string& text) {
  T v{};
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || p != text.data() + text.size()) {
    fail("bad value '" + text + "' for " + flag);
  }
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  tajir::cachesim::GeneratorOptions o;
  std::string out_path;
  tajir::ArgReader args(argc, argv);
  while (args.next()) {
    const std::string arg(args.flag());
    auto take = [&]() -> std::string {
      auto value = args.value();
      if (!value.ok()) fail(value.status().message());
      return *std::move(value);
    };
    if (args.has_inline_value() && (arg == "--help" || arg == "--sizes")) {
      fail(arg + " takes no value");
    }
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (arg == "--kind") {
      auto kind = tajir::cachesim::parse_trace_kind(take());
      if (!kind.ok()) fail(kind.status().message());
      o.kind = *kind;
    } else if (arg == "--requests") {
      o.requests = parse_number<uint64_t>(arg, take());
    } else if (arg == "--keys") {
      o.keys = parse_number<uint64_t>(arg, take());
    } else if (arg == "--alpha") {
      o.alpha = parse_number<double>(arg, take());
    } else if (arg == "--seed") {
      o.seed = parse_number<uint64_t>(arg, take());
    } else if (arg == "--sizes") {
      o.sizes = true;
    } else if (arg == "--out") {
      out_path = take();
    } else if (arg == "--scan-fraction") {
      o.scan_fraction = parse_number<double>(arg, take());
    } else if (arg == "--scan-length") {
      o.scan_length = parse_number<uint64_t>(arg, take());
    } else if (arg == "--loop-fraction") {
      o.loop_fraction = parse_number<double>(arg, take());
    } else if (arg == "--loop-keys") {
      o.loop_keys = parse_number<uint64_t>(arg, take());
    } else if (arg == "--drift-every") {
      o.drift_every = parse_number<uint64_t>(arg, take());
    } else {
      fail("unknown argument '" + arg + "'");
    }
  }
  auto requests = tajir::cachesim::generate_trace(o);
  if (!requests.ok()) fail(requests.status().message());
  if (out_path.empty()) {
    std::ios::sync_with_stdio(false);
    tajir::cachesim::write_trace(*requests, o.sizes, std::cout);
    std::cout.flush();
    if (!std::cout) fail("cannot write to stdout");
  } else {
    std::ofstream out(out_path, std::ios::binary | std::ios::trunc);
    if (!out) fail("cannot open '" + out_path + "' for writing");
    tajir::cachesim::write_trace(*requests, o.sizes, out);
    out.close();
    if (!out) fail("cannot write '" + out_path + "'");
  }
  return 0;
}
