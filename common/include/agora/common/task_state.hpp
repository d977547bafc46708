#pragma once

// Task state facts shared by the master, the agent and the SDK.

#include "agora/v1/agora.pb.h"

namespace agora {

// FINISHED, FAILED, KILLED, ERROR, LOST, DROPPED, GONE and GONE_BY_OPERATOR
// (the terminal set Mesos uses; LOST and GONE_BY_OPERATOR may still
// resurrect on reregistration). UNREACHABLE and UNKNOWN are not terminal.
inline bool isTerminalState(v1::TaskState state) {
  switch (state) {
    case v1::TASK_FINISHED:
    case v1::TASK_FAILED:
    case v1::TASK_KILLED:
    case v1::TASK_ERROR:
    case v1::TASK_LOST:
    case v1::TASK_DROPPED:
    case v1::TASK_GONE:
    case v1::TASK_GONE_BY_OPERATOR:
      return true;
    default:
      return false;
  }
}

}  // namespace agora
