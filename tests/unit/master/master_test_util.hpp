#pragma once

// The master under test: one FakeClock, one InMemoryNetwork, a temporary
// work dir, and a Master that can be restarted over the same registry.

#include <gtest/gtest.h>

#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>

#include "agora/common/clock.hpp"
#include "agora/common/resources.hpp"
#include "agora/master/master.hpp"
#include "agora/testing/fake_agent.hpp"
#include "agora/testing/fake_scheduler.hpp"
#include "agora/testing/network.hpp"

namespace agora::master {

using testing::FakeAgent;
using testing::FakeScheduler;
using testing::InMemoryNetwork;
using Event = v1::scheduler::Event;

class MasterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "agora-master-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    workDir_ = pattern;
    options_.workDir = workDir_;
    options_.masterId = "m1";
    options_.hostname = "master.test";
  }

  void TearDown() override {
    master_.reset();
    std::filesystem::remove_all(workDir_);
  }

  // Starts (or restarts, as a new process) the master on the same work dir.
  void startMaster(const std::string& id = "m1") {
    master_.reset();
    options_.masterId = id;
    messenger_ = network_.attach("master", [this](const PeerId& from, internal::Envelope&& envelope) {
      master_->receive(from, std::move(envelope));
    });
    master_ = std::make_unique<Master>(options_, clock_, *messenger_);
    Status status = master_->recover();
    ASSERT_TRUE(status.ok()) << status;
  }

  void settle() { network_.settle(); }
  // Moves time in steps of at most a second, delivering messages after
  // each step, so that answers (pongs, retries) arrive before later timers.
  void advance(Duration d) {
    while (d > Duration::zero()) {
      Duration step = std::min<Duration>(d, std::chrono::seconds(1));
      clock_.advance(step);
      network_.settle();
      d -= step;
    }
  }

  double metric(const std::string& name) const { return master_->metrics().at(name); }

  // Resources of `text` allocated to `role`, as a scheduler sends them.
  static google::protobuf::RepeatedPtrField<v1::Resource> allocated(const std::string& text, const std::string& role) {
    return Resources::parse(text).value().allocate(role).toProto();
  }
  // `text` dynamically reserved to `role` by `principal`, allocated to `role`.
  static google::protobuf::RepeatedPtrField<v1::Resource> reserved(const std::string& text, const std::string& role,
                                                                    const std::string& principal) {
    Reservation reservation{Reservation::Type::kDynamic, role, principal, {}};
    return Resources::parse(text).value().pushReservation(reservation).value().allocate(role).toProto();
  }
  static Resources resourcesOf(const v1::Offer& offer) { return Resources::fromProto(offer.resources()).value(); }

  // A subscribed scheduler and a registered agent with one offer for it.
  void subscribeAndOffer(FakeScheduler& scheduler, FakeAgent& agent, const v1::FrameworkInfo& info) {
    scheduler.subscribe(info);
    agent.start();
    settle();
    ASSERT_TRUE(scheduler.frameworkId().has_value());
    ASSERT_TRUE(agent.agentId().has_value());
    ASSERT_FALSE(scheduler.outstandingOffers().empty());
  }

  FakeClock clock_;
  InMemoryNetwork network_;
  MasterOptions options_;
  std::string workDir_;
  std::unique_ptr<Messenger> messenger_;
  std::unique_ptr<Master> master_;
};

}  // namespace agora::master
