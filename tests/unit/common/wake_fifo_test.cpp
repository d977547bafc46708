// The agent's broadcast wake-up FIFO (common/wake_fifo.hpp), on real FIFOs in
// a temporary directory.

#include "agora/common/wake_fifo.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <optional>
#include <string>

#include "transport_test_util.hpp"

namespace agora {
namespace {

class WakeFifoTest : public ::testing::Test {
 protected:
  testing::TempDir dir_;  // Before path_, which it names.
  std::string path_ = dir_.path() + "/executors.wake";

  static mode_t modeOf(const std::string& path) {
    struct stat st {};
    EXPECT_EQ(::lstat(path.c_str(), &st), 0);
    return st.st_mode;
  }
};

TEST_F(WakeFifoTest, AWakeReachesEveryoneWaitingAndOnlyThem) {
  ASSERT_TRUE(makeWakeFifo(path_).ok());
  auto first = WakeFifoWaiter::open(path_);
  auto second = WakeFifoWaiter::open(path_);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_FALSE(first->woken());
  EXPECT_FALSE(second->woken());

  Result<bool> woken = wakeFifoWaiters(path_);
  ASSERT_TRUE(woken.ok()) << woken.status();
  EXPECT_TRUE(*woken);
  EXPECT_TRUE(first->woken());
  EXPECT_TRUE(second->woken());
  EXPECT_TRUE(first->woken()) << "a wake stays until the waiter closes";

  // Whoever starts waiting afterwards waits for the next wake.
  auto late = WakeFifoWaiter::open(path_);
  ASSERT_TRUE(late.ok());
  EXPECT_FALSE(late->woken());
  ASSERT_TRUE(wakeFifoWaiters(path_).ok());
  EXPECT_TRUE(late->woken());
}

TEST_F(WakeFifoTest, WakingWithNobodyWaitingNeitherBlocksNorFails) {
  ASSERT_TRUE(makeWakeFifo(path_).ok());
  Result<bool> woken = wakeFifoWaiters(path_);
  ASSERT_TRUE(woken.ok()) << woken.status();
  EXPECT_FALSE(*woken);
  { auto gone = WakeFifoWaiter::open(path_); }  // Opened and closed again.
  EXPECT_FALSE(*wakeFifoWaiters(path_));
  Result<bool> missing = wakeFifoWaiters(path_ + ".missing");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(*missing);
}

TEST_F(WakeFifoTest, MakeKeepsAFifoAndReplacesAnythingElse) {
  { std::ofstream(path_) << "a stale file"; }
  ASSERT_TRUE(makeWakeFifo(path_).ok());
  EXPECT_TRUE(S_ISFIFO(modeOf(path_)));
  // Readable by waiters of any user whatever the umask, writable by the owner.
  EXPECT_EQ(modeOf(path_) & 0777, 0644u);

  auto waiter = WakeFifoWaiter::open(path_);
  ASSERT_TRUE(waiter.ok());
  ASSERT_TRUE(makeWakeFifo(path_).ok());  // The same FIFO: the waiter still hears the wake.
  EXPECT_TRUE(*wakeFifoWaiters(path_));
  EXPECT_TRUE(waiter->woken());
}

TEST_F(WakeFifoTest, WaitingOnSomethingElseThanAFifoIsAClearError) {
  auto missing = WakeFifoWaiter::open(path_);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), Status::Code::kNotFound);

  { std::ofstream(path_) << "not a fifo"; }
  auto file = WakeFifoWaiter::open(path_);
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(file.status().message().find("not a FIFO"), std::string::npos);
}

TEST_F(WakeFifoTest, AMovedWaiterKeepsItsDescriptorAndReleaseHandsItOver) {
  ASSERT_TRUE(makeWakeFifo(path_).ok());
  auto opened = WakeFifoWaiter::open(path_);
  ASSERT_TRUE(opened.ok());
  WakeFifoWaiter waiter = std::move(*opened);
  EXPECT_EQ(opened->fd(), -1);
  ASSERT_GE(waiter.fd(), 0);
  int fd = waiter.release();
  EXPECT_EQ(waiter.fd(), -1);
  EXPECT_FALSE(waiter.woken());
  EXPECT_TRUE(*wakeFifoWaiters(path_)) << "the released descriptor still waits";
  ::close(fd);
}

}  // namespace
}  // namespace agora
