#pragma once

// LogLimiter: a token bucket for warnings about untrusted input, so that a
// flood of bad messages or requests cannot fill the disk. Each allowed line
// tells how many were suppressed since the previous one.
//
//   if (auto suppressed = limiter.admit()) {
//     spdlog::warn("Dropped message from {}: too large ({} suppressed)", peer, *suppressed);
//   }
//
// Not thread-safe: it belongs to the loop of the component that logs.

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>

namespace agora {

// Where a network component reads the time for rate limiting. Components take
// one from their owner (the daemon plugs its Clock here); an empty function
// means std::chrono::steady_clock::now, which only the transport edge uses.
using SteadyTimeSource = std::function<std::chrono::steady_clock::time_point()>;

class LogLimiter {
 public:
  // `burst` lines at once, then one line per `interval` on average.
  explicit LogLimiter(SteadyTimeSource now = {}, uint32_t burst = 10,
                      std::chrono::milliseconds interval = std::chrono::seconds(1));

  // A value when the caller may log now: the number of lines suppressed since
  // the last admitted one. nullopt when the line must be skipped (counted).
  std::optional<uint64_t> admit();

  uint64_t suppressedTotal() const { return suppressedTotal_; }

 private:
  std::chrono::steady_clock::time_point now() const;

  SteadyTimeSource now_;
  double burst_;
  std::chrono::milliseconds interval_;
  double tokens_;
  std::optional<std::chrono::steady_clock::time_point> last_;
  uint64_t suppressedSinceLast_ = 0;
  uint64_t suppressedTotal_ = 0;
};

}  // namespace agora
