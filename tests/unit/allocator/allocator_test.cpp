// The HierarchicalDRF acceptance scenarios of reference/mesos.md §5.6 with
// their exact numbers, and the DRF paper's example.

#include <gtest/gtest.h>

#include "allocator_test_util.hpp"

namespace agora::allocator {
namespace {

using namespace agora::allocator::testing;  // NOLINT

class HierarchicalAllocatorTest : public ::testing::Test {
 protected:
  void SetUp() override { allocator = makeHierarchicalAllocator(options); }
  void reset(const Options& o) {
    options = o;
    allocator = makeHierarchicalAllocator(options);
  }
  std::vector<Offer> batch(double t) { return allocator->allocate(at(t), Scope::batch()); }
  std::vector<Offer> onAgent(const std::string& agent, double t = 0) {
    return allocator->allocate(at(t), Scope::agents({agent}));
  }
  // The single offer of a call, checked.
  Offer only(const std::vector<Offer>& offers) {
    EXPECT_EQ(offers.size(), 1u);
    return offers.empty() ? Offer{} : offers.front();
  }
  void expectOffer(const std::vector<Offer>& offers, const std::string& framework, const std::string& agent,
                   const std::string& resources, const std::string& role) {
    Offer o = only(offers);
    EXPECT_EQ(o.frameworkId, framework);
    EXPECT_EQ(o.agentId, agent);
    EXPECT_EQ(o.role, role);
    EXPECT_EQ(o.resources, R(resources).allocate(role)) << o.resources;
  }
  void decline(const Offer& o, double t, std::optional<Duration> refuse = std::nullopt) {
    allocator->recoverResources(o.frameworkId, o.agentId, o.resources, refuse, at(t));
  }

