#pragma once

// Stopping a framework cleanly on Ctrl-C or `kill`: while a ShutdownSignals
// lives, SIGINT and SIGTERM do not kill the process; the first one calls
// `onSignal` on a thread of its own (later ones are ignored).
//
//   AgoraSchedulerDriver driver(scheduler, framework, master);
//   ShutdownSignals signals([&] { driver.stop(); });   // before start()
//   Status status = driver.run();
//
// Construct it on the main thread before the driver starts: it blocks the
// two signals in the calling thread, and threads started afterwards (the
// driver's) inherit that mask, so one thread receives them. The destructor
// restores the previous mask.

#include <functional>
#include <memory>

namespace agora::sdk {

class ShutdownSignals {
 public:
  explicit ShutdownSignals(std::function<void()> onSignal);
  ~ShutdownSignals();

  ShutdownSignals(const ShutdownSignals&) = delete;
  ShutdownSignals& operator=(const ShutdownSignals&) = delete;

  // Whether a signal arrived.
  bool received() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace agora::sdk
