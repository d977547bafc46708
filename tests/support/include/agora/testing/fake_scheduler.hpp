#pragma once

// A scheduler endpoint for protocol tests: sends scheduler calls to the
// master over an InMemoryNetwork and records every event it receives. No
// logic of its own beyond optional auto-acknowledgement, so a test says
// exactly what the framework does.
//
//   FakeScheduler scheduler(network);
//   scheduler.subscribe(FakeScheduler::frameworkInfo("batch", {"dev"}));
//   network.settle();
//   v1::Offer offer = scheduler.offers().back();
//   scheduler.accept({offer.id()}, {FakeScheduler::launch({task})});

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agora/testing/network.hpp"
#include "agora/v1/scheduler.pb.h"

namespace agora::testing {

class FakeScheduler {
 public:
  using Call = v1::scheduler::Call;
  using Event = v1::scheduler::Event;

  explicit FakeScheduler(InMemoryNetwork& network, PeerId id = "", PeerId master = "master");

  const PeerId& peer() const { return id_; }

  // A FrameworkInfo with MULTI_ROLE and `roles`; options as named.
  static v1::FrameworkInfo frameworkInfo(const std::string& name, const std::vector<std::string>& roles,
                                         const std::string& principal = "", bool partitionAware = false,
                                         double failoverTimeout = 0);

  // SUBSCRIBE (with `info.id` set to resubscribe).
  void subscribe(v1::FrameworkInfo info, const std::vector<std::string>& suppressedRoles = {});
  // Sends `call` with framework_id set (when known).
  void send(Call call);

  void accept(const std::vector<v1::OfferID>& offerIds, const std::vector<v1::Offer::Operation>& operations,
              std::optional<double> refuseSeconds = std::nullopt);
  void decline(const std::vector<v1::OfferID>& offerIds, std::optional<double> refuseSeconds = std::nullopt);
  void acknowledge(const v1::TaskStatus& status);
  void kill(const std::string& taskId, const std::string& agentId = "");
  // Explicit for (task, agent) pairs; implicit when empty.
  void reconcile(const std::vector<std::pair<std::string, std::string>>& tasks = {});
  void revive(const std::vector<std::string>& roles = {});
  void suppress(const std::vector<std::string>& roles = {});
  void teardown();
  void message(const std::string& agentId, const std::string& executorId, const std::string& data);

  // --- Operations ---------------------------------------------------------
  static v1::Offer::Operation launch(const std::vector<v1::TaskInfo>& tasks);
  static v1::Offer::Operation launchGroup(const v1::ExecutorInfo& executor, const std::vector<v1::TaskInfo>& tasks);
  static v1::Offer::Operation reserve(const google::protobuf::RepeatedPtrField<v1::Resource>& resources);
  static v1::Offer::Operation unreserve(const google::protobuf::RepeatedPtrField<v1::Resource>& resources);
  // A command task using `resources` (text form, e.g. "cpus:1;mem:128"),
  // allocated to `role`.
  static v1::TaskInfo commandTask(const std::string& taskId, const std::string& agentId,
                                  const std::string& resources, const std::string& role,
                                  const std::string& command = "sleep 1000");

  // --- What arrived --------------------------------------------------------
  std::optional<std::string> frameworkId() const { return frameworkId_; }
  const std::vector<Event>& events() const { return events_; }
  size_t count(Event::Type type) const;
  // Every offer received, oldest first, and those neither used nor rescinded.
  std::vector<v1::Offer> offers() const;
  std::vector<v1::Offer> outstandingOffers() const;
  std::vector<v1::TaskStatus> updates() const;
  std::vector<std::string> errors() const;
  void clearEvents() { events_.clear(); }
  // Acknowledge every UPDATE with a uuid as it arrives.
  bool autoAcknowledge = false;

 private:
  void onEvent(Event&& event);

  InMemoryNetwork& network_;
  PeerId id_;
  PeerId master_;
  std::unique_ptr<Messenger> messenger_;
  std::optional<std::string> frameworkId_;
  std::vector<Event> events_;
  std::vector<std::string> used_;  // Offer IDs accepted or declined.
};

}  // namespace agora::testing
