// The launcher in posix mode (no privilege needed) and its cgroups hand-off
// against a fake v2 tree; namespaces and the user switch need root and skip
// without it.

#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>

#include "agora/containerizer/launcher.hpp"
#include "test_support.hpp"

namespace agora::containerizer {
namespace {

using testing::noChildren;
using testing::readFile;
using testing::TempDir;
using testing::trim;
using testing::waitUntil;
using testing::writeFile;

class LauncherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(sandbox_.path().empty());
    ASSERT_TRUE(noChildren()) << "a previous test left a child behind";
  }

  LaunchSpec shell(const std::string& script) {
    LaunchSpec spec;
    spec.argv = {"/bin/sh", "-c", script};
    spec.env = {"PATH=/usr/bin:/bin"};
    spec.sandbox = sandbox_.path();
    return spec;
  }

  // Launches and reaps; fails the test on a launch error.
  ExitStatus run(const LaunchSpec& spec) {
    auto pid = launcher_->launch("unused", spec);
    EXPECT_TRUE(pid.ok()) << pid.error();
    if (!pid.ok()) return {};
    auto status = reap(*pid);
    EXPECT_TRUE(status.ok()) << status.error();
    return status.ok() ? *status : ExitStatus{};
  }

  TempDir sandbox_;
  std::unique_ptr<Launcher> launcher_ = makePosixLauncher();
};

TEST_F(LauncherTest, ReportsTheExitStatus) {
  ExitStatus status = run(shell("exit 3"));
  EXPECT_EQ(status.exitCode, 3);
  EXPECT_EQ(status.signal, std::nullopt);
  EXPECT_FALSE(status.success());
  EXPECT_EQ(status.toString(), "exited with status 3");
  EXPECT_TRUE(run(shell("true")).success());
}

TEST_F(LauncherTest, ReportsTheSignal) {
  ExitStatus status = run(shell("kill -KILL $$"));
  EXPECT_EQ(status.signal, SIGKILL);
  EXPECT_EQ(status.exitCode, std::nullopt);
  EXPECT_NE(status.toString().find("killed by signal 9"), std::string::npos) << status.toString();
}

TEST_F(LauncherTest, OutputLandsInTheSandbox) {
  ASSERT_TRUE(run(shell("echo out; echo err >&2; pwd")).success());
  EXPECT_EQ(readFile(sandbox_ / "stdout"), "out\n" + sandbox_.path() + "\n");
  EXPECT_EQ(readFile(sandbox_ / "stderr"), "err\n");
  // Appended, not truncated: a relaunch in the same sandbox keeps the log.
  ASSERT_TRUE(run(shell("echo again")).success());
  EXPECT_EQ(readFile(sandbox_ / "stdout"), "out\n" + sandbox_.path() + "\nagain\n");
}

TEST_F(LauncherTest, EnvironmentIsExactlyTheSpecs) {
  ::setenv("AGORA_LAUNCHER_TEST_LEAK", "leaked", 1);
  LaunchSpec spec = shell("echo \"$FOO|$AGORA_LAUNCHER_TEST_LEAK\"");
  spec.env.push_back("FOO=bar baz");
  ASSERT_TRUE(run(spec).success());
  ::unsetenv("AGORA_LAUNCHER_TEST_LEAK");
  EXPECT_EQ(readFile(sandbox_ / "stdout"), "bar baz|\n");
}

TEST_F(LauncherTest, StdinIsDevNullAndNoDescriptorLeaks) {
  int opened = ::open("/dev/null", O_RDONLY);
  ASSERT_GE(opened, 0);
  int fd = ::dup2(opened, 100);  // not close-on-exec on purpose
  ::close(opened);
  ASSERT_EQ(fd, 100);
  ASSERT_TRUE(run(shell("cat; ls /proc/self/fd | sort -n | tr '\\n' ' '")).success());
  ::close(fd);
  // 0, 1, 2 and the descriptor ls opens to read the directory, nothing else.
  std::string fds = readFile(sandbox_ / "stdout");
  EXPECT_EQ(fds.find(" " + std::to_string(fd) + " "), std::string::npos) << fds;
  EXPECT_EQ(fds.rfind("0 1 2 3 ", 0), 0u) << fds;
}

