// The socket keeper: a listening socket that outlives its daemon
// (socket_keeper.hpp). Real processes and sockets in a temporary directory.

#include "agora/common/socket_keeper.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "transport_test_util.hpp"

namespace agora {
namespace {

using namespace std::chrono_literals;
using testing::TempDir;

// Alive and not a zombie (a keeper is reparented to whoever reaps orphans
// here, which may be slow to).
bool running(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return false;
  const size_t close = line.rfind(')');
  return close != std::string::npos && close + 2 < line.size() && line[close + 2] != 'Z';
}

bool exitsWithin(pid_t pid, std::chrono::milliseconds limit) {
  for (auto waited = 0ms; waited < limit; waited += 10ms) {
    if (!running(pid)) return true;
    std::this_thread::sleep_for(10ms);
  }
  return !running(pid);
}

std::string processName(pid_t pid) {
  std::ifstream comm("/proc/" + std::to_string(pid) + "/comm");
  std::string name;
  std::getline(comm, name);
  return name;
}

ino_t socketInode(int fd) {
  struct stat info {};
  return ::fstat(fd, &info) == 0 ? info.st_ino : 0;
}

// A client of `path`; -1 when refused.
int connectTo(const std::string& path, int type = SOCK_STREAM) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, path.c_str(), sizeof(address.sun_path) - 1);
  const int fd = ::socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

class SocketKeeperTest : public ::testing::Test {
 protected:
  SocketKeeperOptions options() const {
    SocketKeeperOptions o;
    o.socket_path = dir_.path() + "/executors.sock";
    o.keeper_path = dir_.path() + "/executors.keeper";
    o.idle_timeout = 60s;
    return o;
  }

  // Every test ends its keepers; this one catches those a failed assertion
  // left behind.
  void TearDown() override {
    for (pid_t pid : started_) {
      if (running(pid) && processName(pid) == "agora-keeper") ::kill(pid, SIGKILL);
    }
  }

  KeptSocket open(const SocketKeeperOptions& o) {
    Result<KeptSocket> kept = KeptSocket::open(o);
    EXPECT_TRUE(kept.ok()) << kept.status().message();
    if (!kept.ok()) return {};
    if (kept->keeperPid() != 0) started_.push_back(kept->keeperPid());
    return std::move(*kept);
  }