  Options options;
  std::unique_ptr<Allocator> allocator;
};

TEST_F(HierarchicalAllocatorTest, UnreservedDRF) {
  allocator->addAgent("a1", R("cpus:2;mem:1024"));
  allocator->addFramework("f1", roles({"role1"}));
  expectOffer(batch(0), "f1", "a1", "cpus:2;mem:1024", "role1");

  allocator->addFramework("f2", roles({"role2"}));
  allocator->addAgent("a2", R("cpus:1;mem:512"));
  expectOffer(onAgent("a2"), "f2", "a2", "cpus:1;mem:512", "role2");  // role2 share 0.

  allocator->addAgent("a3", R("cpus:3;mem:2048"));
  expectOffer(onAgent("a3"), "f2", "a3", "cpus:3;mem:2048", "role2");  // role1 .33 > role2 .16.

  allocator->addFramework("f3", roles({"role1"}));
  allocator->addAgent("a4", R("cpus:4;mem:4096"));
  expectOffer(onAgent("a4"), "f3", "a4", "cpus:4;mem:4096", "role1");  // role1 .2 < role2 .4.

  allocator->addFramework("f4", roles({"role1"}));
  allocator->addAgent("a5", R("cpus:1;mem:512"));
  expectOffer(onAgent("a5"), "f2", "a5", "cpus:1;mem:512", "role2");  // role2 .36 < role1 .63.
}

TEST_F(HierarchicalAllocatorTest, ReservedDRF) {
  allocator->addAgent("a1", R("cpus:1;mem:512;cpus(role1):100;mem(role1):1024"));
  allocator->addFramework("f1", roles({"role1"}));
  expectOffer(batch(0), "f1", "a1", "cpus:1;mem:512;cpus(role1):100;mem(role1):1024", "role1");

  allocator->addFramework("f2", roles({"role2"}));
  allocator->addAgent("a2", R("cpus:2;mem:512"));
  expectOffer(onAgent("a2"), "f2", "a2", "cpus:2;mem:512", "role2");
  allocator->addAgent("a3", R("cpus:2;mem:512"));
  expectOffer(onAgent("a3"), "f2", "a3", "cpus:2;mem:512", "role2");  // Reserved counts in role1's share.

  allocator->addFramework("f3", roles({"role1"}));
  allocator->addAgent("a4", R("cpus(role1):2;mem(role1):1024"));
  expectOffer(onAgent("a4"), "f3", "a4", "cpus(role1):2;mem(role1):1024", "role1");
}

TEST_F(HierarchicalAllocatorTest, ReservedResourcesGoOnlyToTheirSubtree) {
  allocator->addFramework("other", roles({"role2"}));
  allocator->addAgent("a1", R("cpus(role1):2;mem(role1):1024"));
  EXPECT_TRUE(batch(0).empty());
  allocator->addFramework("child", roles({"role1/sub"}));
  expectOffer(batch(1), "child", "a1", "cpus(role1):2;mem(role1):1024", "role1/sub");
}

TEST_F(HierarchicalAllocatorTest, SameShareFairness) {
  allocator->addAgent("a1", R("cpus:2;mem:1024"));
  allocator->addFramework("f1", roles({"*"}));
  allocator->addFramework("f2", roles({"*"}));
  std::map<std::string, int> counts;
  for (int i = 0; i < 10; ++i) {
    Offer o = only(batch(i));
    EXPECT_EQ(o.resources, R("cpus:2;mem:1024").allocate("*"));
    ++counts[o.frameworkId];
    decline(o, i);
  }
  EXPECT_EQ(counts["f1"], 5);
  EXPECT_EQ(counts["f2"], 5);
}

TEST_F(HierarchicalAllocatorTest, UpdateWeight) {
  for (int i = 1; i <= 6; ++i) allocator->addAgent("a" + std::to_string(i), R("cpus:2;mem:1024"));
  allocator->addFramework("f1", roles({"role1"}));
  allocator->addFramework("f2", roles({"role2"}));
  auto cycle = [&](double t) {
    auto offers = batch(t);
    std::map<std::string, int> agents;
    Resources sum;
    for (const Offer& o : offers) {
      ++agents[o.frameworkId];
      EXPECT_EQ(o.resources, R("cpus:2;mem:1024").allocate(o.role));
      sum += o.resources.unallocate();
    }
    EXPECT_EQ(sum, R("cpus:12;mem:6144"));  // Totals always equal the cluster.
    for (const Offer& o : offers) decline(o, t);
    return agents;
  };
  EXPECT_EQ(cycle(0), (std::map<std::string, int>{{"f1", 3}, {"f2", 3}}));
  allocator->updateWeights({{"role2", 2.0}});
  EXPECT_EQ(cycle(1), (std::map<std::string, int>{{"f1", 2}, {"f2", 4}}));
  allocator->updateWeights({{"role3", 3.0}});
  allocator->addFramework("f3", roles({"role3"}));
  EXPECT_EQ(cycle(2), (std::map<std::string, int>{{"f1", 1}, {"f2", 2}, {"f3", 3}}));
}

TEST_F(HierarchicalAllocatorTest, OfferFilter) {
  allocator->addAgent("a1", R("cpus:2;mem:1024"));
  allocator->addFramework("f1", roles({"role1"}));
  Offer o = only(batch(0));
  decline(o, 0, std::chrono::seconds(2));  // 2 × the 1 s interval.
  EXPECT_TRUE(onAgent("a1", 0).empty());    // Immediate allocation after recovery: filtered.
  ASSERT_EQ(allocator->explain("f1").roles.at(0).filters.size(), 1u);
  EXPECT_TRUE(batch(1).empty());
  expectOffer(batch(2), "f1", "a1", "cpus:2;mem:1024", "role1");
  EXPECT_TRUE(allocator->explain("f1").roles.at(0).filters.empty());
}

TEST_F(HierarchicalAllocatorTest, SmallOfferFilterTimeout) {
  Options o;
  o.allocationInterval = std::chrono::minutes(1);
  reset(o);
  allocator->addAgent("a1", R("cpus:2;mem:1024"));
  allocator->addFramework("f1", roles({"role1"}));
  decline(only(batch(0)), 0, std::chrono::milliseconds(1));
  EXPECT_TRUE(batch(60).empty());  // Survives the next batch cycle.
  expectOffer(batch(120), "f1", "a1", "cpus:2;mem:1024", "role1");
}

TEST_F(HierarchicalAllocatorTest, FilterMatchesSubsetsOnly) {
  allocator->addAgent("a1", R("cpus:4;mem:1024"));
  allocator->addFramework("f1", roles({"role1"}));
  Offer first = only(batch(0));
  // Keep half, refuse the rest for an hour.
  Offer half = first;
  half.resources = R("cpus:2;mem:512").allocate("role1");
  decline(half, 0, std::chrono::hours(1));
  EXPECT_TRUE(onAgent("a1", 0).empty());
  // A task finishes: more is available than was refused, so no match.
  decline(half, 1);
  expectOffer(onAgent("a1", 1), "f1", "a1", "cpus:4;mem:1024", "role1");
}

TEST_F(HierarchicalAllocatorTest, SuppressAndReviveOffers) {
  allocator->addAgent("a1", R("cpus:2;mem:1024"));
  allocator->addFramework("f1", roles({"role1"}));
  Offer o = only(batch(0));
  allocator->suppressOffers("f1");
  decline(o, 0);
  EXPECT_TRUE(batch(1).empty());
  EXPECT_TRUE(batch(2).empty());
  EXPECT_TRUE(allocator->explain("f1").roles.at(0).suppressed);
  allocator->reviveOffers("f1");
  expectOffer(allocator->allocate(at(2), Scope::frameworks({"f1"})), "f1", "a1", "cpus:2;mem:1024", "role1");
  allocator->reviveOffers("f1");  // Redundant: harmless.
  EXPECT_TRUE(allocator->allocate(at(2), Scope::frameworks({"f1"})).empty());
}

TEST_F(HierarchicalAllocatorTest, ReviveClearsFilters) {
  allocator->addAgent("a1", R("cpus:2;mem:1024"));
  allocator->addFramework("f1", roles({"role1"}));
  decline(only(batch(0)), 0, std::chrono::hours(1));
  EXPECT_TRUE(batch(1).empty());
  allocator->reviveOffers("f1", {"role1"});
  expectOffer(batch(1), "f1", "a1", "cpus:2;mem:1024", "role1");
}

// Filters live with their framework-role; each agent lists who filters it.
// A framework-role that goes (here: its framework leaves the role) takes its
// filters along, and one that comes later (reusing the freed slot) starts
// without any.
TEST_F(HierarchicalAllocatorTest, FiltersGoWithTheirFrameworkRole) {
  allocator->addAgent("a1", R("cpus:2;mem:1024"));
  allocator->addFramework("f1", roles({"role1"}));
  decline(only(batch(0)), 0, std::chrono::hours(1));
  EXPECT_TRUE(batch(1).empty());
  allocator->updateFramework("f1", roles({"role2"}));  // Leaves role1, holding nothing there.
  allocator->addFramework("f2", roles({"role1"}));
  // Both roles have nothing: role1 sorts first by name, and f2 is not
  // filtered by what f1 refused in role1.
  expectOffer(batch(2), "f2", "a1", "cpus:2;mem:1024", "role1");
  allocator->removeFramework("f2");
  expectOffer(batch(3), "f1", "a1", "cpus:2;mem:1024", "role2");
}

// Removing an agent drops the filters on it; a new agent is not filtered.
TEST_F(HierarchicalAllocatorTest, RemovingAnAgentDropsItsFilters) {
  allocator->addAgent("a1", R("cpus:2;mem:1024"));
  allocator->addFramework("f1", roles({"role1"}));
  decline(only(batch(0)), 0, std::chrono::hours(1));
  allocator->removeAgent("a1");
  EXPECT_TRUE(allocator->explain("f1").roles.at(0).filters.empty());
  allocator->addAgent("a2", R("cpus:2;mem:1024"));
  expectOffer(batch(1), "f1", "a2", "cpus:2;mem:1024", "role1");
}

// The offer shares its slots with the allocator's own record of it
// (copy-on-write): what the master does with the offer it holds never
// changes that record, and the record's later changes never reach the offer.
TEST_F(HierarchicalAllocatorTest, OffersAreValuesOfTheirOwn) {
  allocator->addAgent("a1", R("cpus:2;mem:1024"));
  allocator->addFramework("f1", roles({"role1"}));
  Offer o = only(batch(0));
  Offer kept = o;
  o.resources -= R("cpus:1").allocate("role1");
  o.resources += R("gpus:1").allocate("role1");
  EXPECT_EQ(kept.resources, R("cpus:2;mem:1024").allocate("role1"));
  EXPECT_EQ(allocator->allocation("f1", "a1"), R("cpus:2;mem:1024").allocate("role1"));
  EXPECT_TRUE(allocator->available("a1").empty());
  allocator->recoverResources("f1", "a1", R("mem:24").allocate("role1"), std::nullopt, at(0));
  EXPECT_EQ(allocator->allocation("f1", "a1"), R("cpus:2;mem:1000").allocate("role1"));
  EXPECT_EQ(kept.resources, R("cpus:2;mem:1024").allocate("role1"));
  allocator->recoverResources("f1", "a1", allocator->allocation("f1", "a1"), std::nullopt, at(0));
  EXPECT_TRUE(allocator->allocation("f1", "a1").empty());
  EXPECT_EQ(allocator->available("a1"), R("cpus:2;mem:1024"));
  EXPECT_EQ(kept.resources, R("cpus:2;mem:1024").allocate("role1"));
}

TEST_F(HierarchicalAllocatorTest, QuotaProvidesLimit) {
  allocator->updateQuota("quota-role", Quota{{}, *ResourceQuantities::parse("cpus:0;mem:0;disk:0")});
  allocator->addFramework("f1", roles({"quota-role"}));
  allocator->addFramework("f2", roles({"no-quota-role"}));
  allocator->addAgent("a1", R("cpus:2;mem:1024;disk:1024"));
  expectOffer(batch(0), "f2", "a1", "cpus:2;mem:1024;disk:1024", "no-quota-role");

  allocator->updateQuota("quota-role", Quota{{}, *ResourceQuantities::parse("cpus:1;mem:512;disk:512")});
  allocator->addAgent("a2", R("cpus:2;mem:1024;disk:1024"));
  auto offers = byKey(onAgent("a2"));
  ASSERT_EQ(offers.size(), 2u);
  EXPECT_EQ(offers["f1@a2"].resources, R("cpus:1;mem:512;disk:512").allocate("quota-role"));
  EXPECT_EQ(offers["f2@a2"].resources, R("cpus:1;mem:512;disk:512").allocate("no-quota-role"));
  auto e = allocator->explain("f1").roles.at(0);
  EXPECT_EQ(e.limitsReached, (std::vector<std::string>{"cpus", "disk", "mem"}));
}

// Consumption is kept only while some role has quota: quota set after
// allocations (and reservations) exist must count them, and so must quota
// set again after all quota went away.
TEST_F(HierarchicalAllocatorTest, QuotaSetAfterAllocationsCountsThem) {
  allocator->addFramework("f1", roles({"eng/db"}));
  allocator->addAgent("a1", R("cpus:2;mem:1024;cpus(eng):1"));
  expectOffer(batch(0), "f1", "a1", "cpus:2;mem:1024;cpus(eng):1", "eng/db");
  // eng/db's own: unreserved allocation (eng holds the reservation).
  EXPECT_EQ(allocator->explain("f1").roles.at(0).consumed, *ResourceQuantities::parse("cpus:2;mem:1024"));

  // eng consumes its reservation (1) and eng/db's unreserved cpus (2).
  allocator->updateQuota("eng", Quota{{}, *ResourceQuantities::parse("cpus:4")});
  allocator->addAgent("a2", R("cpus:2;mem:1024"));
  expectOffer(onAgent("a2"), "f1", "a2", "cpus:1;mem:1024", "eng/db");
  EXPECT_EQ(allocator->explain("f1").roles.at(0).limitsReached, std::vector<std::string>{"cpus"});

  allocator->updateQuota("eng", Quota{});
  expectOffer(onAgent("a2"), "f1", "a2", "cpus:1", "eng/db");
  EXPECT_EQ(allocator->explain("f1").roles.at(0).consumed, *ResourceQuantities::parse("cpus:4;mem:2048"));
  allocator->recoverResources("f1", "a1", R("cpus:1").allocate("eng/db"), std::nullopt, at(0));

  allocator->updateQuota("eng", Quota{{}, *ResourceQuantities::parse("cpus:6;mem:4096")});
  allocator->addAgent("a3", R("cpus:4;mem:4096"));
  auto offers = byKey(allocator->allocate(at(0), Scope::agents({"a1", "a3"})));
  ASSERT_EQ(offers.size(), 2u);
  // 6 - (1 reserved + 3 unreserved held) = 2 cpus; 4096 - 2048 = 2048 mem.
  Resources sum = offers["f1@a1"].resources.unallocate() + offers["f1@a3"].resources.unallocate();
  EXPECT_EQ(sum.scalarQuantities(), *ResourceQuantities::parse("cpus:2;mem:2048"));
  EXPECT_EQ(allocator->explain("f1").roles.at(0).consumed, *ResourceQuantities::parse("cpus:5;mem:4096"));
}

TEST_F(HierarchicalAllocatorTest, QuotaLimitOfAnAncestorApplies) {
  allocator->updateQuota("eng", Quota{{}, *ResourceQuantities::parse("cpus:3")});
  allocator->addFramework("f1", roles({"eng/db"}));
  allocator->addAgent("a1", R("cpus:2;mem:1024"));
  allocator->addAgent("a2", R("cpus:2;mem:1024"));
  Resources sum;
  for (const Offer& o : batch(0)) sum += o.resources.unallocate();
  EXPECT_EQ(sum, R("cpus:3;mem:2048"));
}

TEST_F(HierarchicalAllocatorTest, QuotaProvidesGuarantee) {
  allocator->updateQuota("quota-role", Quota{*ResourceQuantities::parse("cpus:2;mem:1024"), {}});
  allocator->addFramework("f1", roles({"quota-role"}));
  allocator->addFramework("f2", roles({"no-quota-role"}));
  allocator->addAgent("a1", R("cpus:1;mem:512"));
  allocator->addAgent("a2", R("cpus:1;mem:512"));
  auto offers = batch(0);
  ASSERT_EQ(offers.size(), 2u);
  for (const Offer& o : offers) EXPECT_EQ(o.frameworkId, "f1");

  // Declined with a filter: held as headroom, not given to f2.
  decline(offers[1], 0, std::chrono::seconds(2));
  EXPECT_TRUE(onAgent(offers[1].agentId, 0).empty());
  EXPECT_TRUE(batch(1).empty());
  expectOffer(batch(2), "f1", offers[1].agentId, "cpus:1;mem:512", "quota-role");
}

TEST_F(HierarchicalAllocatorTest, Allocatable) {
  allocator->addFramework("f1", roles({"role1"}));
  allocator->addAgent("a1", R("cpus:0.005;mem:16;disk:128"));
  EXPECT_TRUE(batch(0).empty());
  EXPECT_TRUE(batch(1).empty());
  allocator->addAgent("a2", R("cpus:0.01;mem:16"));
  expectOffer(onAgent("a2"), "f1", "a2", "cpus:0.01;mem:16", "role1");
  allocator->addAgent("a3", R("cpus:0.005;mem:32"));
  expectOffer(onAgent("a3"), "f1", "a3", "cpus:0.005;mem:32", "role1");
  // Only unreserved + role-reserved together reach the minimum.
  allocator->addAgent("a4", R("cpus:0.005;mem:16;cpus(role1):0.005;mem(role1):16"));
  expectOffer(onAgent("a4"), "f1", "a4", "cpus:0.005;mem:16;cpus(role1):0.005;mem(role1):16", "role1");
}

TEST_F(HierarchicalAllocatorTest, MinAllocatableOverridePerRole) {
  FrameworkInfo info = roles({"role1"});
  info.minAllocatable["role1"] = {*ResourceQuantities::parse("cpus:4")};
  allocator->addFramework("f1", info);
  allocator->addAgent("a1", R("cpus:2;mem:1024"));
  EXPECT_TRUE(batch(0).empty());
  info.minAllocatable["role1"] = {};  // Anything goes.
  allocator->updateFramework("f1", info);
  allocator->addAgent("a2", R("cpus:0.001"));
  EXPECT_EQ(batch(1).size(), 2u);
}

TEST_F(HierarchicalAllocatorTest, InactiveFrameworksAndAgentsGetNothing) {
  allocator->addFramework("f1", roles({"role1"}), /*active=*/false);
  allocator->addAgent("a1", R("cpus:2;mem:1024"));
  EXPECT_TRUE(batch(0).empty());
  allocator->activateFramework("f1");
  allocator->deactivateAgent("a1");
  EXPECT_TRUE(batch(1).empty());
  allocator->activateAgent("a1");
  expectOffer(batch(2), "f1", "a1", "cpus:2;mem:1024", "role1");
}

TEST_F(HierarchicalAllocatorTest, RemovingAFrameworkReturnsItsResources) {
  allocator->addFramework("f1", roles({"role1"}));
  allocator->addAgent("a1", R("cpus:2;mem:1024"));
  only(batch(0));
  allocator->removeFramework("f1");
  EXPECT_EQ(allocator->available("a1"), R("cpus:2;mem:1024"));
  allocator->addFramework("f2", roles({"role2"}));
  expectOffer(batch(1), "f2", "a1", "cpus:2;mem:1024", "role2");
}

TEST_F(HierarchicalAllocatorTest, AgentWithUsedResources) {
  allocator->addFramework("f1", roles({"role1"}));
  allocator->addAgent("a1", R("cpus:4;mem:2048"), {{"f1", R("cpus:1;mem:512").allocate("role1")}});
  EXPECT_EQ(allocator->allocation("f1", "a1"), R("cpus:1;mem:512").allocate("role1"));
  expectOffer(batch(0), "f1", "a1", "cpus:3;mem:1536", "role1");
  allocator->removeAgent("a1");
  EXPECT_TRUE(batch(1).empty());
}

// A framework holding resources on an agent is offered the rest, again and
// again: the allocation is what it holds plus what is on offer, whatever
// mix of whole declines (an offer back as it was), partial recoveries (the
// unused part of an accept) and equal offers sharing their slots.
TEST_F(HierarchicalAllocatorTest, AllocationOfAFrameworkThatHoldsResourcesFollowsItsOffers) {
  const Resources used = R("cpus:1;mem:512;ports:[31000-31000]").allocate("role1");
  allocator->addFramework("f1", roles({"role1"}));
  allocator->addAgent("a1", R("cpus:4;mem:2048;ports:[31000-31009]"), {{"f1", used}});
  Offer o = only(batch(0));
  EXPECT_EQ(allocator->allocation("f1", "a1"), used + o.resources);
  decline(o, 0);  // Back whole.
  EXPECT_EQ(allocator->allocation("f1", "a1"), used);
  EXPECT_EQ(allocator->available("a1"), R("cpus:3;mem:1536;ports:[31001-31009]"));

  o = only(onAgent("a1", 1));
  Offer again = o;  // The master's copy: the very same slots.
  decline(again, 1, std::nullopt);
  EXPECT_EQ(allocator->allocation("f1", "a1"), used);

  // Accept a part: the rest comes back, the part stays held.
  o = only(onAgent("a1", 2));
  Resources kept = R("cpus:1;mem:256;ports:[31005-31005]").allocate("role1");
  decline(Offer{o.frameworkId, o.role, o.agentId, o.resources - kept}, 2);
  EXPECT_EQ(allocator->allocation("f1", "a1"), used + kept);
  o = only(onAgent("a1", 3));
  EXPECT_EQ(o.resources, R("cpus:2;mem:1280;ports:[31001-31004,31006-31009]").allocate("role1"));
  EXPECT_EQ(allocator->allocation("f1", "a1"), used + kept + o.resources);
  allocator->removeFramework("f1");
  EXPECT_EQ(allocator->available("a1"), R("cpus:4;mem:2048;ports:[31000-31009]"));
}

TEST_F(HierarchicalAllocatorTest, UpdateAllocationAfterReserve) {
  allocator->addFramework("f1", roles({"role1"}));
  allocator->addAgent("a1", R("cpus:4;mem:2048"));
  Offer o = only(batch(0));
  Resources from = R("cpus:1").allocate("role1");
  Resources to = R("cpus(role1):1").allocate("role1");
  allocator->updateAllocation("f1", "a1", from, to);
  EXPECT_EQ(allocator->allocation("f1", "a1"), R("cpus:3;mem:2048;cpus(role1):1").allocate("role1"));
  allocator->recoverResources("f1", "a1", allocator->allocation("f1", "a1"), std::nullopt, at(0));
  allocator->addFramework("f2", roles({"role2"}));
  // f2 has share 0 but the reserved cpu stays with role1.
  auto offers = byKey(batch(1));
  EXPECT_EQ(offers["f2@a1"].resources, R("cpus:3;mem:2048").allocate("role2"));
}

TEST_F(HierarchicalAllocatorTest, EmptyCycleOffersNothingAndRecoveryWakesTheAgent) {
  allocator->addFramework("f1", roles({"role1"}));
  allocator->addAgent("a1", R("cpus:4;mem:2048"));
  Offer o = only(batch(0));
  EXPECT_TRUE(batch(1).empty());
  decline(o, 1);
  expectOffer(onAgent("a1", 1), "f1", "a1", "cpus:4;mem:2048", "role1");
}

// The DRF paper (Ghodsi et al., 2011): 9 cpus, 18 GB; A runs ⟨1 cpu, 4 GB⟩
// tasks, B ⟨3 cpus, 1 GB⟩. Each takes one task per offer and returns the rest.
TEST_F(HierarchicalAllocatorTest, DrfPaperExample) {
  allocator->addAgent("a1", R("cpus:9;mem:18432"));
  allocator->addFramework("A", roles({"r"}));
  allocator->addFramework("B", roles({"r"}));
  const std::map<std::string, Resources> task = {{"A", R("cpus:1;mem:4096").allocate("r")},
                                                 {"B", R("cpus:3;mem:1024").allocate("r")}};
  std::map<std::string, int> tasks;
  for (int cycle = 0; cycle < 20; ++cycle) {
    for (const Offer& o : batch(cycle)) {
      const Resources& t = task.at(o.frameworkId);
      if (o.resources.contains(t)) {
        ++tasks[o.frameworkId];
        decline(Offer{o.frameworkId, o.role, o.agentId, o.resources - t}, cycle);
      } else {
        decline(o, cycle, std::chrono::hours(1));
      }
    }
  }
  EXPECT_EQ(tasks["A"], 3);
  EXPECT_EQ(tasks["B"], 2);
}

TEST_F(HierarchicalAllocatorTest, MultiRoleFrameworkGetsOneOfferPerRole) {
  allocator->addFramework("f1", roles({"role1", "role2"}));
  allocator->addAgent("a1", R("cpus:2;mem:1024;cpus(role2):1"));
  Resources sum;
  auto offers = batch(0);
  for (const Offer& o : offers) {
    EXPECT_EQ(o.resources.allocationRoles(), (std::set<std::string>{o.role}));
    sum += o.resources.unallocate();
  }
  EXPECT_EQ(sum, R("cpus:2;mem:1024;cpus(role2):1"));
}

}  // namespace
}  // namespace agora::allocator