TEST_F(LauncherTest, ExecFailureIsAStatusWithPathAndErrnoAndNoZombie) {
  LaunchSpec spec = shell("");
  spec.argv = {"/nonexistent/agora-binary", "arg"};
  auto pid = launcher_->launch("unused", spec);
  ASSERT_FALSE(pid.ok());
  EXPECT_EQ(pid.error().code(), Status::Code::kNotFound);
  EXPECT_NE(pid.error().message().find("/nonexistent/agora-binary"), std::string::npos) << pid.error();
  EXPECT_NE(pid.error().message().find("No such file or directory"), std::string::npos) << pid.error();
  EXPECT_TRUE(noChildren()) << "the failed child was not reaped";
}

TEST_F(LauncherTest, ExecOfANonExecutableFileFails) {
  writeFile(sandbox_ / "script", "echo hi\n");
  LaunchSpec spec = shell("");
  spec.argv = {sandbox_ / "script"};
  auto pid = launcher_->launch("unused", spec);
  ASSERT_FALSE(pid.ok());
  EXPECT_NE(pid.error().message().find("Permission denied"), std::string::npos) << pid.error();
  EXPECT_TRUE(noChildren());
}

TEST_F(LauncherTest, ChdirFailureIsAStatus) {
  LaunchSpec spec = shell("true");
  spec.sandbox = sandbox_ / "missing";
  spec.stdoutPath = sandbox_ / "stdout";  // absolute: opening succeeds, chdir fails
  spec.stderrPath = sandbox_ / "stderr";
  auto pid = launcher_->launch("unused", spec);
  ASSERT_FALSE(pid.ok());
  EXPECT_NE(pid.error().message().find("change directory to sandbox '" + spec.sandbox + "'"), std::string::npos)
      << pid.error();
  EXPECT_NE(pid.error().message().find("No such file or directory"), std::string::npos) << pid.error();
  EXPECT_TRUE(noChildren());
}

TEST_F(LauncherTest, OutputFileFailureIsAStatus) {
  LaunchSpec spec = shell("true");
  spec.stdoutPath = "no/such/dir/stdout";
  auto pid = launcher_->launch("unused", spec);
  ASSERT_FALSE(pid.ok());
  EXPECT_NE(pid.error().message().find("stdout file '" + sandbox_.path() + "/no/such/dir/stdout'"),
            std::string::npos)
      << pid.error();
  EXPECT_TRUE(noChildren());
}

TEST_F(LauncherTest, UnknownUserFailsBeforeForking) {
  LaunchSpec spec = shell("true");
  spec.user = "agora-no-such-user";
  auto pid = launcher_->launch("unused", spec);
  ASSERT_FALSE(pid.ok());
  EXPECT_NE(pid.error().message().find("agora-no-such-user"), std::string::npos) << pid.error();
  EXPECT_TRUE(noChildren());
}

TEST_F(LauncherTest, TheProcessLeadsItsOwnSessionAndGroup) {
  ASSERT_TRUE(run(shell("cat /proc/$$/stat")).success());
  // "pid (comm) state ppid pgrp session ..."
  std::string stat = readFile(sandbox_ / "stdout");
  std::istringstream head(stat);
  pid_t pid;
  ASSERT_TRUE(head >> pid) << stat;
  std::istringstream fields(stat.substr(stat.rfind(')') + 1));
  std::string state;
  pid_t ppid, pgid, sid;
  ASSERT_TRUE(fields >> state >> ppid >> pgid >> sid) << stat;
  EXPECT_EQ(pgid, pid);
  EXPECT_EQ(sid, pid);
}

