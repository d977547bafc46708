// Boost 1.74 coroutines on g++ 12 need <utility> before any Asio header.
#include <utility>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "agora/common/clock.hpp"

namespace agora {

struct AsioClock::State {
  struct Timer {
    std::unique_ptr<boost::asio::steady_timer> timer;
    std::function<void()> fn;
  };
  TimerId nextId = 1;
  // Pending timers. A timer leaves this map when it fires or is cancelled;
  // a queued handler whose id is gone does nothing (it lost a race with
  // cancel(), or the clock was destroyed).
  std::unordered_map<TimerId, Timer> timers;
};

AsioClock::AsioClock(boost::asio::io_context& io) : io_(io), state_(std::make_shared<State>()) {}

AsioClock::~AsioClock() {
  for (auto& [id, timer] : state_->timers) timer.timer->cancel();
}

TimePoint AsioClock::now() const { return std::chrono::steady_clock::now(); }

WallTime AsioClock::wallNow() const { return std::chrono::system_clock::now(); }

TimerId AsioClock::schedule(Duration after, std::function<void()> fn) {
  TimerId id = state_->nextId++;
  auto timer = std::make_unique<boost::asio::steady_timer>(io_);
  timer->expires_after(std::max(after, Duration::zero()));
  std::weak_ptr<State> weak = state_;
  timer->async_wait([weak, id](const boost::system::error_code&) {
    // The error code does not matter: whether the timer was cancelled is
    // decided by its presence in the map, which also covers a cancel() that
    // came after the handler was queued.
    std::shared_ptr<State> state = weak.lock();
    if (!state) return;
    auto it = state->timers.find(id);
    if (it == state->timers.end()) return;
    std::function<void()> fn = std::move(it->second.fn);
    state->timers.erase(it);
    fn();
  });
  state_->timers.emplace(id, State::Timer{std::move(timer), std::move(fn)});
  return id;
}

bool AsioClock::cancel(TimerId id) {
  auto it = state_->timers.find(id);
  if (it == state_->timers.end()) return false;
  it->second.timer->cancel();
  state_->timers.erase(it);
  return true;
}

size_t AsioClock::pendingTimers() const { return state_->timers.size(); }

}  // namespace agora
