// agora-executor: the command executor. The agent starts one per command
// task with the AGORA_* environment (framework-sdk/include/agora/executor.hpp,
// ExecutorEnvironment); it connects to the agent's executor socket, runs the
// task's command in the sandbox and reports its states until the agent has
// acknowledged the terminal one.

#include <utility>  // Before any Asio header (STYLE.md).

#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "agora/common/clock.hpp"
#include "agora/common/logging.hpp"
#include "agora/common/zmq_messenger.hpp"
#include "agora/executor_core.hpp"
#include "command_executor.hpp"
#include "process_runner.hpp"

extern char** environ;

int main() {
  using namespace agora;
  using namespace agora::sdk;

  Result<ExecutorEnvironment> environment = ExecutorEnvironment::fromProcess();
  if (!environment.ok()) {
    std::cerr << "agora-executor: " << environment.error().message() << std::endl;
    return EXIT_FAILURE;
  }
  initLogging(LoggingOptions{});
  auto log = logger("executor");

  boost::asio::io_context loop;
  AsioClock clock(loop);
  zmq::context_t context;

  PosixProcessRunner runner([&loop](std::function<void()> fn) { boost::asio::post(loop, std::move(fn)); });
  CommandExecutorOptions options;
  options.directory = environment->directory;
  options.shutdownGracePeriod = environment->shutdownGracePeriod;
  for (char** variable = environ; *variable != nullptr; ++variable) options.environment.emplace_back(*variable);
  CommandExecutor executor(clock, runner, options);

  // Give the last updates time to leave when the executor exits.
  TransportOptions transport;
  transport.linger = std::chrono::seconds(2);
  // The agent is local (ipc://): retry at a steady pace while it restarts,
  // so that it gets its executors back at once.
  transport.reconnect_interval_max = transport.reconnect_interval;
  ExecutorDriverCore* driver = nullptr;  // Set below; nothing is delivered before run().
  auto messenger = DealerMessenger::connect(
      loop, context, environment->agentEndpoint, newExecutorPeerId(), "agent", transport,
      [&driver](const PeerId& from, internal::Envelope&& envelope) { driver->handle(from, std::move(envelope)); },
      [&driver](Dealer::Event event, std::string_view) {
        if (event == Dealer::Event::kDisconnected) driver->agentLost();
        if (event == Dealer::Event::kConnected) driver->agentConnected();
      });
  if (!messenger.ok()) {
    std::cerr << "agora-executor: failed to connect to the agent at " << environment->agentEndpoint << ": "
              << messenger.error().message() << std::endl;
    return EXIT_FAILURE;
  }

  ExecutorDriverCore core(executor, *environment, clock, **messenger, "agent");
  driver = &core;
  core.setStoppedHook([&loop] { boost::asio::post(loop, [&loop] { loop.stop(); }); });
  log->info("Command executor {} of framework {} starting in {}", environment->executorId.value(),
            environment->frameworkId.value(), environment->directory);
  core.start();
  loop.run();
  log->info("Command executor {} exiting", environment->executorId.value());
  return EXIT_SUCCESS;
}
