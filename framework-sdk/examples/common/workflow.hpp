#pragma once

// A workflow for agora-example-workflow: a DAG of command steps read from a
// JSON file.
//
//   {"steps": [
//     {"name": "extract",   "command": "fetch.sh", "retries": 2},
//     {"name": "transform", "command": "shard.sh $SHARD $SHARDS", "deps": ["extract"], "fanout": 4},
//     {"name": "load",      "command": "load.sh", "deps": ["transform"], "resources": "cpus:1;mem:256"}
//   ]}
//
// "fanout": N runs N copies of the step with SHARD=0..N-1 and SHARDS=N in
// their environment; the step is done when every copy finished. "retries"
// relaunches a failed copy (default 0). "resources" overrides the example's
// --resources for that step.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agora/common/result.hpp"
#include "agora/task_helpers.hpp"

namespace agora::examples {

struct WorkflowStep {
  std::string name;
  std::string command;
  std::vector<std::string> deps;
  int64_t fanout = 1;
  int64_t retries = 0;
  std::optional<sdk::TaskRequest> resources;
};

struct Workflow {
  // In an order where every step comes after its dependencies.
  std::vector<WorkflowStep> steps;

  // Errors (InvalidArgument) name the step and the problem: not JSON, no
  // steps, a duplicate or invalid name (it becomes part of task IDs), an
  // unknown dependency, a cycle, a fanout outside 1..1000, bad resources.
  static Result<Workflow> parse(std::string_view json);
  static Result<Workflow> load(const std::string& path);
};

}  // namespace agora::examples
