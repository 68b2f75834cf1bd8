#include "api/auto_tuner.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "api/cache_report.h"
#include "pos/pos.h"

namespace tajir::api {
namespace {

constexpr size_t kChangesKept = 32;

std::string rate_text(double r) { return std::to_string(r).substr(0, 5); }

}  // namespace

AutoTuner::AutoTuner(cache::Cache& cache, Options options) : cache_(cache), options_(options) {
  const cache::Stats st = cache_.stats();
  hits_ = st.total.hits;
  misses_ = st.total.misses;
  if (options_.period.count() > 0) thread_ = std::jthread([this](std::stop_token s) { loop(s); });
}

AutoTuner::~AutoTuner() {
  thread_.request_stop();
  wake_.notify_all();
}

void AutoTuner::loop(std::stop_token stop) {
  while (true) {
    {
      std::unique_lock lock(wake_mu_);
      wake_.wait_for(lock, stop, options_.period, [] { return false; });
    }
    if (stop.stop_requested()) return;
    step();
  }
}

void AutoTuner::set(const std::string& setting, int64_t value) {
  if (setting == "cache-memory")
    cache_.set_memory_limit(static_cast<uint64_t>(value));
  else
    cache_.set_default_ttl(std::chrono::seconds(value));
}

void AutoTuner::apply(const std::string& setting, int64_t from, int64_t to, std::string because,
                      double baseline) {
  set(setting, to);
  trial_baseline_ = baseline;
  spdlog::info("auto-tune: {} {} -> {}, because {} (hit rate before: {})", setting, from, to,
               because, rate_text(baseline));
  changes_.push_back({pos::now_ms(), setting, from, to, std::move(because), "on trial"});
  if (changes_.size() > kChangesKept) changes_.pop_front();
}

void AutoTuner::step() {
  std::lock_guard lock(mu_);
  const cache::Stats st = cache_.stats();
  const uint64_t hits = st.total.hits - hits_, misses = st.total.misses - misses_;
  if (hits + misses < options_.min_requests) return;  // too few to judge: the window grows
  hits_ = st.total.hits;
  misses_ = st.total.misses;
  const double rate = static_cast<double>(hits) / static_cast<double>(hits + misses);
  ++steps_;

  if (trial_baseline_) {  // judge the change on trial
    Change& c = changes_.back();
    const std::string figures =
        "hit rate " + rate_text(rate) + " after, " + rate_text(*trial_baseline_) + " before";
    if (rate < *trial_baseline_ - options_.tolerance) {
      set(c.setting, c.from);
      barred_[c.setting] = steps_ + static_cast<uint64_t>(options_.cooldown);
      c.outcome = "backed out: " + figures;
      spdlog::warn("auto-tune: {} {} -> {} backed out: {}", c.setting, c.to, c.from, figures);
    } else {
      c.outcome = "kept: " + figures;
      spdlog::info("auto-tune: {} {} kept: {}", c.setting, c.to, figures);
    }
    trial_baseline_.reset();
    return;
  }

  auto ready = [&](const std::string& setting) { return steps_ > barred_[setting]; };
  if (auto advice = memory_advice(st); advice && ready("cache-memory")) {
    const auto to = static_cast<int64_t>(std::clamp(advice->at("recommended_bytes").get<uint64_t>(),
                                                    options_.min_memory, options_.max_memory));
    const auto from = static_cast<int64_t>(cache_.memory_limit());
    if (to != from) {
      apply("cache-memory", from, to, advice->at("because").get<std::string>(), rate);
      return;
    }
  }
  if (!ready("cache-ttl") || cache_.default_ttl().count() <= 0) return;
  // The advice of the type read most.
  std::optional<nlohmann::json> best;
  uint64_t best_reads = 0;
  for (nlohmann::json& advice :
       ttl_advices(st, cache_.default_ttl(), cache_.options().ttl_jitter)) {
    for (const auto& [name, t] : st.by_type) {
      if (name == advice.at("type").get<std::string>() && t.hits + t.misses >= best_reads) {
        best_reads = t.hits + t.misses;
        best = std::move(advice);
        break;
      }
    }
  }
  if (!best) return;
  const int64_t from = cache_.default_ttl().count() / 1000;
  const int64_t to = std::clamp<int64_t>(best->at("recommended_seconds").get<int64_t>(),
                                         options_.min_ttl.count(), options_.max_ttl.count());
  if (to != from) apply("cache-ttl", from, to, best->at("because").get<std::string>(), rate);
}

std::vector<AutoTuner::Change> AutoTuner::changes() const {
  std::lock_guard lock(mu_);
  return {changes_.begin(), changes_.end()};
}

}  // namespace tajir::api