  TempDir dir_;
  std::vector<pid_t> started_;
};

TEST_F(SocketKeeperTest, TheFirstRunBindsTheSocketAndStartsAKeeper) {
  KeptSocket kept = open(options());
  ASSERT_GE(kept.listener(), 0);
  EXPECT_FALSE(kept.inherited());
  EXPECT_EQ(kept.warning(), "");
  ASSERT_GT(kept.keeperPid(), 0);
  EXPECT_TRUE(running(kept.keeperPid()));
  EXPECT_EQ(processName(kept.keeperPid()), "agora-keeper");
  EXPECT_NE(kept.keeperPid(), ::getpid());
  // Close-on-exec: executors and tasks never hold the agent's socket.
  EXPECT_NE(::fcntl(kept.listener(), F_GETFD) & FD_CLOEXEC, 0);
  struct stat info {};
  ASSERT_EQ(::stat(options().keeper_path.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  kept.release();
}

TEST_F(SocketKeeperTest, TheNextRunTakesTheSameSocketFromTheKeeper) {
  pid_t keeper = 0;
  ino_t inode = 0;
  {
    KeptSocket first = open(options());
    keeper = first.keeperPid();
    inode = socketInode(first.listener());
  }  // The daemon is gone; its keeper is not.
  ASSERT_TRUE(running(keeper));
  KeptSocket second = open(options());
  EXPECT_TRUE(second.inherited());
  EXPECT_EQ(second.keeperPid(), keeper);
  EXPECT_EQ(socketInode(second.listener()), inode);
  second.release();
  EXPECT_TRUE(exitsWithin(keeper, 5s));
}

TEST_F(SocketKeeperTest, ConnectionsMadeWhileNoDaemonRunsWaitForTheNext) {
  { KeptSocket first = open(options()); }
  // Without a keeper this connect would be refused.
  const int client = connectTo(options().socket_path);
  ASSERT_GE(client, 0) << std::strerror(errno);
  ASSERT_EQ(::send(client, "hello", 5, MSG_NOSIGNAL), 5);

  KeptSocket second = open(options());
  ASSERT_TRUE(second.inherited());
  const int accepted = ::accept(second.listener(), nullptr, nullptr);
  ASSERT_GE(accepted, 0) << std::strerror(errno);
  char text[8] = {};
  EXPECT_EQ(::recv(accepted, text, sizeof(text), 0), 5);
  EXPECT_STREQ(text, "hello");
  ::close(accepted);
  ::close(client);
  second.release();
}

TEST_F(SocketKeeperTest, ReleaseStopsTheKeeperAndTheNextRunStartsAfresh) {
  KeptSocket first = open(options());
  const pid_t keeper = first.keeperPid();
  first.release();
  EXPECT_TRUE(exitsWithin(keeper, 5s));
  EXPECT_FALSE(std::filesystem::exists(options().keeper_path));
  first = KeptSocket();
  KeptSocket second = open(options());
  EXPECT_FALSE(second.inherited());
  EXPECT_GT(second.keeperPid(), 0);
  EXPECT_NE(second.keeperPid(), keeper);
  second.release();
}

TEST_F(SocketKeeperTest, AKeeperWithoutADaemonExitsAfterTheIdleTimeout) {
  SocketKeeperOptions o = options();
  o.idle_timeout = 200ms;
  pid_t keeper = 0;
  {
    KeptSocket kept = open(o);
    keeper = kept.keeperPid();
    // Idle time counts only while no daemon is connected.
    std::this_thread::sleep_for(400ms);
    EXPECT_TRUE(running(keeper));
  }
  EXPECT_TRUE(exitsWithin(keeper, 3s));
  EXPECT_FALSE(std::filesystem::exists(o.keeper_path));
}

TEST_F(SocketKeeperTest, AKeeperWhosePathIsRemovedExits) {
  // As when a test's work dir is deleted: nobody could reach the keeper.
  KeptSocket kept = open(options());
  const pid_t keeper = kept.keeperPid();
  std::this_thread::sleep_for(100ms);
  ASSERT_TRUE(running(keeper));
  std::filesystem::remove(options().keeper_path);
  EXPECT_TRUE(exitsWithin(keeper, 3s));
}

TEST_F(SocketKeeperTest, ASocketFileRemovedMeanwhileIsBoundAgain) {
  // The kept socket would listen where no executor can reach it.
  pid_t oldKeeper = 0;
  {
    KeptSocket first = open(options());
    oldKeeper = first.keeperPid();
  }
  std::filesystem::remove(options().socket_path);
  KeptSocket second = open(options());
  EXPECT_FALSE(second.inherited());
  EXPECT_NE(second.warning(), "");
  EXPECT_TRUE(exitsWithin(oldKeeper, 3s));
  const int client = connectTo(options().socket_path);
  EXPECT_GE(client, 0);
  if (client >= 0) ::close(client);
  second.release();
}

TEST_F(SocketKeeperTest, AnotherProgramAtTheKeeperPathIsNotTrusted) {
  // A SEQPACKET server that answers with something else and no socket.
  const int impostor = testing::listenUnix(options().keeper_path, SOCK_SEQPACKET);
  ASSERT_GE(impostor, 0);
  std::thread serve([impostor] {
    const int peer = ::accept(impostor, nullptr, nullptr);
    if (peer >= 0) {
      (void)!::send(peer, "agora-socket-keeper 2", 22, MSG_NOSIGNAL);
      char byte;
      (void)!::recv(peer, &byte, 1, 0);  // Until the daemon hangs up.
      ::close(peer);
    }
  });
  KeptSocket kept = open(options());
  serve.join();
  ::close(impostor);
  EXPECT_FALSE(kept.inherited());
  EXPECT_NE(kept.warning().find("is not an Agora socket keeper"), std::string::npos) << kept.warning();
  EXPECT_GT(kept.keeperPid(), 0);
  const int client = connectTo(options().socket_path);
  EXPECT_GE(client, 0);
  if (client >= 0) ::close(client);
  kept.release();
}

TEST_F(SocketKeeperTest, AKeeperPathTooLongLeavesTheSocketWithoutAKeeper) {
  // A work dir whose executors.sock just fits and executors.keeper does not.
  SocketKeeperOptions o = options();
  const size_t room = sizeof(sockaddr_un::sun_path) - 1 - dir_.path().size() - 1;
  o.socket_path = dir_.path() + "/" + std::string(room, 's');
  o.keeper_path = o.socket_path + ".keeper";
  Result<KeptSocket> kept = KeptSocket::open(o);
  ASSERT_TRUE(kept.ok()) << kept.status().message();
  EXPECT_GE(kept->listener(), 0);
  EXPECT_EQ(kept->keeperPid(), 0);
  EXPECT_NE(kept->warning().find("no socket keeper"), std::string::npos) << kept->warning();
  const int client = connectTo(o.socket_path);
  EXPECT_GE(client, 0);
  if (client >= 0) ::close(client);
}

TEST_F(SocketKeeperTest, APathTooLongForAUnixSocketIsAnError) {
  SocketKeeperOptions o = options();
  o.socket_path = dir_.path() + "/" + std::string(120, 'x');
  Result<KeptSocket> kept = KeptSocket::open(o);
  ASSERT_FALSE(kept.ok());
  EXPECT_EQ(kept.error().code(), Status::Code::kInvalidArgument);
}

}  // namespace
}  // namespace agora
