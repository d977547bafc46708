#pragma once

// The default executor (`agora-executor --default`): runs task groups
// (LAUNCH_GROUP with an ExecutorInfo of type DEFAULT), as Mesos's
// mesos-default-executor does (reference/mesos.md §2):
//
//   - each task of a group runs its command as the command executor runs
//     one (states, exit codes, kill policy, health checks and checks), in
//     its own sandbox `<executor sandbox>/tasks/<task id>` (its stdout and
//     stderr are there; AGORA_SANDBOX points at it), all inside the
//     executor's container, sharing its cgroups and resources;
//   - a group lives and dies together: when one task of a group fails or
//     is killed (any terminal state but TASK_FINISHED), the others still
//     running are killed; a KILL of one task kills its whole group;
//   - several groups may be launched on one executor; a LAUNCH of a plain
//     task is a group of one;
//   - the executor exits once every task it was given is terminal and the
//     agent has acknowledged each terminal update (or gave up waiting), or
//     on SHUTDOWN once its tasks are gone.

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "agora/common/clock.hpp"
#include "agora/executor.hpp"
#include "command_executor.hpp"
#include "process_runner.hpp"

namespace agora::sdk {

class DefaultExecutor final : public Executor {
 public:
  // `options.directory` is the executor's sandbox ("" runs tasks in the
  // working directory, for tests). `clock` and `runner` must outlive it.
  DefaultExecutor(Clock& clock, ProcessRunner& runner, CommandExecutorOptions options);
  ~DefaultExecutor() override;

  void subscribed(ExecutorDriver& driver, const v1::ExecutorInfo& executorInfo,
                  const v1::FrameworkInfo& frameworkInfo, const v1::AgentInfo& agentInfo) override;
  void launch(ExecutorDriver& driver, const v1::TaskInfo& task) override;
  void launchGroup(ExecutorDriver& driver, const v1::TaskGroupInfo& taskGroup) override;
  void kill(ExecutorDriver& driver, const v1::TaskID& taskId, const std::optional<v1::KillPolicy>& killPolicy) override;
  void acknowledged(ExecutorDriver& driver, const v1::TaskID& taskId, const std::string& uuid) override;
  void frameworkMessage(ExecutorDriver& driver, const std::string& data) override;
  void shutdown(ExecutorDriver& driver) override;
  void error(ExecutorDriver& driver, const std::string& message) override;

  // The sandbox of a task (for tests and the docs).
  std::string taskDirectory(const std::string& taskId) const;

 private:
  class TaskDriver;
  struct TaskRun;

  void taskStatus(TaskRun& run, const v1::TaskStatus& status);
  void taskDone(TaskRun& run);
  void killGroup(uint64_t group, const std::string& except);
  void maybeStop();

  Clock& clock_;
  ProcessRunner& runner_;
  CommandExecutorOptions options_;
  ExecutorDriver* driver_ = nullptr;
  v1::ExecutorInfo executorInfo_;
  v1::FrameworkInfo framework_;
  v1::AgentInfo agent_;
  uint64_t nextGroup_ = 1;
  bool shuttingDown_ = false;
  bool stopped_ = false;
  std::map<std::string, std::unique_ptr<TaskRun>> runs_;  // By task ID.
  std::set<uint64_t> endedGroups_;  // Groups a task of which failed or was killed.
};

}  // namespace agora::sdk
