// Offers: the allocator's decisions become OFFERS events; offers end by
// accept, decline, rescind or timeout.

#include <cmath>

#include <fmt/format.h>

#include "agora/common/check.hpp"
#include "process.hpp"

namespace agora::master {

void MasterProcess::batchAllocate() {
  allocate(allocator::Scope::batch());
  allocationTimer_ = clock_.schedule(options_.allocationInterval, [this] { batchAllocate(); });
}

void MasterProcess::allocate(const allocator::Scope& scope) {
  const TimePoint started = clock_.now();
  std::vector<allocator::Offer> decisions = allocator_.allocate(started, scope);
  lastAllocationMs_ = std::chrono::duration<double, std::milli>(clock_.now() - started).count();
  maxAllocationMs_ = std::max(maxAllocationMs_, lastAllocationMs_);
  counters_["allocator/mesos/allocation_runs"] += 1;
  std::map<std::string, Event> events;  // Framework ID -> OFFERS.
  for (auto& decision : decisions) {
    auto framework = frameworks_.find(decision.frameworkId);
    auto agent = agents_.find(decision.agentId);
    if (framework == frameworks_.end() || agent == agents_.end() || !framework->second->active ||
        !agent->second->active) {
      allocator_.recoverResources(decision.frameworkId, decision.agentId, decision.resources, std::nullopt,
                                  clock_.now());
      continue;
    }
    AgentEntry& a = *agent->second;
    OfferEntry entry;
    std::string offerId = fmt::format("{}-O{}", info_.id(), nextOffer_++);
    entry.frameworkId = decision.frameworkId;
    entry.agentId = decision.agentId;
    entry.role = decision.role;
    entry.resources = decision.resources;
    v1::Offer& offer = entry.offer;
    offer.mutable_id()->set_value(offerId);
    offer.mutable_framework_id()->set_value(decision.frameworkId);
    *offer.mutable_agent_id() = a.info.id();
    offer.set_hostname(a.info.hostname());
    *offer.mutable_attributes() = a.info.attributes();
    offer.mutable_allocation_info()->set_role(decision.role);
    decision.resources.toProto(offer.mutable_resources());
    if (auto executors = a.executors.find(decision.frameworkId); executors != a.executors.end()) {
      for (const auto& [executorId, info] : executors->second) *offer.add_executor_ids() = info.executor_id();
    }
    if (options_.offerTimeout > Duration::zero()) {
      entry.timeoutTimer = clock_.schedule(options_.offerTimeout, [this, offerId] {
        auto it = offers_.find(offerId);
        if (it == offers_.end()) return;
        it->second.timeoutTimer = 0;
        counters_["master/offers_timed_out"] += 1;
        removeOffer(offerId, true, std::nullopt, true);  // Offered again at the next allocation.
      });
    }
    Event& event = events[decision.frameworkId];
    event.set_type(Event::OFFERS);
    *event.mutable_offers()->add_offers() = offer;
    framework->second->offers.insert(offerId);
    framework->second->lastOffers[decision.agentId] = {decision.role, clock_.wallNow()};
    a.offers.insert(offerId);
    offers_.emplace(offerId, std::move(entry));
    counters_["master/offers_sent"] += 1;
    framework->second->counters["offers/sent"] += 1;
  }
  for (auto& [frameworkId, event] : events) sendEvent(*frameworks_.at(frameworkId), std::move(event));
}

void MasterProcess::removeOffer(const std::string& offerId, bool recover, std::optional<Duration> refuse,
                                bool rescind) {
  auto it = offers_.find(offerId);
  if (it == offers_.end()) return;
  OfferEntry offer = std::move(it->second);
  offers_.erase(it);
  clock_.cancel(offer.timeoutTimer);
  auto framework = frameworks_.find(offer.frameworkId);
  auto agent = agents_.find(offer.agentId);
  if (agent != agents_.end()) agent->second->offers.erase(offerId);
  if (framework != frameworks_.end()) {
    framework->second->offers.erase(offerId);
    if (rescind) {
      Event event;
      event.set_type(Event::RESCIND);
      event.mutable_rescind()->mutable_offer_id()->set_value(offerId);
      sendEvent(*framework->second, std::move(event));
      counters_["master/offers_rescinded"] += 1;
      framework->second->counters["offers/rescinded"] += 1;
    }
  }
  if (recover) allocator_.recoverResources(offer.frameworkId, offer.agentId, offer.resources, refuse, clock_.now());
}

std::optional<Duration> MasterProcess::refuseOf(const v1::Filters* filters) const {
  double seconds = filters != nullptr ? filters->refuse_seconds() : v1::Filters().refuse_seconds();
  // Mesos: invalid values fall back to the default; huge ones are capped.
  if (!std::isfinite(seconds) || seconds < 0) seconds = v1::Filters().refuse_seconds();
  constexpr double kMaxRefuseSeconds = 365.0 * 24 * 3600;
  seconds = std::min(seconds, kMaxRefuseSeconds);
  if (seconds <= 0) return std::nullopt;
  return std::chrono::duration_cast<Duration>(std::chrono::duration<double>(seconds));
}

void MasterProcess::decline(FrameworkEntry& framework, const Call::Decline& decline) {
  std::optional<Duration> refuse = refuseOf(decline.has_filters() ? &decline.filters() : nullptr);
  std::set<std::string> touchedAgents;
  for (const auto& offerId : decline.offer_ids()) {
    auto it = offers_.find(offerId.value());
    if (it == offers_.end() || it->second.frameworkId != framework.id) continue;  // Rescinded meanwhile.
    touchedAgents.insert(it->second.agentId);
    removeOffer(offerId.value(), true, refuse, false);
    counters_["master/offers_declined"] += 1;
    framework.counters["offers/declined"] += 1;
  }
  if (!touchedAgents.empty()) allocate(allocator::Scope::agents({touchedAgents.begin(), touchedAgents.end()}));
}

}  // namespace agora::master
