// One typed suite over every sorter policy (Mesos's CommonSorterTest), then
// the DRF-specific scenarios of reference/mesos.md §5.6 item 10.

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "agora/allocator/sorter.hpp"

namespace agora::allocator {
namespace {

template <SorterKind K>
struct Kind {
  static constexpr SorterKind value = K;
};

template <typename T>
class CommonSorterTest : public ::testing::Test {
 protected:
  std::unique_ptr<Sorter> sorter = makeSorter(T::value, nullptr, 42);

  void addActive(std::initializer_list<const char*> paths) {
    for (const char* p : paths) {
      sorter->add(p);
      sorter->activate(p);
    }
  }
  std::set<std::string> sortedSet() {
    auto v = sorter->sort();
    return {v.begin(), v.end()};
  }
};

using Policies = ::testing::Types<Kind<SorterKind::kDrf>, Kind<SorterKind::kRandom>>;
TYPED_TEST_SUITE(CommonSorterTest, Policies);

TYPED_TEST(CommonSorterTest, AddRemoveContains) {
  Sorter& s = *this->sorter;
  EXPECT_EQ(s.count(), 0u);
  s.add("a");
  s.add("b/c");
  EXPECT_TRUE(s.contains("a"));
  EXPECT_TRUE(s.contains("b/c"));
  EXPECT_FALSE(s.contains("b"));  // An internal node is not a client.
  EXPECT_EQ(s.count(), 2u);
  s.remove("b/c");
  EXPECT_FALSE(s.contains("b/c"));
  EXPECT_EQ(s.count(), 1u);
  s.add("b");  // The internal node "b" went away with its last child.
  EXPECT_TRUE(s.contains("b"));
}

TYPED_TEST(CommonSorterTest, OnlyActiveClientsAreSorted) {
  Sorter& s = *this->sorter;
  s.add("a");
  s.add("b");
  EXPECT_TRUE(s.sort().empty());
  s.activate("a");
  EXPECT_EQ(s.sort(), std::vector<std::string>{"a"});
  s.activate("b");
  s.deactivate("a");
  EXPECT_EQ(s.sort(), std::vector<std::string>{"b"});
  s.deactivate("a");  // Idempotent.
  EXPECT_FALSE(s.isActive("a"));
  EXPECT_TRUE(s.isActive("b"));
}

TYPED_TEST(CommonSorterTest, AllocationBookkeeping) {
  Sorter& s = *this->sorter;
  s.addTotal(*ResourceQuantities::parse("cpus:10;mem:100"));
  this->addActive({"a", "b/c"});
  s.allocated("a", *ResourceQuantities::parse("cpus:2;mem:10"));
  s.allocated("a", *ResourceQuantities::parse("cpus:1"));
  EXPECT_EQ(s.allocation("a"), *ResourceQuantities::parse("cpus:3;mem:10"));
  EXPECT_EQ(s.allocationCount("a"), 2u);
  s.unallocated("a", *ResourceQuantities::parse("cpus:3"));
  EXPECT_EQ(s.allocation("a"), *ResourceQuantities::parse("mem:10"));
  EXPECT_EQ(s.allocationCount("a"), 2u);  // Counts survive unallocation.
  EXPECT_DOUBLE_EQ(s.share(*s.find("a")), 0.1);
  s.updateWeight("a", 2);
  EXPECT_DOUBLE_EQ(s.share(*s.find("a")), 0.05);
  EXPECT_EQ(s.total().toQuantities(s.names()), *ResourceQuantities::parse("cpus:10;mem:100"));
}

TYPED_TEST(CommonSorterTest, SubtreesStayTogether) {
  Sorter& s = *this->sorter;
  s.addTotal(*ResourceQuantities::parse("cpus:100"));
  this->addActive({"x", "b/c", "b/d", "b/e/f", "y"});
  s.allocated("b/d", *ResourceQuantities::parse("cpus:7"));
  for (int round = 0; round < 5; ++round) {
    auto order = s.sort();
    ASSERT_EQ(order.size(), 5u);
    auto first = std::find_if(order.begin(), order.end(), [](const auto& p) { return p[0] == 'b'; });
    EXPECT_TRUE(std::all_of(first, first + 3, [](const auto& p) { return p[0] == 'b'; }));
  }
}

TYPED_TEST(CommonSorterTest, ClientWithChildrenKeepsItsAllocation) {
  Sorter& s = *this->sorter;
  s.addTotal(*ResourceQuantities::parse("cpus:100"));
  this->addActive({"a"});
  s.allocated("a", *ResourceQuantities::parse("cpus:5"));
  this->addActive({"a/b"});
  s.allocated("a/b", *ResourceQuantities::parse("cpus:1"));
  EXPECT_EQ(s.allocation("a"), *ResourceQuantities::parse("cpus:5"));
  EXPECT_EQ(this->sortedSet(), (std::set<std::string>{"a", "a/b"}));
  s.remove("a/b");
  EXPECT_EQ(s.allocation("a"), *ResourceQuantities::parse("cpus:5"));
  EXPECT_EQ(s.allocationCount("a"), 1u);
  EXPECT_TRUE(s.isActive("a"));
  s.remove("a");
  EXPECT_EQ(s.count(), 0u);
  EXPECT_TRUE(s.sort().empty());
}

TYPED_TEST(CommonSorterTest, RemovingAnAllocatedClientLeavesNoTrace) {
  Sorter& s = *this->sorter;
  s.addTotal(*ResourceQuantities::parse("cpus:100"));
  this->addActive({"a/x", "a/y"});
  s.allocated("a/x", *ResourceQuantities::parse("cpus:5"));
  s.remove("a/x");
  s.add("a/x");
  EXPECT_TRUE(s.allocation("a/x").empty());
  EXPECT_EQ(s.allocationCount("a/x"), 0u);
}

TYPED_TEST(CommonSorterTest, WalkVisitsEveryActiveClientOnceWhileAllocating) {
  Sorter& s = *this->sorter;
  s.addTotal(*ResourceQuantities::parse("cpus:100"));
  this->addActive({"a", "b", "c/d", "c/e", "f"});
  auto one = QuantityVector::from(*ResourceQuantities::parse("cpus:10"), s.names());
  std::vector<ClientId> seen;
  s.walk([&](ClientId c) {
    seen.push_back(c);
    s.allocated(c, one);
    return true;
  });
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(std::unique(seen.begin(), seen.end()), seen.end());
  EXPECT_EQ(seen.size(), 5u);
}

TYPED_TEST(CommonSorterTest, ManyClients) {
  Sorter& s = *this->sorter;
  s.addTotal(*ResourceQuantities::parse("cpus:1000"));
  for (int i = 0; i < 300; ++i) {
    std::string p = "r" + std::to_string(i % 7) + "/f" + std::to_string(i);
    s.add(p);
    if (i % 3 != 0) s.activate(p);
    s.allocated(p, *ResourceQuantities::parse("cpus:" + std::to_string(i % 5)));
  }
  EXPECT_EQ(s.sort().size(), 200u);
  for (int i = 0; i < 300; i += 2) s.remove("r" + std::to_string(i % 7) + "/f" + std::to_string(i));
  EXPECT_EQ(s.count(), 150u);
  EXPECT_EQ(s.sort().size(), 100u);
}

// --- DRF scenarios (reference/mesos.md §5.6 item 10) ---------------------------

class DrfSorterTest : public ::testing::Test {
 protected:
  std::unique_ptr<Sorter> s = makeSorter(SorterKind::kDrf);

