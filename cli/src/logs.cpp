// agora logs TASK [--follow] [--stderr]: finds the task's agent through the
// master's /state and reads the file from the task's sandbox with the
// agent's /files/read (framework_id + task_id + path), as Mesos's
// mesos-tail does.

#include <chrono>
#include <iostream>
#include <thread>

#include <fmt/format.h>

#include "client.hpp"

namespace agora::cli {

namespace {

int runLogs(Context& context, const std::string& given, const std::string& frameworkId, bool follow, bool stderrFile) {
  auto state = getJson(context.address, "/state");
  if (!state.ok()) return report(state.error());
  auto task = findTask(*state, given, frameworkId);
  if (!task.ok()) return report(task.error());
  auto agent = agentAddress(*state, task->agentId);
  if (!agent.ok()) return report(agent.error());
  const std::string base = fmt::format("/files/read?framework_id={}&task_id={}&path={}", percentEncode(task->frameworkId),
                                       percentEncode(task->taskId), stderrFile ? "stderr" : "stdout");
  int64_t offset = 0;
  std::string taskState = task->state;
  int idle = 0;
  while (true) {
    auto chunk = getJson(*agent, fmt::format("{}&offset={}", base, offset));
    if (!chunk.ok()) return report(chunk.error().withContext("Reading the sandbox of task " + task->taskId));
    std::string data = chunk->value("data", "");
    if (!data.empty()) {
      std::cout << data << std::flush;
      offset += static_cast<int64_t>(data.size());
      continue;
    }
    if (!follow || isTerminalStateName(taskState)) return kExitOk;
    // Following: poll the file, and now and then the task's state.
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    if (++idle % 4 == 0) {
      auto now = getJson(context.address, "/state");
      if (!now.ok()) return report(now.error());
      auto current = findTask(*now, task->taskId, task->frameworkId);
      taskState = current.ok() ? current->state : "TASK_LOST";
    }
  }
}

}  // namespace

void addLogsCommand(CLI::App& app, Context& context) {
  CLI::App* command = app.add_subcommand("logs", "Print a task's stdout (or stderr) from its sandbox");
  auto task = std::make_shared<std::string>();
  auto framework = std::make_shared<std::string>();
  auto follow = std::make_shared<bool>(false);
  auto stderrFile = std::make_shared<bool>(false);
  command->add_option("TASK", *task, "Task id (or a unique prefix)")->required();
  command->add_option("--framework", *framework, "The task's framework (id or prefix), when ids repeat");
  command->add_flag("--follow,-f", *follow, "Keep printing as the file grows, until the task ends");
  command->add_flag("--stderr", *stderrFile, "Print stderr instead of stdout");
  command->callback([&context, task, framework, follow, stderrFile] {
    context.exitCode = runLogs(context, *task, *framework, *follow, *stderrFile);
  });
}

}  // namespace agora::cli
