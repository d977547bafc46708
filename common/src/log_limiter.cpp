#include "agora/common/log_limiter.hpp"

#include <algorithm>
#include <utility>

namespace agora {

LogLimiter::LogLimiter(SteadyTimeSource now, uint32_t burst, std::chrono::milliseconds interval)
    : now_(std::move(now)),
      burst_(std::max<uint32_t>(burst, 1)),
      interval_(std::max(interval, std::chrono::milliseconds(1))),
      tokens_(burst_) {}

std::chrono::steady_clock::time_point LogLimiter::now() const {
  return now_ ? now_() : std::chrono::steady_clock::now();
}

std::optional<uint64_t> LogLimiter::admit() {
  const auto t = now();
  if (last_ && t > *last_) {
    const double elapsed = std::chrono::duration<double, std::milli>(t - *last_).count();
    tokens_ = std::min(burst_, tokens_ + elapsed / static_cast<double>(interval_.count()));
  }
  if (!last_ || t > *last_) last_ = t;
  if (tokens_ < 1.0) {
    ++suppressedSinceLast_;
    ++suppressedTotal_;
    return std::nullopt;
  }
  tokens_ -= 1.0;
  return std::exchange(suppressedSinceLast_, 0);
}

}  // namespace agora
