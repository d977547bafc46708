#include "agora/signals.hpp"

#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <thread>

namespace agora::sdk {

struct ShutdownSignals::State {
  sigset_t signals;
  sigset_t previous;
  std::atomic<bool> done{false};
  std::atomic<bool> received{false};
  std::thread waiter;
};

ShutdownSignals::ShutdownSignals(std::function<void()> onSignal) : state_(std::make_unique<State>()) {
  sigemptyset(&state_->signals);
  sigaddset(&state_->signals, SIGINT);
  sigaddset(&state_->signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &state_->signals, &state_->previous);
  state_->waiter = std::thread([state = state_.get(), onSignal = std::move(onSignal)] {
    // Polls so that the destructor can end the thread without a signal.
    timespec tick{0, 100 * 1000 * 1000};
    while (!state->done) {
      if (sigtimedwait(&state->signals, nullptr, &tick) > 0) {
        state->received = true;
        if (onSignal) onSignal();
        return;
      }
    }
  });
}

ShutdownSignals::~ShutdownSignals() {
  state_->done = true;
  state_->waiter.join();
  pthread_sigmask(SIG_SETMASK, &state_->previous, nullptr);
}

bool ShutdownSignals::received() const { return state_->received; }

}  // namespace agora::sdk
