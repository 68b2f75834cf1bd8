#include "cache/eviction_policy.h"

#include "cache/internal/policies.h"

namespace tajir::cache {

std::unique_ptr<EvictionPolicy> make_eviction_policy(std::string_view name, uint64_t capacity) {
  if (name == "tajir") return internal::make_tajir_policy(capacity);
  if (name == "lru") return internal::make_lru_policy(capacity);
  if (name == "fifo") return internal::make_fifo_policy(capacity);
  return nullptr;
}

}  // namespace tajir::cache