TEST_F(LauncherTest, KillTreeReachesEveryDescendant) {
  // One sleep in the shell's process group, one that left it for a session
  // of its own: only the /proc walk finds the second.
  auto pid = launcher_->launch("unused", shell("setsid sleep 1000 & sleep 1000 & wait"));
  ASSERT_TRUE(pid.ok()) << pid.error();
  ASSERT_TRUE(waitUntil([&] { return killTree(*pid, 0).valueOr(0) == 3; }))
      << "expected the shell and two sleeps, saw " << killTree(*pid, 0).valueOr(0);
  auto killed = killTree(*pid, SIGKILL);
  ASSERT_TRUE(killed.ok()) << killed.error();
  EXPECT_EQ(*killed, 3);
  auto status = reap(*pid);
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->signal, SIGKILL);
  EXPECT_EQ(killTree(*pid, SIGKILL).status().code(), Status::Code::kNotFound);
}

TEST_F(LauncherTest, TryReapSeesARunningThenAnEndedProcess) {
  LaunchSpec spec = shell("");
  spec.argv = {"/bin/sleep", "1000"};
  auto pid = launcher_->launch("unused", spec);
  ASSERT_TRUE(pid.ok());
  auto running = tryReap(*pid);
  ASSERT_TRUE(running.ok());
  EXPECT_EQ(*running, std::nullopt);
  ASSERT_EQ(::kill(*pid, SIGTERM), 0);
  std::optional<ExitStatus> ended;
  ASSERT_TRUE(waitUntil([&] {
    auto result = tryReap(*pid);
    if (result.ok() && result->has_value()) ended = **result;
    return ended.has_value();
  }));
  EXPECT_EQ(ended->signal, SIGTERM);
}

TEST_F(LauncherTest, PidfdIsReadableOnceTheProcessEnds) {
  LaunchSpec spec = shell("");
  spec.argv = {"/bin/sleep", "1000"};
  auto pid = launcher_->launch("unused", spec);
  ASSERT_TRUE(pid.ok());
  auto pidfd = Pidfd::open(*pid);
  if (!pidfd.ok() && pidfd.error().code() == Status::Code::kUnavailable) {
    (void)killTree(*pid, SIGKILL);
    (void)reap(*pid);
    GTEST_SKIP() << pidfd.error().message();
  }
  ASSERT_TRUE(pidfd.ok()) << pidfd.error();
  EXPECT_FALSE(pidfd->ended());
  ASSERT_EQ(::kill(*pid, SIGKILL), 0);
  auto status = reap(*pid);
  ASSERT_TRUE(status.ok());
  // Reaped: the pid may name another process one day, the pidfd never does.
  EXPECT_TRUE(pidfd->ended());
  Pidfd moved = std::move(*pidfd);
  EXPECT_TRUE(moved.ended());
  EXPECT_FALSE(pidfd->valid());
}

TEST(PidfdTest, NoSuchProcessIsNotFound) {
  auto pidfd = Pidfd::open(999999999);
  ASSERT_FALSE(pidfd.ok());
  if (pidfd.error().code() == Status::Code::kUnavailable) GTEST_SKIP() << pidfd.error().message();
  EXPECT_EQ(pidfd.error().code(), Status::Code::kNotFound);
  EXPECT_EQ(Pidfd::open(0).status().code(), Status::Code::kInvalidArgument);
}

// The linux launcher writes the pid into the container before the child
// runs anything of its own: at that moment the child still runs our binary
// (it has not exec'd).
class RecordingCgroups : public CgroupsWrapper {
 public:
  using CgroupsWrapper::CgroupsWrapper;
  Status addProcess(const std::string& id, pid_t pid) override {
    std::string exe = std::filesystem::read_symlink("/proc/" + std::to_string(pid) + "/exe").string();
    exeAtAdd = exe;
    if (fail) return Status::IoError("injected failure moving " + std::to_string(pid) + " into " + id);
    return target()->addProcess(id, pid);
  }
  std::string exeAtAdd;
  bool fail = false;
};

