// The networked scheduler driver (AgoraSchedulerDriver) against a real
// master library in the same process, over real ZeroMQ and HTTP on
// 127.0.0.1: master resolution through /master/info, subscription, the
// teardown that stop() sends reaching the master, and resubscription after
// the master restarts on another ZeroMQ endpoint.

#include <utility>  // Before any Asio header (STYLE.md).

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <future>
#include <memory>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "agora/common/http.hpp"
#include "agora/common/json.hpp"
#include "agora/common/zmq_messenger.hpp"
#include "agora/master/master.hpp"
#include "agora/scheduler_driver.hpp"
#include "sdk_test_util.hpp"

namespace agora::sdk {
namespace {

using namespace std::chrono_literals;
using testing::IdIs;
using testing::MockScheduler;
using ::testing::_;
using ::testing::InSequence;
using ::testing::Invoke;
using ::testing::NiceMock;

// A hang guard, not a timing threshold: everything here normally takes
// milliseconds.
constexpr auto kWait = 60s;

// agora-master's wiring (master/main.cpp) on its own thread: the master
// library, a ROUTER on an ephemeral port, GET /master/info on `httpPort`.
class InProcessMaster {
 public:
  InProcessMaster(const std::string& workDir, uint16_t httpPort) : http_(loop_) {
    auto router = RouterMessenger::bind(loop_, zmq_, "tcp://127.0.0.1:*", TransportOptions{},
                                        [this](const PeerId& from, internal::Envelope&& envelope) {
                                          master_->receive(from, std::move(envelope));
                                        });
    EXPECT_TRUE(router.ok()) << router.error().message();
    router_ = std::move(*router);
    zmqEndpoint_ = router_->endpoint();

    master::MasterOptions options;
    options.ip = "127.0.0.1";
    options.hostname = "127.0.0.1";
    options.workDir = workDir;
    options.zmqPort = std::stoi(zmqEndpoint_.substr(zmqEndpoint_.rfind(':') + 1));
    options.allocationInterval = 100ms;
    master_ = std::make_unique<master::Master>(options, clock_, *router_);
    Status recovered = master_->recover();
    EXPECT_TRUE(recovered.ok()) << recovered.message();

    http_.route("GET", "/master/info", [this](const HttpRequest&) {
      Result<nlohmann::json> info = toJsonValue(master_->masterInfo());
      return info.ok() ? HttpResponse::json(200, *info) : HttpResponse::fromStatus(info.error());
    });
    Status listening = http_.listen("127.0.0.1", httpPort);
    EXPECT_TRUE(listening.ok()) << listening.message();
    thread_ = std::thread([this] { loop_.run(); });
  }

  ~InProcessMaster() {
    onLoop<bool>([this] {
      http_.stop();
      master_.reset();
      router_.reset();
      return true;
    });
    guard_.reset();
    loop_.stop();
    thread_.join();
  }

  uint16_t httpPort() const { return http_.port(); }
  std::string address() const { return "127.0.0.1:" + std::to_string(httpPort()); }
  const std::string& zmqEndpoint() const { return zmqEndpoint_; }

  nlohmann::json state() {
    return onLoop<nlohmann::json>([this] { return master_->stateJson(); });
  }

 private:
  template <typename T>
  T onLoop(std::function<T()> fn) {
    std::packaged_task<T()> task(std::move(fn));
    std::future<T> result = task.get_future();
    boost::asio::post(loop_, [&task] { task(); });
    return result.get();
  }

  boost::asio::io_context loop_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_{loop_.get_executor()};
  zmq::context_t zmq_;
  AsioClock clock_{loop_};
  HttpServer http_;
  std::unique_ptr<RouterMessenger> router_;
  std::unique_ptr<master::Master> master_;
  std::string zmqEndpoint_;
  std::thread thread_;
};

class SchedulerDriverNetworkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    workDir_ = std::filesystem::temp_directory_path() /
               ("agora-sdk-network-" + std::to_string(::getpid()) + "-" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(workDir_);
    std::filesystem::create_directories(workDir_);
  }
  void TearDown() override { std::filesystem::remove_all(workDir_); }

  static v1::FrameworkInfo framework() {
    v1::FrameworkInfo info;
    info.set_user("nobody");
    info.set_name("network-test");
    info.add_roles("dev");
    info.add_capabilities()->set_type(v1::FrameworkInfo::Capability::MULTI_ROLE);
    info.set_failover_timeout(60);
    return info;
  }

