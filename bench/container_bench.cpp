// agora_container_bench: launching and destroying containers through the
// agent's cgroups containerizer, next to the kernel floor, in the same run
// (issue 7; results in docs/benchmarks.md). Needs root and cgroups.
//
//   agora_container_bench [--containers=1000] [--isolation=cgroups/cpu,...] [--cgroups_root=agora-bench]
//                         [--watch=false] [--pidfds=false] [--poll_interval=100ms]
//
// floor          for each container: mkdir its cgroup in every hierarchy the
//                containerizer uses, fork a child held on a pipe, write its
//                pid into each cgroup.procs, let it exec the static binary
//                (which exits), waitpid, rmdir. One after the other.
// launch+exit    the containerizer as the agent runs it (its loop on an
//                io_context, blocking work on one worker thread): N launches
//                of the static binary issued at once; done when every wait()
//                has fired, i.e. every container has ended and its cgroups
//                are removed.
// launch,destroy N launches of the static binary that waits; once all run,
//                destroy() of all (no grace); done when every wait() fired.
//
// Rates are containers per second of wall time; the ratio is to the floor.

#include <utility>  // Before any Asio header (STYLE.md).

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <set>
#include <string>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <fmt/format.h>

#include "agora/agent/cgroups_containerizer.hpp"
#include "agora/common/clock.hpp"
#include "agora/common/flags.hpp"
#include "agora/common/logging.hpp"

namespace {

using namespace agora;
using Seconds = std::chrono::duration<double>;
namespace cz = agora::containerizer;

std::string childPath() {
  return (std::filesystem::read_symlink("/proc/self/exe").parent_path() / "agora_bench_static_child").string();
}

bool writeText(const std::string& path, const std::string& text) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(fd);
  return ok;
}

// The kernel floor, for `n` containers in `roots` (one directory per
// hierarchy). Returns the wall time.
Result<Seconds> floor(int n, const std::vector<std::string>& roots, const std::string& child) {
  for (const std::string& root : roots) std::filesystem::create_directories(root);
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i) {
    std::vector<std::string> dirs;
    for (const std::string& root : roots) {
      dirs.push_back(root + "/floor-" + std::to_string(i));
      if (::mkdir(dirs.back().c_str(), 0755) != 0) return Status::IoError("mkdir " + dirs.back() + ": " + std::strerror(errno));
    }
    int sync[2];
    if (::pipe2(sync, O_CLOEXEC) != 0) return Status::IoError("pipe");
    pid_t pid = ::fork();
    if (pid == 0) {
      char go;
      ::close(sync[1]);
      if (::read(sync[0], &go, 1) != 1) ::_exit(126);
      char* argv[] = {const_cast<char*>(child.c_str()), nullptr};
      char* envp[] = {nullptr};
      ::execve(child.c_str(), argv, envp);
      ::_exit(127);
    }
    ::close(sync[0]);
    std::string text = std::to_string(pid);
    for (const std::string& dir : dirs) {
      if (!writeText(dir + "/cgroup.procs", text)) return Status::IoError("cgroup.procs of " + dir);
    }
    if (::write(sync[1], "x", 1) != 1) return Status::IoError("release");
    ::close(sync[1]);
    int status;
    ::waitpid(pid, &status, 0);
    for (const std::string& dir : dirs) {
      while (::rmdir(dir.c_str()) != 0 && errno == EBUSY) {
      }
    }
  }
  return std::chrono::duration_cast<Seconds>(std::chrono::steady_clock::now() - start);
}

// The containerizer on a loop and one worker thread, as in agora-agent.
struct Harness {
  boost::asio::io_context loop;
  AsioClock clock{loop};
  boost::asio::thread_pool worker{1};
  std::unique_ptr<agent::Containerizer> containerizer;

  Harness(std::unique_ptr<cz::Cgroups> cgroups, const std::string& isolation, Duration pollInterval, bool watch,
          bool pidfds) {
    agent::CgroupsContainerizerOptions options;
    agent::applyIsolation(isolation, &options);
    options.pollInterval = pollInterval;
    if (watch) options.watchReadable = agent::asioWatchReadable(loop);
    options.usePidfds = pidfds;
    options.runBlocking = [this](std::function<void()> work, std::function<void()> done) {
      boost::asio::post(worker, [this, work = std::move(work), done = std::move(done)]() mutable {
        work();
        boost::asio::post(loop, std::move(done));
      });
    };
    containerizer = agent::makeCgroupsContainerizer(clock, std::move(cgroups), options);
    // Leftovers of an interrupted run are orphans: destroyed first.
    (void)containerizer->recover({});
  }
  ~Harness() {
    containerizer.reset();
    worker.join();
  }
};

agent::ContainerConfig config(const std::string& id, const std::string& child, const std::string& sandbox,
                              bool wait) {
  agent::ContainerConfig c;
  c.containerId = id;
  c.sandbox = sandbox;
  c.argv = {child};
  if (wait) c.argv.push_back("wait");
  c.resources = Resources::parse("cpus:0.1;mem:32").value();
  return c;
}

struct Timings {
  Seconds launched{};
  Seconds ended{};
  int failures = 0;
};

