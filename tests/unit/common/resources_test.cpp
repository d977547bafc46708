// Resources arithmetic, views and the reservation stack, with the examples of
// mesos.md §4.

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "agora/common/resources.hpp"

namespace agora {
namespace {

Resources parse(std::string_view text, std::string_view role = "*") {
  Result<Resources> r = Resources::parse(text, role);
  EXPECT_TRUE(r.ok()) << text << ": " << r.status();
  return r.valueOr(Resources());
}

Reservation dynamic(std::string role, std::string principal = "") {
  return {Reservation::Type::kDynamic, std::move(role), std::move(principal), {}};
}

// --- RangeSet ----------------------------------------------------------------------

TEST(RangeSetTest, AddCoalescesAdjacentAndOverlapping) {
  RangeSet s{{1, 3}, {4, 6}};
  EXPECT_EQ(s.ranges(), (std::vector<Range>{{1, 6}}));
  s.add({10, 12});
  s.add({8, 8});
  EXPECT_EQ(s.toString(), "[1-6,8-8,10-12]");
  s.add({7, 9});
  EXPECT_EQ(s.toString(), "[1-12]");
  s.add({0, 100});
  EXPECT_EQ(s.toString(), "[0-100]");
  EXPECT_EQ(s.count(), 101u);
}

TEST(RangeSetTest, SubtractSplitsAndIgnoresAbsent) {
  RangeSet s{{31000, 32000}};
  s.subtract(RangeSet{{31500, 31500}});
  EXPECT_EQ(s.toString(), "[31000-31499,31501-32000]");
  s.subtract(RangeSet{{1, 5}, {31000, 31000}, {31999, 40000}});
  EXPECT_EQ(s.toString(), "[31001-31499,31501-31998]");
  s.subtract(RangeSet{{0, 31498}});
  EXPECT_EQ(s.toString(), "[31499-31499,31501-31998]");
  s.subtract(RangeSet{{0, 100000}});
  EXPECT_TRUE(s.empty());
}

TEST(RangeSetTest, SubtractOneCutSpanningSeveralRanges) {
  RangeSet s{{1, 2}, {4, 5}, {7, 8}, {10, 11}};
  s.subtract(RangeSet{{2, 7}, {11, 11}});
  EXPECT_EQ(s.toString(), "[1-1,8-8,10-10]");
}

TEST(RangeSetTest, Contains) {
  RangeSet s{{1, 5}, {10, 20}};
  EXPECT_TRUE(s.contains(RangeSet{{2, 3}, {10, 20}}));
  EXPECT_FALSE(s.contains(RangeSet{{4, 11}}));
  EXPECT_FALSE(s.contains(RangeSet{{0, 0}}));
  EXPECT_TRUE(s.contains(7) == false && s.contains(15));
  EXPECT_TRUE(s.contains(RangeSet{}));
}

TEST(RangeSetTest, ExtremesDoNotOverflow) {
  constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
  RangeSet s{{kMax - 1, kMax}, {0, 0}};
  s.add({kMax, kMax});
  EXPECT_EQ(s.ranges().size(), 2u);
  s.add({1, kMax - 2});
  EXPECT_EQ(s.ranges(), (std::vector<Range>{{0, kMax}}));
  EXPECT_EQ(s.count(), kMax);  // Saturates: 2^64 does not fit.
  s.subtract(RangeSet{{kMax, kMax}});
  EXPECT_EQ(s.ranges(), (std::vector<Range>{{0, kMax - 1}}));
}

// --- Parsing: the examples of mesos.md §4.2 ---------------------------------------------

TEST(ResourcesTest, ParsesTheAgentExample) {
  Resources r = parse("cpus:4;mem:2048;cpus(ads):8;mem(ads):4096;ports:[31000-32000];bugs(debug):{a,b}");
  EXPECT_EQ(r.size(), 6u);
  EXPECT_EQ(r.scalar("cpus"), Scalar::of(12));
  EXPECT_EQ(r.unreserved().scalar("cpus"), Scalar::of(4));
  EXPECT_EQ(r.reservedTo("ads").scalar("mem"), Scalar::of(4096));
  EXPECT_EQ(r.ranges("ports"), (RangeSet{{31000, 32000}}));
  EXPECT_EQ(r.items("bugs"), (ItemSet{"a", "b"}));
  EXPECT_EQ(r.reservedTo("debug").size(), 1u);
  Resource staticCpus = *r.reservedTo("ads").named("cpus").begin();
  ASSERT_EQ(staticCpus.reservations.size(), 1u);
  EXPECT_EQ(staticCpus.reservations[0].type, Reservation::Type::kStatic);
  EXPECT_FALSE(staticCpus.isDynamicallyReserved());
  EXPECT_EQ(r.toString(), "cpus:4;mem:2048;cpus(ads):8;mem(ads):4096;ports:[31000-32000];bugs(debug):{a,b}");
}

TEST(ResourcesTest, ParsesTheHeaderExampleWithWhitespace) {
  Resources r = parse("  cpus : 4 ; mem:2048;\n ports:[31000-32000, 33000-33100] ;cpus( spark ):8;disks:{ a , b };");
  EXPECT_EQ(r.toString(), "cpus:4;mem:2048;ports:[31000-32000,33000-33100];cpus(spark):8;disks:{a,b}");
}

TEST(ResourcesTest, ParsesTheJsonExampleWithRole) {
  Resources r = parse(R"([{"name":"cpus","type":"SCALAR","scalar":{"value":24}},
    {"name":"ports","type":"RANGES","ranges":{"range":[{"begin":21000,"end":24000}]}},
    {"name":"bugs","type":"SET","set":{"item":["a","b"]},"role":"debug_role"}])");
  EXPECT_EQ(r.toString(), "cpus:24;ports:[21000-24000];bugs(debug_role):{a,b}");
}

TEST(ResourcesTest, DefaultRoleMakesStaticReservations) {
  Resources r = parse("cpus:4;mem(*):64;disk(other):10", "eng");
  EXPECT_EQ(r.reservedTo("eng").toString(), "cpus(eng):4");
  EXPECT_EQ(r.unreserved().toString(), "mem:64");
  EXPECT_EQ(r.reservedTo("other").toString(), "disk(other):10");
  EXPECT_EQ(parse(R"([{"name":"cpus","type":"SCALAR","scalar":{"value":1}}])", "eng").toString(), "cpus(eng):1");
}

TEST(ResourcesTest, ZeroScalarsAreDropped) {
  EXPECT_TRUE(parse("cpus:0;ports:[];s:{}").empty());
  EXPECT_EQ(parse("cpus:0.0001;mem:1").toString(), "mem:1");  // Rounds to zero.
}

TEST(ResourcesTest, FixedPointArithmetic) {
  Resources r;
  for (int i = 0; i < 10; ++i) r += parse("cpus:0.1");
  EXPECT_EQ(r, parse("cpus:1"));
  EXPECT_EQ(parse("cpus:1.23456").toString(), "cpus:1.235");
}

// --- Arithmetic -------------------------------------------------------------------------

TEST(ResourcesTest, AddMergesEqualSlotsOnly) {
  Resources r = parse("cpus:1;ports:[1-3]") + parse("cpus:2;ports:[4-6];cpus(eng):1");
  EXPECT_EQ(r.size(), 3u);
  EXPECT_EQ(r.toString(), "cpus:3;ports:[1-6];cpus(eng):1");
}

TEST(ResourcesTest, SubtractNeverGoesNegative) {
  Resources r = parse("cpus:1;mem:100;ports:[1-10]");
  r -= parse("cpus:2;mem:40;ports:[5-5,20-30];disk:5");
  EXPECT_EQ(r.toString(), "mem:60;ports:[1-4,6-10]");
  r -= parse("cpus(eng):1");  // Another slot: untouched.
  EXPECT_EQ(r.toString(), "mem:60;ports:[1-4,6-10]");
  r -= r;
  EXPECT_TRUE(r.empty());
}

TEST(ResourcesTest, ContainsPerSlot) {
  Resources r = parse("cpus:4;mem:1024;ports:[31000-32000];cpus(eng):2");
  EXPECT_TRUE(r.contains(parse("cpus:4;ports:[31000-31005]")));
  EXPECT_TRUE(r.contains(parse("cpus(eng):2")));
  EXPECT_FALSE(r.contains(parse("cpus:5")));
  EXPECT_FALSE(r.contains(parse("cpus(eng):3")));
  EXPECT_FALSE(r.contains(parse("cpus(ops):1")));
  EXPECT_FALSE(r.contains(parse("ports:[30999-31000]")));
  EXPECT_TRUE(r.contains(Resources()));
}

TEST(ResourcesTest, EqualityIgnoresOrder) {
  EXPECT_EQ(parse("cpus:1;mem:2;cpus(a):3"), parse("cpus(a):3;mem:2;cpus:1"));
  EXPECT_NE(parse("cpus:1;mem:2"), parse("cpus:1;mem:3"));
  EXPECT_NE(parse("cpus:1"), parse("cpus(a):1"));
  EXPECT_NE(parse("cpus:1"), parse("cpus:1;mem:1"));
}

TEST(ResourcesTest, QuantitiesCountElements) {
  Resources r = parse("cpus:1.5;cpus(eng):1;ports:[1-10,21-30];s:{a,b,c}");
  EXPECT_EQ(r.quantities(), (ResourceQuantities{{"cpus", 2.5}, {"ports", 20}, {"s", 3}}));
  EXPECT_EQ(r.scalarQuantities(), (ResourceQuantities{{"cpus", 2.5}}));
}

// --- Allocation -------------------------------------------------------------------------

TEST(ResourcesTest, AllocateAndUnallocate) {
  Resources r = parse("cpus:1;mem:2");
  Resources offered = r.allocate("dev");
  EXPECT_EQ(offered.allocationRoles(), (std::set<std::string>{"dev"}));
  EXPECT_NE(offered, r);
  EXPECT_FALSE(r.contains(offered));
  EXPECT_EQ(offered.unallocate(), r);
  EXPECT_EQ(offered.toString(), "cpus{allocated:dev}:1;mem{allocated:dev}:2");
  // Slots that differ only by allocation role merge once unallocated.
  Resources mixed = parse("cpus:1").allocate("a") + parse("cpus:2").allocate("b");
  EXPECT_EQ(mixed.size(), 2u);
  EXPECT_EQ(mixed.unallocate().toString(), "cpus:3");
}

// What a refuse filter asks: are these (unallocated) resources within what
// was declined (as offered)? Everything but the allocation role counts.
TEST(ResourcesTest, ContainsIgnoringAllocationComparesAllButTheRole) {
  Resources declined = parse("cpus:4;mem:1024;ports:[31000-32000];cpus(eng):2").allocate("eng");
  EXPECT_TRUE(declined.containsIgnoringAllocation(parse("cpus:4;ports:[31000-31005]")));
  EXPECT_TRUE(declined.containsIgnoringAllocation(parse("cpus(eng):2;mem:1024")));
  EXPECT_TRUE(declined.containsIgnoringAllocation(parse("cpus:1").allocate("other")));
  EXPECT_TRUE(declined.containsIgnoringAllocation(Resources()));
  EXPECT_FALSE(declined.containsIgnoringAllocation(parse("cpus:5")));
  EXPECT_FALSE(declined.containsIgnoringAllocation(parse("cpus(eng):3")));
  EXPECT_FALSE(declined.containsIgnoringAllocation(parse("cpus(ops):1")));
  EXPECT_FALSE(declined.containsIgnoringAllocation(parse("ports:[30999-31000]")));
  EXPECT_FALSE(declined.containsIgnoringAllocation(parse("gpus:1")));
  // Without roles it is contains().
  Resources plain = declined.unallocate();
  for (const char* text : {"cpus:4", "cpus:5", "cpus(eng):2;ports:[31000-31001]", "disk:1"}) {
    EXPECT_EQ(plain.containsIgnoringAllocation(parse(text)), plain.contains(parse(text))) << text;
  }
}

// --- Copy-on-write slots ------------------------------------------------------------------

// Copies share their slots until one changes: every way of changing a value
// leaves its copies as they were.
TEST(ResourcesCopyOnWriteTest, ChangingACopyLeavesTheOthers) {
  const Resources original = parse("cpus:2;mem:1024;ports:[31000-31010]");
  const std::string text = original.toString();
  auto check = [&](const char* what, auto change) {
    Resources copy = original;
    change(copy);
    EXPECT_EQ(original.toString(), text) << what;
  };
  check("add", [](Resources& r) { r.add(*parse("cpus:1").begin()); });
  check("subtract", [](Resources& r) { r.subtract(*parse("ports:[31005-31005]").begin()); });
  check("+=", [](Resources& r) { r += parse("disk:10"); });
  check("-=", [](Resources& r) { r -= parse("mem:24"); });
  check("-= itself", [](Resources& r) { r -= r; });
  check("-= a copy", [&](Resources& r) { r -= original; });
  check("+= itself", [](Resources& r) { r += r; });
  check("allocate&&", [](Resources& r) { r = std::move(r).allocate("dev"); });
  check("assign", [](Resources& r) { r = parse("gpus:1"); });
}

TEST(ResourcesCopyOnWriteTest, SharedValuesCompareAndCombine) {
  Resources a = parse("cpus:2;mem:1024");
  Resources b = a;
  EXPECT_EQ(a, b);
  EXPECT_TRUE(a.contains(b));
  a += b;  // Adds to itself through a copy.
  EXPECT_EQ(a, parse("cpus:4;mem:2048"));
  EXPECT_EQ(b, parse("cpus:2;mem:1024"));
  b -= Resources(b);
  EXPECT_TRUE(b.empty());
  Resources c;
  c += a;  // Adding to nothing shares, and stays a value of its own.
  c -= parse("cpus:1");
  EXPECT_EQ(c, parse("cpus:3;mem:2048"));
  EXPECT_EQ(a, parse("cpus:4;mem:2048"));
  EXPECT_EQ(a.filter([](const Resource&) { return true; }), a);
  EXPECT_TRUE(a.filter([](const Resource&) { return false; }).empty());
}

// Copies of one value used from several threads at once (the SDK's driver
// thread and the caller's): the sanitizer build checks the reference count.
TEST(ResourcesCopyOnWriteTest, CopiesInSeveralThreads) {
  const Resources shared = parse("cpus:2;mem:1024;ports:[31000-31010]");
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([shared, t] {
      for (int i = 0; i < 2000; ++i) {
        Resources mine = shared;
        Resources other = mine;
        mine += parse("cpus:1");
        other = std::move(other).allocate("role" + std::to_string(t));
        EXPECT_EQ(mine.scalar("cpus"), Scalar::fromMillis(3000));
        EXPECT_EQ(other.allocationRoles().size(), 1u);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(shared, parse("cpus:2;mem:1024;ports:[31000-31010]"));
}

// --- Reservations (mesos.md §4.4) -----------------------------------------------------------

TEST(ReservationTest, AllocatableToRoleAndItsSubroles) {
  Resources r = parse("cpus:1;cpus(eng):2;cpus(ops):4");
  Resources refined = parse("mem:8").pushReservation(dynamic("eng")).value()
                          .pushReservation(dynamic("eng/db")).value();
  r += refined;
  EXPECT_EQ(r.allocatableTo("eng").scalar("cpus"), Scalar::of(3));
  EXPECT_EQ(r.allocatableTo("eng").scalar("mem"), Scalar::of(0));
  EXPECT_EQ(r.allocatableTo("eng/db").scalar("cpus"), Scalar::of(3));  // Ancestor's reservation.
  EXPECT_EQ(r.allocatableTo("eng/db").scalar("mem"), Scalar::of(8));
  EXPECT_EQ(r.allocatableTo("eng/db/x").scalar("mem"), Scalar::of(8));
  EXPECT_EQ(r.allocatableTo("engineering").scalar("cpus"), Scalar::of(1));  // Not a sub-role.
  EXPECT_EQ(r.allocatableTo("dev").toString(), "cpus:1");
  EXPECT_EQ(r.allocatableTo("*").toString(), "cpus:1");
}

TEST(ReservationTest, ReservationViews) {
  Resources r = parse("cpus:1;cpus(eng):2;mem(eng):3;cpus(ops):4");
  auto byRole = r.reservations();
  ASSERT_EQ(byRole.size(), 2u);
  EXPECT_EQ(byRole["eng"], parse("cpus(eng):2;mem(eng):3"));
  EXPECT_EQ(byRole["ops"], parse("cpus(ops):4"));
  EXPECT_EQ(r.reserved(), parse("cpus(eng):2;mem(eng):3;cpus(ops):4"));
  EXPECT_EQ(r.unreserved(), parse("cpus:1"));
  EXPECT_EQ(r.toUnreserved(), parse("cpus:7;mem:3"));
}

TEST(ReservationTest, PushAndPopDynamic) {
  Resources unreserved = parse("cpus:1;mem:512");
  Result<Resources> reserved = unreserved.pushReservation(dynamic("eng", "ops"));
  ASSERT_TRUE(reserved.ok()) << reserved.status();
  EXPECT_EQ(reserved->toString(), "cpus(eng,dynamic:ops):1;mem(eng,dynamic:ops):512");
  EXPECT_EQ(reserved->reservedTo("eng").size(), 2u);
  EXPECT_TRUE(reserved->begin()->isDynamicallyReserved());

  Result<Resources> refined = reserved->pushReservation(dynamic("eng/db/x", "ops"));
  ASSERT_TRUE(refined.ok()) << refined.status();  // May skip levels.
  EXPECT_EQ(refined->begin()->role(), "eng/db/x");
  EXPECT_EQ(refined->toString(), "cpus(eng,dynamic:ops>eng/db/x,dynamic:ops):1;mem(eng,dynamic:ops>eng/db/x,dynamic:ops):512");

  Result<Resources> popped = refined->popReservation();
  ASSERT_TRUE(popped.ok());
  EXPECT_EQ(*popped, *reserved);
  EXPECT_EQ(popped->popReservation().value(), unreserved);
}

TEST(ReservationTest, RefinementOfStatic) {
  Resources staticEng = parse("cpus(eng):2");
  Result<Resources> refined = staticEng.pushReservation(dynamic("eng/db"));
  ASSERT_TRUE(refined.ok()) << refined.status();
  EXPECT_EQ(refined->toString(), "cpus(eng>eng/db,dynamic):2");
  EXPECT_EQ(refined->popReservation().value(), staticEng);
}

TEST(ReservationTest, PushErrors) {
  Resources r = parse("cpus:1");
  auto error = [](const Result<Resources>& result) { return result.ok() ? "" : result.error().message(); };
  EXPECT_EQ(error(r.pushReservation(dynamic("*"))), "Cannot reserve resources for role '*'");
  EXPECT_EQ(error(r.pushReservation(dynamic("a//b"))), "Cannot reserve resources: Invalid role 'a//b': contains '//'");
  Resources eng = r.pushReservation(dynamic("eng")).value();
  EXPECT_EQ(error(eng.pushReservation(dynamic("ops"))),
            "Cannot reserve 'cpus(eng,dynamic):1': role 'ops' is not a sub-role of the current owner 'eng'");
  EXPECT_EQ(error(eng.pushReservation(dynamic("eng"))),
            "Cannot reserve 'cpus(eng,dynamic):1': role 'eng' is not a sub-role of the current owner 'eng'");
  EXPECT_EQ(error(eng.pushReservation({Reservation::Type::kStatic, "eng/db", "", {}})),
            "Cannot reserve 'cpus(eng,dynamic):1': a static reservation cannot refine the reservation for role 'eng'");
  Resource revocable = *r.begin();
  revocable.revocable = true;
  Resources revocables;
  revocables.add(revocable);
  EXPECT_EQ(error(revocables.pushReservation(dynamic("eng"))),
            "Cannot reserve 'cpus{revocable}:1': revocable resources cannot be reserved");
}

TEST(ReservationTest, PopErrors) {
  auto error = [](const Result<Resources>& result) { return result.ok() ? "" : result.error().message(); };
  EXPECT_EQ(error(parse("cpus:1").popReservation()), "Cannot unreserve 'cpus:1': it is not reserved");
  EXPECT_EQ(error(parse("cpus(eng):1").popReservation()),
            "Cannot unreserve 'cpus(eng):1': its reservation for role 'eng' is static");
  EXPECT_TRUE(Resources().popReservation().ok());
}

TEST(ReservationTest, DifferentLabelsNeverMerge) {
  Reservation a = dynamic("eng", "ops");
  Reservation b = a;
  b.labels = {{"team", "db"}};
  Resources r = parse("cpus:1").pushReservation(a).value() + parse("cpus:2").pushReservation(b).value() +
                parse("cpus:4").pushReservation(a).value();
  EXPECT_EQ(r.size(), 2u);
  EXPECT_EQ(r.reservedTo("eng").scalar("cpus"), Scalar::of(7));
  EXPECT_EQ(r.toString(), "cpus(eng,dynamic:ops):5;cpus(eng,dynamic:ops,labels:{team=db}):2");
}

// --- Persistent volumes: atomic ------------------------------------------------------------

Resource volume(std::string id, double mb, bool shared = false) {
  Resource r;
  r.name = "disk";
  r.reservations = {dynamic("eng", "ops")};
  r.disk = DiskInfo{id, "ops", "data", false};
  r.shared = shared;
  r.value = Scalar::of(mb);
  return r;
}

TEST(VolumeTest, VolumesAreAtomic) {
  Resources r;
  r.add(volume("v1", 100));
  r.add(volume("v2", 100));
  EXPECT_EQ(r.size(), 2u);
  EXPECT_EQ(r.persistentVolumes().size(), 2u);
  Resources part;
  part.add(volume("v1", 50));
  EXPECT_FALSE(r.contains(part));
  r -= part;  // A part of a volume cannot be taken.
  EXPECT_EQ(r.size(), 2u);
  Resources whole;
  whole.add(volume("v1", 100));
  EXPECT_TRUE(r.contains(whole));
  r -= whole;
  EXPECT_EQ(r.size(), 1u);
  EXPECT_EQ(r.begin()->disk->persistenceId, "v2");
  EXPECT_EQ(r.toString(), "disk(eng,dynamic:ops){persistence:v2 by ops,volume:data:rw}:100");
  auto popped = r.popReservation();
  ASSERT_FALSE(popped.ok());
  EXPECT_NE(popped.error().message().find("persistent volume"), std::string::npos);
}

TEST(VolumeTest, SharedVolumeCopiesCount) {
  Resources r;
  r.add(volume("v", 10, true));
  r.add(volume("v", 10, true));
  Resources one;
  one.add(volume("v", 10, true));
  EXPECT_EQ(r.size(), 2u);
  EXPECT_TRUE(r.contains(one + one));
  EXPECT_FALSE(r.contains(one + one + one));
  EXPECT_NE(r, one);
  EXPECT_EQ(r - one, one);
}

// --- Detection ----------------------------------------------------------------------------

TEST(DetectionTest, AppliesMesosRules) {
  constexpr uint64_t kGB = 1024ull * 1024 * 1024;
  MachineFacts facts{8, 16 * kGB, 100 * kGB};
  Result<Resources> r = missingResources(Resources(), facts);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->toString(), "cpus:8;mem:15360;disk:97280;ports:[31000-32000]");

  MachineFacts small{2, kGB + 3 * 1024 * 1024, 8 * kGB};  // Below 2 GB / 10 GB: half.
  EXPECT_EQ(missingResources(Resources(), small)->toString(), "cpus:2;mem:513;disk:4096;ports:[31000-32000]");

  EXPECT_EQ(missingResources(Resources(), MachineFacts{})->toString(),  // Fallbacks.
            "cpus:1;mem:1024;disk:10240;ports:[31000-32000]");
}

TEST(DetectionTest, OnlyMissingNamesWithDefaultRole) {
  constexpr uint64_t kGB = 1024ull * 1024 * 1024;
  MachineFacts facts{8, 16 * kGB, 100 * kGB};
  Result<Resources> r = missingResources(parse("cpus(spark):8;ports:[1-2]"), facts, "eng");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->toString(), "mem(eng):15360;disk(eng):97280");
  EXPECT_FALSE(missingResources(Resources(), facts, "a//b").ok());
}

TEST(DetectionTest, ReadsThisMachine) {
  MachineFacts facts = detectMachineFacts("/");
  ASSERT_TRUE(facts.cpus.has_value());
  EXPECT_GE(*facts.cpus, 1u);
  ASSERT_TRUE(facts.memoryBytes.has_value());
  EXPECT_GT(*facts.memoryBytes, 0u);
  EXPECT_TRUE(facts.diskBytes.has_value());
  EXPECT_FALSE(detectMachineFacts("/nonexistent/dir").diskBytes.has_value());
  Result<Resources> r = detectMissingResources(Resources(), "/");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->scalar("cpus"), Scalar::fromMillis(static_cast<int64_t>(*facts.cpus) * 1000));
}

}  // namespace
// A declined persistent volume is matched whole, ignoring the role.
TEST(ResourcesTest, ContainsIgnoringAllocationMatchesVolumesWhole) {
  Resources declined;
  declined.add(volume("v1", 100));
  declined.add(*parse("cpus:1").begin());
  declined = declined.allocate("eng");
  Resources same;
  same.add(volume("v1", 100));
  EXPECT_TRUE(declined.containsIgnoringAllocation(same));
  Resources part;
  part.add(volume("v1", 50));
  EXPECT_FALSE(declined.containsIgnoringAllocation(part));
  Resources two = same;
  two.add(volume("v1", 100));  // Two copies need two.
  EXPECT_FALSE(declined.containsIgnoringAllocation(two));
}

}  // namespace agora