  std::filesystem::path workDir_;
  NiceMock<MockScheduler> scheduler_;
};

TEST_F(SchedulerDriverNetworkTest, SubscribesAndStopTearsTheFrameworkDown) {
  InProcessMaster master(workDir_.string(), 0);
  std::promise<std::string> subscribed;
  EXPECT_CALL(scheduler_, subscribed(_, _, _))
      .WillOnce(Invoke([&](SchedulerDriver& driver, const v1::FrameworkID& id, const v1::MasterInfo& info) {
        EXPECT_EQ(driver.state(), SchedulerDriver::State::kSubscribed);
        EXPECT_EQ(info.zmq_endpoint(), master.zmqEndpoint());
        subscribed.set_value(id.value());
      }));

  AgoraSchedulerDriver driver(scheduler_, framework(), master.address());
  EXPECT_EQ(driver.state(), SchedulerDriver::State::kNotStarted);
  EXPECT_EQ(driver.join().code(), Status::Code::kFailedPrecondition);
  driver.start();
  std::future<std::string> id = subscribed.get_future();
  ASSERT_EQ(id.wait_for(kWait), std::future_status::ready);
  std::string frameworkId = id.get();
  EXPECT_EQ(driver.state(), SchedulerDriver::State::kSubscribed);
  ASSERT_TRUE(driver.frameworkId().has_value());
  EXPECT_EQ(driver.frameworkId()->value(), frameworkId);
  ASSERT_EQ(master.state()["frameworks"].size(), 1u);

  // stop() from another thread: TEARDOWN, flushed before join() returns.
  driver.stop();
  Status joined = driver.join();
  EXPECT_TRUE(joined.ok()) << joined.message();
  EXPECT_EQ(driver.state(), SchedulerDriver::State::kStopped);

  nlohmann::json state;
  for (int i = 0; i < 600; ++i) {  // Delivery is asynchronous; the TEARDOWN has left.
    state = master.state();
    if (state["completed_frameworks"].size() == 1) break;
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(state["frameworks"].size(), 0u);
  ASSERT_EQ(state["completed_frameworks"].size(), 1u);
  EXPECT_EQ(state["completed_frameworks"][0]["id"], frameworkId);
}

TEST_F(SchedulerDriverNetworkTest, ResubscribesWhenTheMasterRestartsOnAnotherEndpoint) {
  auto master = std::make_unique<InProcessMaster>(workDir_.string(), 0);
  uint16_t httpPort = master->httpPort();
  std::string firstEndpoint = master->zmqEndpoint();

  std::promise<void> first;
  std::promise<void> lost;
  std::promise<void> second;
  std::string frameworkId;
  {
    InSequence sequence;
    EXPECT_CALL(scheduler_, subscribed(_, _, _))
        .WillOnce(Invoke([&](SchedulerDriver&, const v1::FrameworkID& id, const v1::MasterInfo&) {
          frameworkId = id.value();
          first.set_value();
        }));
    EXPECT_CALL(scheduler_, disconnected(_)).WillOnce(Invoke([&](SchedulerDriver& driver) {
      EXPECT_EQ(driver.state(), SchedulerDriver::State::kSubscribing);
      lost.set_value();
    }));
    EXPECT_CALL(scheduler_, subscribed(_, _, _))
        .WillOnce(Invoke([&](SchedulerDriver&, const v1::FrameworkID& id, const v1::MasterInfo& info) {
          EXPECT_EQ(id.value(), frameworkId);
          EXPECT_NE(info.zmq_endpoint(), firstEndpoint);
          second.set_value();
        }));
  }
  SchedulerOptions options;
  options.subscribeBackoffMin = 100ms;
  options.subscribeBackoffMax = 500ms;
  AgoraSchedulerDriver driver(scheduler_, framework(), master->address(), options);
  driver.start();
  ASSERT_EQ(first.get_future().wait_for(kWait), std::future_status::ready);

  master.reset();  // The connection breaks: disconnected().
  ASSERT_EQ(lost.get_future().wait_for(kWait), std::future_status::ready);
  master = std::make_unique<InProcessMaster>(workDir_.string(), httpPort);
  ASSERT_NE(master->zmqEndpoint(), firstEndpoint);
  ASSERT_EQ(second.get_future().wait_for(kWait), std::future_status::ready);
  EXPECT_EQ(driver.frameworkId()->value(), frameworkId);

  driver.stop(/*failover=*/true);
  EXPECT_TRUE(driver.join().ok());
}

TEST_F(SchedulerDriverNetworkTest, UnreachableMasterFailsAfterMasterTimeout) {
  // A port that nothing listens on: reserve one and close it.
  uint16_t port;
  {
    boost::asio::io_context loop;
    HttpServer probe(loop);
    ASSERT_TRUE(probe.listen("127.0.0.1", 0).ok());
    port = probe.port();
  }
  std::promise<std::string> error;
  EXPECT_CALL(scheduler_, error(_, _)).WillOnce(Invoke([&](SchedulerDriver&, const std::string& message) {
    error.set_value(message);
  }));
  SchedulerOptions options;
  options.masterTimeout = 300ms;
  AgoraSchedulerDriver driver(scheduler_, framework(), "127.0.0.1:" + std::to_string(port), options);
  Status status = driver.run();
  EXPECT_EQ(status.code(), Status::Code::kUnavailable);
  EXPECT_THAT(status.message(), ::testing::HasSubstr("Could not reach the master at 127.0.0.1:"));
  EXPECT_EQ(driver.state(), SchedulerDriver::State::kAborted);
  ASSERT_EQ(error.get_future().wait_for(0s), std::future_status::ready);
}

TEST_F(SchedulerDriverNetworkTest, MalformedMasterAddressIsAnError) {
  EXPECT_CALL(scheduler_, error(_, ::testing::HasSubstr("master address")));
  AgoraSchedulerDriver driver(scheduler_, framework(), "no port here");
  Status status = driver.run();
  EXPECT_EQ(status.code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(driver.state(), SchedulerDriver::State::kAborted);
}

TEST_F(SchedulerDriverNetworkTest, JoinFromACallbackIsRefused) {
  InProcessMaster master(workDir_.string(), 0);
  std::promise<Status> joined;
  EXPECT_CALL(scheduler_, subscribed(_, _, _)).WillOnce(Invoke([&](SchedulerDriver& driver, auto&, auto&) {
    joined.set_value(static_cast<AgoraSchedulerDriver&>(driver).join());
    driver.stop();
  }));
  AgoraSchedulerDriver driver(scheduler_, framework(), master.address());
  EXPECT_TRUE(driver.run().ok());
  EXPECT_EQ(joined.get_future().get().code(), Status::Code::kFailedPrecondition);
}

}  // namespace
}  // namespace agora::sdk
