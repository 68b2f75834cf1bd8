// Constructors of the built-in eviction policies; make_eviction_policy() picks one by name.
#pragma once

#include <cstdint>
#include <memory>

#include "cache/eviction_policy.h"

namespace tajir::cache::internal {

std::unique_ptr<EvictionPolicy> make_lru_policy(uint64_t capacity);
std::unique_ptr<EvictionPolicy> make_fifo_policy(uint64_t capacity);
std::unique_ptr<EvictionPolicy> make_tajir_policy(uint64_t capacity);

}  // namespace tajir::cache::internal