// Launches n containers at once; with `destroy`, destroys them all once all
// run. Times to "all launched" and to "all ended".
Timings run(Harness& h, int n, const std::string& child, const std::string& sandbox, bool destroy,
            const std::string& prefix) {
  Timings t;
  int launched = 0;
  int ended = 0;
  auto start = std::chrono::steady_clock::now();
  auto since = [&] { return std::chrono::duration_cast<Seconds>(std::chrono::steady_clock::now() - start); };
  std::vector<std::string> ids;
  for (int i = 0; i < n; ++i) ids.push_back(prefix + std::to_string(i));
  for (const std::string& id : ids) {
    h.containerizer->launch(config(id, child, sandbox, destroy), [&, id](Result<pid_t> pid) {
      ++launched;
      if (!pid.ok()) {
        ++t.failures;
        ++ended;
        if (t.failures == 1) std::cerr << "launch failed: " << pid.error().message() << std::endl;
      } else {
        h.containerizer->wait(id, [&](const agent::ContainerTermination&) {
          if (++ended == n) {
            t.ended = since();
            h.loop.stop();
          }
        });
      }
      if (launched == n) {
        t.launched = since();
        if (destroy) {
          for (const std::string& each : ids) h.containerizer->destroy(each, Duration::zero());
        }
        if (ended == n) {
          t.ended = since();
          h.loop.stop();
        }
      }
    });
  }
  h.loop.restart();
  auto busy = boost::asio::make_work_guard(h.loop);  // Work is on the worker until it posts back.
  h.loop.run();
  return t;
}

}  // namespace

int main(int argc, char** argv) {
  int64_t containers = 1000;
  std::string isolation;
  std::string cgroupsRoot;
  Flags flags("agora_container_bench");
  flags.add(&containers, "containers", "How many containers each measurement starts", 1000,
            inRange<int64_t>(1, 100000));
  flags.add(&isolation, "isolation", "The containerizer's isolators", agent::kDefaultCgroupsIsolation);
  flags.add(&cgroupsRoot, "cgroups_root", "Where the benchmark's cgroups go", "agora-bench");
  Duration pollInterval{};
  flags.add(&pollInterval, "poll_interval", "The containerizer's poll interval", std::chrono::milliseconds(100));
  bool watch = true;
  flags.add(&watch, "watch", "Watch executors' pidfds on the loop (as agora-agent does); false: poll them",
            true);
  bool pidfds = true;
  flags.add(&pidfds, "pidfds",
            "Use pidfds; false: waitpid(WNOHANG) per live executor at every poll, as before pidfds", true);
  if (Status s = flags.parse(argc, argv); !s.ok()) {
    std::cerr << s.message() << std::endl;
    return 1;
  }
  if (flags.helpRequested()) {
    std::cout << flags.usage();
    return 0;
  }
  LoggingOptions logging;
  logging.level = LogLevel::kWarning;
  initLogging(logging);
  if (::geteuid() != 0) {
    std::cerr << "needs root" << std::endl;
    return 1;
  }
  cz::CgroupsOptions options;
  options.cgroupsRoot = cgroupsRoot;
  auto cgroups = cz::detectCgroups(options);
  if (!cgroups.ok()) {
    std::cerr << cgroups.error().message() << std::endl;
    return 1;
  }
  // The floor uses the same hierarchies as the containerizer.
  std::vector<std::string> roots;
  for (const std::string& path : (*cgroups)->paths("x")) roots.push_back(std::filesystem::path(path).parent_path());
  std::string child = childPath();
  std::string sandbox = std::filesystem::temp_directory_path() / "agora-container-bench";
  std::filesystem::create_directories(sandbox);
  int n = static_cast<int>(containers);

  auto floorTime = floor(n, roots, child);
  if (!floorTime.ok()) {
    std::cerr << "floor: " << floorTime.error().message() << std::endl;
    return 1;
  }
  Harness harness(std::move(*cgroups), isolation, pollInterval, watch && pidfds, pidfds);
  Timings exit = run(harness, n, child, sandbox, false, "exit-");
  Timings destroy = run(harness, n, child, sandbox, true, "run-");
  std::error_code ignored;
  for (const std::string& root : roots) std::filesystem::remove(root, ignored);
  std::filesystem::remove_all(sandbox, ignored);

  double floorRate = n / floorTime->count();
  auto line = [&](const char* name, Seconds time) {
    double rate = n / time.count();
    std::cout << fmt::format("{:<34} {:>9.3f} s {:>9.1f}/s {:>7.2f}x floor\n", name, time.count(), rate,
                             rate / floorRate);
  };
  std::cout << fmt::format("{} containers, {} hierarchies, isolation {}, {}\n", n, roots.size(), isolation,
                           watch && pidfds ? "pidfds watched on the loop"
                                           : fmt::format("polled every {}{}", formatDuration(pollInterval),
                                                         pidfds ? " (pidfds)" : " (waitpid)"));
  line("floor (create, run, wait, remove)", *floorTime);
  line("launch+exit (all ended, removed)", exit.ended);
  line("launch (all running)", destroy.launched);
  line("destroy (all ended, removed)", destroy.ended - destroy.launched);
  line("launch then destroy (total)", destroy.ended);
  if (exit.failures + destroy.failures > 0) {
    std::cout << exit.failures + destroy.failures << " launches failed\n";
    return 1;
  }
  return 0;
}
