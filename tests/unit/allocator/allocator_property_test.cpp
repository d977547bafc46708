// Property tests over random event sequences. The seed is printed; set
// AGORA_TEST_SEED to replay a failure.

#include <gtest/gtest.h>

#include <cstdlib>
#include <random>

#include "agora/common/role.hpp"
#include "allocator_test_util.hpp"

namespace agora::allocator {
namespace {

using namespace agora::allocator::testing;  // NOLINT

uint64_t testSeed() {
  uint64_t seed = 20240601;
  if (const char* env = std::getenv("AGORA_TEST_SEED")) seed = std::strtoull(env, nullptr, 10);
  std::cout << "AGORA_TEST_SEED=" << seed << std::endl;
  return seed;
}

const std::vector<std::string> kRoles = {"a", "a/b", "a/b/c", "d", "e", "*"};
const std::vector<std::string> kReservable = {"a", "a/b", "d"};  // "e" has a quota limit instead.

struct Model {
  std::map<std::string, Resources> totals;                    // Agent -> total.
  std::vector<Offer> outstanding;                             // Offered or in use.
};

TEST(AllocatorPropertyTest, RandomEventsKeepTheInvariants) {
  std::mt19937_64 rng(testSeed());
  auto pick = [&](size_t n) { return static_cast<size_t>(rng() % n); };
  auto chance = [&](int percent) { return static_cast<int>(rng() % 100) < percent; };

  auto allocator = makeHierarchicalAllocator();
  const auto eLimit = *ResourceQuantities::parse("cpus:7;mem:3000");
  allocator->updateQuota("e", Quota{{}, eLimit});
  allocator->updateQuota("d", Quota{*ResourceQuantities::parse("cpus:4"), *ResourceQuantities::parse("cpus:10")});
  Model model;
  int nextAgent = 0;
  int nextFramework = 0;
  std::vector<std::string> frameworks;
  double now = 0;

  for (int step = 0; step < 600; ++step) {
    int event = static_cast<int>(pick(100));
    if (event < 12 || model.totals.size() < 2) {
      std::string id = "agent" + std::to_string(nextAgent++);
      std::string text = "cpus:" + std::to_string(1 + pick(8)) + ";mem:" + std::to_string(256 * (1 + pick(8))) +
                         ";ports:[31000-31010]";
      if (chance(40)) {
        text += ";cpus(" + kReservable[pick(kReservable.size())] + "):" + std::to_string(1 + pick(3));
      }
      model.totals[id] = R(text);
      allocator->addAgent(id, model.totals[id]);
    } else if (event < 16 && model.totals.size() > 3) {
      auto it = std::next(model.totals.begin(), static_cast<std::ptrdiff_t>(pick(model.totals.size())));
      std::erase_if(model.outstanding, [&](const Offer& o) { return o.agentId == it->first; });
      allocator->removeAgent(it->first);
      model.totals.erase(it);
    } else if (event < 24 || frameworks.empty()) {
      std::string id = "fw" + std::to_string(nextFramework++);
      FrameworkInfo info;
      info.roles.insert(kRoles[pick(kRoles.size())]);
      if (chance(30)) info.roles.insert(kRoles[pick(kRoles.size())]);
      allocator->addFramework(id, info);
      frameworks.push_back(id);
    } else if (event < 27 && frameworks.size() > 2) {
      size_t i = pick(frameworks.size());
      std::erase_if(model.outstanding, [&](const Offer& o) { return o.frameworkId == frameworks[i]; });
      allocator->removeFramework(frameworks[i]);
      frameworks.erase(frameworks.begin() + static_cast<std::ptrdiff_t>(i));
    } else if (event < 32) {
      std::string fw = frameworks[pick(frameworks.size())];
      if (chance(50)) {
        allocator->suppressOffers(fw);
      } else {
        allocator->reviveOffers(fw);
      }
    } else if (event < 60 && !model.outstanding.empty()) {
      size_t i = pick(model.outstanding.size());
      Offer o = model.outstanding[i];
      model.outstanding.erase(model.outstanding.begin() + static_cast<std::ptrdiff_t>(i));
      std::optional<Duration> refuse;
      if (chance(50)) refuse = std::chrono::seconds(1 + pick(5));
      allocator->recoverResources(o.frameworkId, o.agentId, o.resources, refuse, at(now));
      if (chance(50)) {
        for (Offer& n : allocator->allocate(at(now), Scope::agents({o.agentId}))) model.outstanding.push_back(n);
      }
    } else {
      now += 1;
      for (Offer& o : allocator->allocate(at(now), Scope::batch())) model.outstanding.push_back(o);
    }

    // Never more allocated than an agent has; the allocator agrees with us.
    std::map<std::string, Resources> held;
    for (const Offer& o : model.outstanding) {
      ASSERT_EQ(o.resources.allocationRoles(), (std::set<std::string>{o.role})) << "step " << step;
      held[o.agentId] += o.resources.unallocate();
      // Reserved resources never leave their role's subtree.
      for (const Resource& r : o.resources) {
        if (r.isReserved()) {
          ASSERT_TRUE(isRoleOrSubrole(o.role, r.role())) << r << " offered to " << o.role << " step " << step;
        }
      }
    }
    for (const auto& [agent, total] : model.totals) {
      ASSERT_EQ(held[agent] + allocator->available(agent), total) << agent << " step " << step;
    }
    // Quota limits never exceeded ("e" holds no reservations).
    ResourceQuantities eConsumed;
    for (const Offer& o : model.outstanding) {
      if (isRoleOrSubrole(o.role, "e")) eConsumed += o.resources.unreserved().scalarQuantities();
    }
    ASSERT_LE(eConsumed.get("cpus"), eLimit.get("cpus")) << "step " << step;
    ASSERT_LE(eConsumed.get("mem"), eLimit.get("mem")) << "step " << step;
  }
}

TEST(AllocatorPropertyTest, DominantSharesStayWithinOneAgent) {
  std::mt19937_64 rng(testSeed() + 1);
  for (int round = 0; round < 20; ++round) {
    auto allocator = makeHierarchicalAllocator();
    size_t nFrameworks = 2 + rng() % 6;
    for (size_t f = 0; f < nFrameworks; ++f) allocator->addFramework("f" + std::to_string(f), roles({"r"}));
    double totalCpus = 0, totalMem = 0, maxCpus = 0, maxMem = 0;
    size_t nAgents = 10 + rng() % 40;
    for (size_t a = 0; a < nAgents; ++a) {
      double cpus = static_cast<double>(1 + rng() % 8);
      double mem = static_cast<double>(512 * (1 + rng() % 8));
      totalCpus += cpus;
      totalMem += mem;
      maxCpus = std::max(maxCpus, cpus);
      maxMem = std::max(maxMem, mem);
      allocator->addAgent("a" + std::to_string(a),
                          R("cpus:" + std::to_string(static_cast<int>(cpus)) +
                            ";mem:" + std::to_string(static_cast<int>(mem))));
    }
    // Everyone wants everything: nothing is ever returned.
    std::map<std::string, std::pair<double, double>> held;
    for (const Offer& o : allocator->allocate(at(0), Scope::batch())) {
      held[o.frameworkId].first += o.resources.scalar("cpus").toDouble();
      held[o.frameworkId].second += o.resources.scalar("mem").toDouble();
    }
    double lo = 1, hi = 0;
    for (size_t f = 0; f < nFrameworks; ++f) {
      auto [cpus, mem] = held["f" + std::to_string(f)];
      double share = std::max(cpus / totalCpus, mem / totalMem);
      lo = std::min(lo, share);
      hi = std::max(hi, share);
    }
    double oneAgent = std::max(maxCpus / totalCpus, maxMem / totalMem);
    EXPECT_LE(hi - lo, oneAgent + 1e-9) << "round " << round;
  }
}

}  // namespace
}  // namespace agora::allocator
