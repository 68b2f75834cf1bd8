// PLACEHOLDER until the adaptive default policy lands: the default is LRU for now.
#include "cache/internal/policies.h"

namespace tajir::cache::internal {

std::unique_ptr<EvictionPolicy> make_tajir_policy(uint64_t capacity) {
  return make_lru_policy(capacity);
}

}  // namespace tajir::cache::internal
