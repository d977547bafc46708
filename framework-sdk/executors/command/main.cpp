// agora-executor: the command executor. The agent starts one per command
// task with the AGORA_* environment (framework-sdk/include/agora/executor.hpp,
// ExecutorEnvironment); AgoraExecutorDriver connects to the agent's executor
// socket, and CommandExecutor runs the task's command in the sandbox and
// reports its states until the agent has acknowledged the terminal one.

#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "agora/common/logging.hpp"
#include "agora/executor_driver.hpp"
#include "command_executor.hpp"
#include "default_executor.hpp"
#include "process_runner.hpp"
#include "task_checks.hpp"

extern char** environ;

namespace {

using namespace agora;
using namespace agora::sdk;

CommandExecutorOptions commandOptions(const ExecutorEnvironment& environment) {
  CommandExecutorOptions options;
  options.directory = environment.directory;
  options.shutdownGracePeriod = environment.shutdownGracePeriod;
  for (char** variable = environ; *variable != nullptr; ++variable) options.environment.emplace_back(*variable);
  return options;
}

// The driver, and the executor that runs on the driver's thread with its
// clock: the driver is constructed first and calls the executor only once
// started.
template <typename ExecutorType>
struct ExecutorProcess {
  explicit ExecutorProcess(ExecutorEnvironment environment)
      : driver(executor, std::move(environment)),
        runner([this](std::function<void()> fn) { driver.post(std::move(fn)); }),
        executor(driver.clock(), runner, commandOptions(driver.environment())) {}

  AgoraExecutorDriver driver;
  PosixProcessRunner runner;
  ExecutorType executor;
};

template <typename ExecutorType>
Status runExecutor(ExecutorEnvironment environment) {
  ExecutorProcess<ExecutorType> process(std::move(environment));
  return process.driver.run();
}

}  // namespace

int main(int argc, char** argv) {
  // The child side of HTTP and TCP health checks (task_checks.hpp).
  if (argc > 1 && std::string(argv[1]).rfind("--probe=", 0) == 0) return runProbeCommand(argc, argv);
  Result<ExecutorEnvironment> environment = ExecutorEnvironment::fromProcess();
  if (!environment.ok()) {
    std::cerr << "agora-executor: " << environment.error().message() << std::endl;
    return EXIT_FAILURE;
  }
  initLogging(LoggingOptions{});
  auto log = logger("executor");
  // --default: the default executor, for task groups (default_executor.hpp).
  bool groups = argc > 1 && std::string(argv[1]) == "--default";
  const char* kind = groups ? "Default" : "Command";
  log->info("{} executor {} of framework {} starting in {}", kind, environment->executorId.value(),
            environment->frameworkId.value(), environment->directory);

  std::string executorId = environment->executorId.value();
  Status status = groups ? runExecutor<DefaultExecutor>(std::move(*environment))
                         : runExecutor<CommandExecutor>(std::move(*environment));
  if (!status.ok()) {
    std::cerr << "agora-executor: " << status.message() << std::endl;
    return EXIT_FAILURE;
  }
  log->info("{} executor {} exiting", kind, executorId);
  return EXIT_SUCCESS;
}
