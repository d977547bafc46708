#pragma once

// Helpers every framework author wants: building a TaskInfo, checking an
// offer's attributes, carving N tasks of a given shape out of an offer, and
// packing tasks of several shapes into a batch of offers.
//
//   SlotPacker packer(offers, {.constraints = {AttributeConstraint::equals("rack", "r1")}});
//   while (auto placement = packer.place({.cpus = 0.5, .mem = 64})) {
//     const v1::Offer& offer = packer.offer(placement->offer);
//     auto task = TaskBuilder("task-" + std::to_string(n++))
//                     .agent(offer.agent_id())
//                     .shell("echo hello")
//                     .resources(placement->resources)
//                     .build();
//     ...
//   }
//   for (auto& [offerIndex, tasks] : byOffer) driver.launch({offers[offerIndex].id()}, tasks);
//
// All of this is pure computation on protobufs: no driver, no I/O.

#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "agora/common/clock.hpp"
#include "agora/common/resources.hpp"
#include "agora/common/result.hpp"
#include "agora/v1/agora.pb.h"

namespace agora::sdk {

// Builds a TaskInfo step by step; build() validates it.
class TaskBuilder {
 public:
  // `taskId` must be a valid ID (validateId); unique within the framework
  // is the framework's business. The name defaults to the id.
  explicit TaskBuilder(std::string taskId);

  TaskBuilder& name(std::string name);
  // The agent of the offer the task is launched with (required).
  TaskBuilder& agent(const v1::AgentID& agentId);
  // Runs `/bin/sh -c command` under the command executor.
  TaskBuilder& shell(std::string command);
  // Execs `path` with `argv` (argv[0] included), no shell.
  TaskBuilder& exec(std::string path, std::vector<std::string> argv);
  // An environment variable for the command.
  TaskBuilder& env(std::string name, std::string value);
  // The Unix user (instead of FrameworkInfo.user).
  TaskBuilder& user(std::string user);
  // The task's resources (from an offer: matchTasks(), SlotPacker).
  TaskBuilder& resources(const Resources& resources);
  TaskBuilder& resources(const google::protobuf::RepeatedPtrField<v1::Resource>& resources);
  // Time between SIGTERM and SIGKILL when the task is killed (default 3 s).
  TaskBuilder& killGracePeriod(Duration grace);
  // The task fails with REASON_MAX_COMPLETION_TIME_REACHED if it runs longer.
  TaskBuilder& maxCompletionTime(Duration limit);
  // A health check the command executor runs (COMMAND, HTTP or TCP against
  // 127.0.0.1): TASK_RUNNING updates carry `healthy`, and the task is killed
  // after `consecutive_failures` failures (framework-sdk/README.md).
  TaskBuilder& healthCheck(v1::HealthCheck check);
  // A check whose raw result (exit code, HTTP status, TCP success) comes in
  // TASK_RUNNING updates' `check_status`; it never kills the task.
  TaskBuilder& check(v1::CheckInfo check);
  // Runs the task under a custom executor instead of a command.
  TaskBuilder& executor(v1::ExecutorInfo executor);
  TaskBuilder& label(std::string key, std::string value);
  TaskBuilder& data(std::string bytes);

  // Errors (InvalidArgument): an invalid task id, no agent, neither or both
  // of a command and an executor, an empty command.
  Result<v1::TaskInfo> build() const;

 private:
  v1::TaskInfo task_;
};

// One predicate on an offer's agent attributes. `attribute` names an
// attribute (`--attributes=rack:r1;zone:a`) or the pseudo-attribute
// "hostname". Values compare as text: TEXT as is, SCALAR in shortest form
// ("4", "0.5"), RANGES as "[1-3,5-5]", SET as "{a,b}".
struct AttributeConstraint {
  enum class Op { kEquals, kNotEquals, kExists, kNotExists };
  std::string attribute;
  Op op = Op::kExists;
  std::string value;

