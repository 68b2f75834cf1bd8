#include <cstdio>
#include <string>

#include "app/commands.h"
#include "cache/cache.h"

namespace tajir::app {

int demo() {
  cache::Cache c({.memory_limit_bytes = 64 << 20, .maintenance_interval = {}});
  cache::TypeId products = c.register_type("products");
  int loads = 0;
  auto page = [&](int shop, int n) {
    return c.get_or_load(
        "products:" + std::to_string(shop) + ":page=" + std::to_string(n),
        [&]() -> Result<std::string> {
          ++loads;
          return std::string(R"({"items":[{"id":1,"name":"Tea","price":1250}],"page":)") +
                 std::to_string(n) + "}";
        },
        {.tags = {"shop:" + std::to_string(shop), "products:" + std::to_string(shop)},
         .type = products});
  };
  for (int round = 0; round < 3; ++round) {
    for (int n = 1; n <= 5; ++n) (void)page(42, n);
  }
  std::printf("15 reads of 5 product pages: %d loads\n", loads);
  size_t dropped = c.invalidate_tags({"products:42"});
  std::printf("a product of shop 42 changed: %zu pages dropped\n", dropped);
  (void)page(42, 1);
  auto st = c.stats();
  std::printf("hits %llu, misses %llu, hit rate %.2f, keys %llu, %llu bytes, policy %s\n",
              static_cast<unsigned long long>(st.total.hits),
              static_cast<unsigned long long>(st.total.misses), st.total.hit_rate(),
              static_cast<unsigned long long>(st.total.keys),
              static_cast<unsigned long long>(st.total.memory_bytes), st.policy.c_str());
  return 0;
}

}  // namespace tajir::app
