#pragma once

// Containerizer::wait() as both containerizers do it: a known container
// queues the callback for its end; an unknown one is answered with a
// termination saying so, delivered on the loop (never inside the call).

#include <string>

#include "agora/agent/containerizer.hpp"

namespace agora::agent {

inline void answerUnknownContainer(Clock& clock, const std::string& containerId,
                                   Containerizer::TerminationCallback done) {
  clock.schedule(Duration::zero(), [done = std::move(done), containerId] {
    ContainerTermination termination;
    termination.message = "Unknown container " + containerId;
    done(termination);
  });
}

// `containers` maps container IDs to records with a `waiters` vector.
template <typename Containers>
void waitForContainer(Clock& clock, Containers& containers, const std::string& containerId,
                      Containerizer::TerminationCallback done) {
  auto it = containers.find(containerId);
  if (it == containers.end()) {
    answerUnknownContainer(clock, containerId, std::move(done));
    return;
  }
  it->second.waiters.push_back(std::move(done));
}

}  // namespace agora::agent