  static AttributeConstraint equals(std::string attribute, std::string value) {
    return {std::move(attribute), Op::kEquals, std::move(value)};
  }
  static AttributeConstraint notEquals(std::string attribute, std::string value) {
    return {std::move(attribute), Op::kNotEquals, std::move(value)};
  }
  static AttributeConstraint exists(std::string attribute) { return {std::move(attribute), Op::kExists, {}}; }
  static AttributeConstraint notExists(std::string attribute) { return {std::move(attribute), Op::kNotExists, {}}; }
};

// The text value of `attribute` on the offer ("hostname" included); nullopt
// when the agent does not have it.
std::optional<std::string> attributeValue(const v1::Offer& offer, std::string_view attribute);

// Every constraint holds for the offer.
bool satisfies(const v1::Offer& offer, const std::vector<AttributeConstraint>& constraints);

// The shape of one task. Amounts are in the agent's units (cpus, MB);
// `ports` is how many ports the task needs. Zero means none.
struct TaskRequest {
  double cpus = 0;
  double mem = 0;
  double disk = 0;
  double gpus = 0;
  uint32_t ports = 0;

  // "cpus:0.5;mem:64;disk:10;gpus:1;ports:2"; unknown names, negative or
  // malformed amounts are errors.
  static Result<TaskRequest> parse(std::string_view text);
};

// Carves `request` out of `available` (an offer's resources, or what is left
// of them) and returns the exact resources for one task, with their
// allocation role and reservations as offered: reserved resources are used
// before unreserved ones, ports lowest first. Persistent volumes and MOUNT
// disks are never used. On success the task's resources are subtracted from
// `available`; nullopt (and `available` unchanged) when they do not fit.
std::optional<Resources> carve(Resources& available, const TaskRequest& request);

// Up to `count` tasks of `request` from one offer: one Resources per task,
// fewer when the offer is too small, none when the constraints fail.
std::vector<Resources> matchTasks(const v1::Offer& offer, const TaskRequest& request, size_t count,
                                  const std::vector<AttributeConstraint>& constraints = {});

enum class PackStrategy {
  kBinPack,  // The first offer (in the order given) with room: fills agents one by one.
  kSpread,   // The offer whose agent has the fewest tasks placed so far: spreads load.
};

struct PackOptions {
  PackStrategy strategy = PackStrategy::kBinPack;
  // Offers that fail these are never used.
  std::vector<AttributeConstraint> constraints;
  // At most this many placed tasks per agent (e.g. 1 for "one per host").
  size_t maxPerAgent = std::numeric_limits<size_t>::max();
};

// Places tasks one at a time into a batch of offers.
class SlotPacker {
 public:
  struct Placement {
    size_t offer;         // Index into the offers given to the constructor.
    Resources resources;  // The task's exact resources.
  };

  explicit SlotPacker(std::vector<v1::Offer> offers, PackOptions options = {});

  // Places one task; nullopt when no offer has room for it.
  std::optional<Placement> place(const TaskRequest& request);

  // Places as many of `requests` as fit, largest first (first-fit
  // decreasing by cpus, then mem); returns (request index, placement)
  // pairs in request order. Unplaced requests are absent.
  std::vector<std::pair<size_t, Placement>> placeAll(const std::vector<TaskRequest>& requests);

  const v1::Offer& offer(size_t index) const { return offers_[index]; }
  size_t offerCount() const { return offers_.size(); }
  // What is left of an offer.
  const Resources& remaining(size_t index) const { return remaining_[index]; }
  // Offers no task was placed in (to decline).
  std::vector<v1::OfferID> unusedOffers() const;

 private:
  std::vector<v1::Offer> offers_;
  PackOptions options_;
  std::vector<Resources> remaining_;  // Parallel to offers_.
  std::vector<bool> eligible_;        // Parallel to offers_: constraints hold, resources parse.
  std::vector<size_t> used_;          // Parallel to offers_: tasks placed in it.
  std::map<std::string, size_t> perAgent_;  // Agent id -> tasks placed.
};

// The label of a terminal TaskStatus from the command executor that carries
// the command's exit status ("0".."255"), when it exited (not by a signal).
inline constexpr const char* kExitStatusLabel = "exit_status";

// The exit status of a command task from its terminal update: the
// "exit_status" label, else parsed from a message "Command exited with
// status N". nullopt when neither says (killed by a signal, lost, ...).
std::optional<int> exitStatus(const v1::TaskStatus& status);

}  // namespace agora::sdk
