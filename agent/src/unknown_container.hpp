#pragma once

// What every Containerizer answers to wait() on a container it does not
// know: a termination saying so, delivered on the loop (never inside the call).

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

}  // namespace agora::agent