  void SetUp() override { s->addTotal(*ResourceQuantities::parse("cpus:100;mem:100")); }
  void add(const char* path, const char* allocation, double weight = 1.0) {
    if (weight != 1.0) s->updateWeight(path, weight);
    s->add(path);
    s->activate(path);
    if (*allocation) s->allocated(path, *ResourceQuantities::parse(allocation));
  }
  using V = std::vector<std::string>;
};

TEST_F(DrfSorterTest, DRF) {
  add("a", "cpus:5;mem:5");
  add("b", "cpus:6;mem:6");
  EXPECT_EQ(s->sort(), (V{"a", "b"}));
  add("c", "cpus:1;mem:1");
  add("d", "cpus:3;mem:1");
  EXPECT_EQ(s->sort(), (V{"c", "d", "a", "b"}));
  s->remove("a");
  s->unallocated("b", *ResourceQuantities::parse("cpus:4;mem:4"));
  EXPECT_EQ(s->sort(), (V{"c", "b", "d"}));
}

TEST_F(DrfSorterTest, WDRF) {
  add("a", "cpus:5;mem:5");
  add("b", "cpus:6;mem:6", 2.0);  // .06 / 2 = .03
  EXPECT_EQ(s->sort(), (V{"b", "a"}));
  add("c", "cpus:4;mem:4");
  EXPECT_EQ(s->sort(), (V{"b", "c", "a"}));
  add("d", "cpus:10;mem:20", 10.0);  // .2 / 10 = .02
  EXPECT_EQ(s->sort(), (V{"d", "b", "c", "a"}));
  s->updateWeight("d", 1.0);
  EXPECT_EQ(s->sort(), (V{"b", "c", "a", "d"}));
}

TEST_F(DrfSorterTest, HierarchicalAllocation) {
  add("a", "cpus:6;mem:6");
  add("b/c", "cpus:4;mem:4");
  add("b/d", "cpus:3;mem:3");
  // Subtree b (.07) sorts after a (.06); inside b, d (.03) before c (.04).
  EXPECT_EQ(s->sort(), (V{"a", "b/d", "b/c"}));
  s->unallocated("b/c", *ResourceQuantities::parse("cpus:4;mem:4"));
  EXPECT_EQ(s->sort(), (V{"b/c", "b/d", "a"}));
}

TEST_F(DrfSorterTest, AllocationCountTieBreak) {
  for (const char* p : {"a", "b", "c", "d", "e"}) add(p, "");
  // Equal shares (cpus 3 each), different numbers of allocations.
  s->allocated("a", *ResourceQuantities::parse("cpus:3"));
  s->allocated("b", *ResourceQuantities::parse("cpus:3"));
  s->allocated("e", *ResourceQuantities::parse("cpus:3"));
  s->allocated("d", *ResourceQuantities::parse("cpus:1"));
  s->allocated("d", *ResourceQuantities::parse("cpus:2"));
  for (int i = 0; i < 3; ++i) s->allocated("c", *ResourceQuantities::parse("cpus:1"));
  EXPECT_EQ(s->sort(), (V{"a", "b", "e", "d", "c"}));
  s->unallocated("c", *ResourceQuantities::parse("cpus:3"));
  EXPECT_EQ(s->sort(), (V{"c", "a", "b", "e", "d"}));
}

// Equal shares and counts sort by name. Names arriving in reverse order
// (each sorts first), or each between the last one and its neighbour, use
// up the room between name ranks and force renumbering; the order stays
// the names' order throughout, in every subtree, also for names that are
// removed and come back.
TEST_F(DrfSorterTest, EqualKeysSortByNameHoweverNamesArrive) {
  std::vector<std::string> names;
  for (int i = 0; i < 150; ++i) names.push_back("n" + std::string(150 - i, 'a'));       // Each sorts first.
  names.push_back("nz");
  // Each between the one before and "nz".
  for (int i = 1; i < 150; ++i) names.push_back("n" + std::string(150, 'a') + std::string(i, 'm'));
  for (const auto& name : names) {
    add(name.c_str(), "cpus:1");
    add(("sub/" + name).c_str(), "cpus:1");
  }
  V expected = names;
  std::sort(expected.begin(), expected.end());
  V top, sub;
  for (const auto& path : s->sort()) (path.starts_with("sub/") ? sub : top).push_back(path);
  EXPECT_EQ(top, expected);
  for (auto& path : sub) path = path.substr(4);
  EXPECT_EQ(sub, expected);

  for (size_t i = 0; i < names.size(); i += 2) s->remove(names[i]);
  for (size_t i = 0; i < names.size(); i += 2) add(names[i].c_str(), "cpus:1");
  top.clear();
  for (const auto& path : s->sort()) {
    if (!path.starts_with("sub/")) top.push_back(path);
  }
  EXPECT_EQ(top, expected);
}

// A re-keying that keeps a client's place (a small allocation to the last
// one, or to an only child) still records the new key: later moves of its
// siblings compare against it.
TEST_F(DrfSorterTest, AKeyChangedInPlaceStillOrdersItsSiblings) {
  add("a", "cpus:1");
  add("b", "cpus:2");
  s->allocated("b", *ResourceQuantities::parse("cpus:2"));  // b stays last, now 4.
  s->allocated("a", *ResourceQuantities::parse("cpus:2"));  // a: 3 < 4, stays first.
  EXPECT_EQ(s->sort(), (V{"a", "b"}));
  s->allocated("a", *ResourceQuantities::parse("cpus:2"));  // a: 5 > 4.
  EXPECT_EQ(s->sort(), (V{"b", "a"}));
  add("only/x", "cpus:1");
  s->allocated("only/x", *ResourceQuantities::parse("cpus:9"));  // "only": 10, alone under it.
  EXPECT_EQ(s->sort(), (V{"b", "a", "only/x"}));
}

// An only child's key is not filed again while it has no sibling (it
// orders nothing). The first sibling to arrive must still find it where its
// share puts it: at the top, down a subtree, after a weight change, and in
// the marked set that walkMarked() follows.
TEST_F(DrfSorterTest, AnOnlyChildsKeyCatchesUpWhenASiblingArrives) {
  add("a", "cpus:1");
  s->allocated("a", *ResourceQuantities::parse("cpus:9"));  // a: 10, alone.
  add("b", "cpus:5");
  EXPECT_EQ(s->sort(), (V{"b", "a"}));

  add("c/x", "cpus:1");
  s->allocated("c/x", *ResourceQuantities::parse("cpus:3"));  // c/x: 4, alone under c.
  add("c/y", "cpus:2");
  EXPECT_EQ(s->sort(), (V{"b", "c/y", "c/x", "a"}));  // c: 6.

  s->remove("b");
  s->remove("c/x");
  s->remove("c/y");
  s->updateWeight("a", 0.5);  // a: 10 / 0.5 = 20, alone again.
  add("d", "cpus:15");
  EXPECT_EQ(s->sort(), (V{"d", "a"}));

  ClientId ex = s->add("e/x");
  s->activate("e/x");
  s->setMarked(ex, true);
  s->allocated("e/x", *ResourceQuantities::parse("cpus:30"));  // e/x: 30, alone under e.
  ClientId ey = s->add("e/y");
  s->activate("e/y");
  s->setMarked(ey, true);
  s->allocated("e/y", *ResourceQuantities::parse("cpus:1"));
  V marked;
  s->walkMarked([&](ClientId c) {
    marked.push_back(s->path(c));
    return true;
  });
  EXPECT_EQ(marked, (V{"e/y", "e/x"}));
}

// A lone client at the top is visited without stepping through the order:
// only while active, once per walk, in a marked walk only while marked,
// and a lone subtree still through its children.
TEST_F(DrfSorterTest, ALoneClientIsVisitedLikeAnyOther) {
  auto one = QuantityVector::from(*ResourceQuantities::parse("cpus:1"), s->names());
  auto visits = [&](bool marked) {
    V seen;
    auto visitor = [&](ClientId c) {
      seen.push_back(s->path(c));
      s->allocated(c, one);
      return true;
    };
    if (marked) {
      s->walkMarked(visitor);
    } else {
      s->walk(visitor);
    }
    return seen;
  };
  ClientId a = s->add("a");
  EXPECT_EQ(visits(false), V{});
  s->activate("a");
  EXPECT_EQ(visits(false), V{"a"});
  EXPECT_EQ(s->allocationCount(a), 1u);
  EXPECT_EQ(visits(true), V{});
  s->setMarked(a, true);
  EXPECT_EQ(visits(true), V{"a"});
  s->remove("a");
  add("x/y", "");
  add("x/z", "cpus:1");
  EXPECT_EQ(visits(false), (V{"x/y", "x/z"}));
}

// The prefetch hint names the client a walk visits first, down a tree of
// roles too, and nothing when it cannot tell without reading client state
// (nothing sorted yet since the total changed).
TEST_F(DrfSorterTest, PrefetchFirstNamesTheFirstClientsOfAWalk) {
  std::array<ClientId, 2> out{};
  auto first = [&](size_t n) {
    std::vector<std::string> paths;
    size_t got = s->prefetchFirst(std::span<ClientId>(out.data(), n));
    for (size_t i = 0; i < got; ++i) paths.push_back(s->path(out[i]));
    return paths;
  };
  EXPECT_EQ(first(2), V{});
  add("eng/db", "cpus:3");
  add("eng/web", "cpus:1");
  add("ops", "cpus:5");
  s->sort();
  EXPECT_EQ(first(2), (V{"eng/web", "eng/db"}));
  EXPECT_EQ(first(1), (V{"eng/web"}));
  s->allocated("eng/web", *ResourceQuantities::parse("cpus:10"));  // eng: 14 > ops: 5.
  EXPECT_EQ(first(2), (V{"ops"}));  // The next leaf is in another subtree: not named.
  s->addTotal(*ResourceQuantities::parse("cpus:1"));
  EXPECT_EQ(first(2), V{});
  s->sort();
  EXPECT_EQ(first(2), (V{"ops"}));
  EXPECT_EQ(makeSorter(SorterKind::kRandom)->prefetchFirst(out), 0u);
}

// DRF's usual move, the first client given something and going to the
// back, through one chunk of keys and through many (chunks drained from the
// front, the last one filling up and splitting): the order stays DRF's by
// brute force at every step.
TEST_F(DrfSorterTest, RoundRobinKeepsDrfOrderAcrossChunks) {
  for (int clients : {2, 70, 300}) {
    SCOPED_TRACE(std::to_string(clients) + " clients");
    s = makeSorter(SorterKind::kDrf);
    s->addTotal(*ResourceQuantities::parse("cpus:1000000"));
    V expected;
    for (int i = 0; i < clients; ++i) {
      std::string name = "c" + std::to_string(1000 + i);
      add(name.c_str(), "");
      expected.push_back(name);
    }
    auto one = QuantityVector::from(*ResourceQuantities::parse("cpus:1"), s->names());
    for (int step = 0; step < 1500; ++step) {
      std::optional<ClientId> first;
      s->walk([&](ClientId c) {
        first = c;
        s->allocated(c, one);
        return false;
      });
      ASSERT_TRUE(first.has_value());
      ASSERT_EQ(s->path(*first), expected.front()) << "step " << step;
      std::rotate(expected.begin(), expected.begin() + 1, expected.end());
      if (step % 5 == 0) {
        ASSERT_EQ(s->sort(), expected) << "step " << step;
      }
    }
  }
}

// Hundreds of siblings (their keys span many chunks of the sorter's ordered
// set) through thousands of random changes: after each, the order is DRF's
// by brute force, and a walk that allocates as it goes visits every active
// client exactly once.
TEST_F(DrfSorterTest, ManySiblingsStayInDrfOrderThroughRandomChanges) {
  const uint32_t seed = 20261121;
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  auto uniform = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  s->addTotal(*ResourceQuantities::parse("cpus:100000;mem:100000"));
  std::vector<std::string> present;
  for (int i = 0; i < 400; ++i) {
    std::string name = "c" + std::to_string(uniform(0, 1000000));
    if (s->contains(name)) continue;
    s->add(name);
    s->activate(name);
    present.push_back(name);
  }
  auto quantities = [&](int cpus, int mem) {
    return QuantityVector::from(
        *ResourceQuantities::parse("cpus:" + std::to_string(cpus) + ";mem:" + std::to_string(mem)), s->names());
  };
  auto expected = [&] {
    std::vector<std::tuple<double, uint64_t, std::string>> keys;
    for (const auto& name : present) {
      if (!s->isActive(name)) continue;
      ClientId c = *s->find(name);
      keys.emplace_back(s->share(c), s->allocationCount(c), name);
    }
    std::sort(keys.begin(), keys.end());
    V out;
    for (const auto& key : keys) out.push_back(std::get<2>(key));
    return out;
  };
  for (int step = 0; step < 4000; ++step) {
    const std::string& name = present[uniform(0, static_cast<int>(present.size()) - 1)];
    ClientId c = *s->find(name);
    switch (uniform(0, 9)) {
      case 0: case 1: case 2: case 3:
        s->allocated(c, quantities(uniform(1, 50), uniform(0, 50)));
        break;
      case 4: case 5: {
        QuantityVector half = s->allocation(c);
        for (size_t i = 0; i < half.size(); ++i) half.set(i, half[i] / 2);
        s->unallocated(c, half);
        break;
      }
      case 6:
        if (s->isActive(name)) {
          s->deactivate(name);
        } else {
          s->activate(name);
        }
        break;
      case 7: {
        std::string gone = name;
        s->remove(gone);
        std::erase(present, gone);
        std::string added = "c" + std::to_string(uniform(0, 1000000));
        if (!s->contains(added)) {
          s->add(added);
          s->activate(added);
          present.push_back(added);
        }
        break;
      }
      case 8: {
        std::set<std::string> seen;
        bool twice = false;
        s->walk([&](ClientId visited) {
          twice |= !seen.insert(s->path(visited)).second;
          if (uniform(0, 2) == 0) s->allocated(visited, quantities(uniform(1, 500), 0));
          return true;
        });
        ASSERT_FALSE(twice) << "step " << step;
        V active = expected();
        ASSERT_EQ(seen, std::set<std::string>(active.begin(), active.end())) << "step " << step;
        break;
      }
      default:
        break;
    }
    if (step % 7 == 0) {
      ASSERT_EQ(s->sort(), expected()) << "step " << step;
    }
  }
  EXPECT_EQ(s->sort(), expected());
}

TEST_F(DrfSorterTest, TotalChangeReordersEverything) {
  add("a", "cpus:10");
  add("b", "mem:20");
  EXPECT_EQ(s->sort(), (V{"a", "b"}));
  s->addTotal(*ResourceQuantities::parse("cpus:900"));  // a: 10/1000, b: 20/100
  EXPECT_EQ(s->sort(), (V{"a", "b"}));
  s->removeTotal(*ResourceQuantities::parse("cpus:990"));  // a: 10/10
  EXPECT_EQ(s->sort(), (V{"b", "a"}));
}

TEST_F(DrfSorterTest, WalkFollowsTheNewOrderAfterAnAllocation) {
  add("a", "cpus:1");
  add("b", "cpus:2");
  add("c", "cpus:3");
  auto ten = QuantityVector::from(*ResourceQuantities::parse("cpus:10"), s->names());
  std::vector<std::string> seen;
  s->walk([&](ClientId c) {
    seen.push_back(s->path(c));
    if (seen.size() == 1) s->allocated(c, ten);  // a moves last.
    return true;
  });
  EXPECT_EQ(seen, (V{"a", "b", "c"}));
  EXPECT_EQ(s->sort(), (V{"b", "c", "a"}));
}

// walkMarked() must visit exactly what walk() visits when its visitor skips
// unmarked clients, in the same order, also while the walk allocates. Two
// twin sorters go through the same random operations (nested paths, clients
// that gain and lose children, activity, marks, weights, total changes);
// one walks marked clients, the other filters a full walk.
TYPED_TEST(CommonSorterTest, WalkMarkedIsTheFilteredWalk) {
  const uint32_t seed = 20240611;
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  auto marked = makeSorter(TypeParam::value, nullptr, 42);
  auto filtered = makeSorter(TypeParam::value, nullptr, 42);
  const std::vector<std::string> paths = {"a", "a/b", "a/b/c", "a/d", "e", "e/f", "g", "h", "h/i", "j"};
  auto one = QuantityVector::from(*ResourceQuantities::parse("cpus:1;mem:10"), marked->names());
  auto total = QuantityVector::from(*ResourceQuantities::parse("cpus:100;mem:1000"), marked->names());
  QuantityVector::from(*ResourceQuantities::parse("cpus:1;mem:10"), filtered->names());
  for (Sorter* s : {marked.get(), filtered.get()}) s->addTotal(total);

  for (int step = 0; step < 3000; ++step) {
    const std::string& path = paths[rng() % paths.size()];
    uint32_t op = rng() % 8;
    for (Sorter* s : {marked.get(), filtered.get()}) {
      auto client = s->find(path);
      switch (op) {
        case 0:
          if (!client) s->add(path);
          break;
        case 1:
          if (client) s->remove(path);
          break;
        case 2:
          if (client) s->activate(path);
          break;
        case 3:
          if (client) s->deactivate(path);
          break;
        case 4:
        case 5:
          if (client) s->setMarked(*client, op == 4);
          break;
        case 6:
          if (client) s->allocated(*client, one);
          break;
        default:
          if (step % 3 == 0) s->addTotal(one);
          if (step % 3 == 1) s->updateWeight(path, 1.0 + static_cast<double>(step % 4));
          break;
      }
    }
    // Walk both, allocating to every other visited client.
    std::vector<std::string> a, b;
    size_t n = 0;
    marked->walkMarked([&](ClientId c) {
      a.push_back(marked->path(c));
      if (n++ % 2 == 0) marked->allocated(c, one);
      return true;
    });
    n = 0;
    filtered->walk([&](ClientId c) {
      if (!filtered->isMarked(c)) return true;
      b.push_back(filtered->path(c));
      if (n++ % 2 == 0) filtered->allocated(c, one);
      return true;
    });
    ASSERT_EQ(a, b) << "step " << step;
  }
}

TEST(RandomSorterTest, SameSeedSameOrder) {
  auto make = [] {
    auto s = makeSorter(SorterKind::kRandom, nullptr, 7);
    for (const char* p : {"a", "b", "c", "d", "e", "f"}) {
      s->add(p);
      s->activate(p);
    }
    return s;
  };
  auto s1 = make();
  auto s2 = make();
  for (int i = 0; i < 5; ++i) EXPECT_EQ(s1->sort(), s2->sort());
}

TEST(RandomSorterTest, WeightsBiasTheOrder) {
  auto s = makeSorter(SorterKind::kRandom, nullptr, 1);
  s->updateWeight("heavy", 9);
  for (const char* p : {"heavy", "light"}) {
    s->add(p);
    s->activate(p);
  }
  int heavyFirst = 0;
  for (int i = 0; i < 1000; ++i) heavyFirst += s->sort().front() == "heavy";
  EXPECT_GT(heavyFirst, 800);  // Expected 900 with a fixed seed.
}

}  // namespace
}  // namespace agora::allocator