TEST_F(LauncherTest, LinuxLauncherMovesTheChildBeforeItExecs) {
  TempDir tree;
  writeFile(tree / "cgroup.controllers", "");
  writeFile(tree / "cgroup.subtree_control", "");
  std::filesystem::create_directory(tree / "agora");
  writeFile(tree / "agora/cgroup.subtree_control", "");
  auto v2 = makeCgroupsV2({.hierarchyRoot = tree.path(), .cgroupsRoot = "agora"});
  ASSERT_TRUE(v2.ok());
  ASSERT_TRUE((*v2)->create("c1").ok());
  writeFile(tree / "agora/c1/leaf/cgroup.procs", "");
  RecordingCgroups cgroups(v2->get());
  auto launcher = makeLinuxLauncher(&cgroups);

  auto pid = launcher->launch("c1", shell("true"));
  ASSERT_TRUE(pid.ok()) << pid.error();
  EXPECT_EQ(readFile(tree / "agora/c1/leaf/cgroup.procs"), std::to_string(*pid));
  EXPECT_EQ(cgroups.exeAtAdd, std::filesystem::read_symlink("/proc/self/exe").string());
  EXPECT_TRUE(reap(*pid)->success());

  // A failure to move the child: Status, the child never runs, no zombie.
  cgroups.fail = true;
  auto failed = launcher->launch("c1", shell("echo ran > ran"));
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.error().message().find("injected failure"), std::string::npos) << failed.error();
  EXPECT_FALSE(std::filesystem::exists(sandbox_ / "ran"));
  EXPECT_TRUE(noChildren());
}

TEST_F(LauncherTest, PidNamespaceMakesTheProcessPidOne) {
  if (::geteuid() != 0) GTEST_SKIP() << "new pid namespaces need root (CAP_SYS_ADMIN); running as uid " << ::geteuid();
  LaunchSpec spec = shell("echo $$; ls /proc | grep -c '^[0-9]'");
  spec.pidNamespace = true;
  auto pid = launcher_->launch("unused", spec);
  if (!pid.ok() && (pid.error().message().find("Operation not permitted") != std::string::npos ||
                    pid.error().message().find("Invalid argument") != std::string::npos)) {
    GTEST_SKIP() << "pid/mount namespaces are not permitted here: " << pid.error();
  }
  ASSERT_TRUE(pid.ok()) << pid.error();
  ASSERT_TRUE(reap(*pid)->success()) << readFile(sandbox_ / "stderr");
  // pid 1 and a private /proc that shows only the namespace's processes
  // (the shell and the two of the pipeline).
  std::istringstream out(readFile(sandbox_ / "stdout"));
  int self = 0, visible = 0;
  ASSERT_TRUE(out >> self >> visible) << readFile(sandbox_ / "stdout");
  EXPECT_EQ(self, 1);
  EXPECT_LE(visible, 3);
  // The agent's /proc is untouched.
  EXPECT_TRUE(std::filesystem::exists("/proc/" + std::to_string(::getpid())));
}

TEST_F(LauncherTest, SwitchesToTheUser) {
  if (::geteuid() != 0) GTEST_SKIP() << "switching users needs root; running as uid " << ::geteuid();
  struct passwd* nobody = ::getpwnam("nobody");
  if (nobody == nullptr) GTEST_SKIP() << "no user 'nobody' on this machine";
  uid_t uid = nobody->pw_uid;
  gid_t gid = nobody->pw_gid;
  ASSERT_EQ(::chmod(sandbox_.path().c_str(), 0755), 0);
  LaunchSpec spec = shell("id -u; id -g; id -G");
  spec.user = "nobody";
  ExitStatus status = run(spec);
  ASSERT_TRUE(status.success()) << status.toString() << ": " << readFile(sandbox_ / "stderr");
  std::istringstream out(readFile(sandbox_ / "stdout"));
  uid_t seenUid;
  gid_t seenGid;
  ASSERT_TRUE(out >> seenUid >> seenGid);
  EXPECT_EQ(seenUid, uid);
  EXPECT_EQ(seenGid, gid);
  std::string group;
  while (out >> group) EXPECT_NE(group, "0") << "root's supplementary group kept";
  // The output files belong to the user.
  struct stat st;
  ASSERT_EQ(::stat((sandbox_ / "stdout").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, uid);
}

}  // namespace
}  // namespace agora::containerizer
