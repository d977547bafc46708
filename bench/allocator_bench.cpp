// Allocator benchmarks in the shapes of Mesos's hierarchical allocator
// benchmarks (reference/mesos.md §5.6), each next to its floor: a plain
// min-heap DRF loop over the same inputs, timed in the same iteration.
// Counters: floor_ms (the heap loop), ratio (allocator / floor), offers.
// Times are thread CPU time of the timed call only (setup excluded).
//
//   build/release/bench/agora_allocator_bench --benchmark_counters_tabular=true

#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <queue>
#include <string>
#include <unordered_set>
#include <vector>

#include "agora/allocator/allocator.hpp"

namespace agora::allocator {
namespace {

// The benchmark's own clock (not the allocator's): this thread's CPU time,
// so that other processes on a shared 2-core machine do not inflate it.
struct WallClock {
  using time_point = double;
  static double now() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
  }
};

double secondsSince(double start) { return WallClock::now() - start; }

TimePoint at(int seconds) { return TimePoint{} + std::chrono::seconds(seconds); }

// --- The floor: a plain heap-based DRF loop -------------------------------------

struct FloorFramework {
  double cpus = 0, mem = 0, disk = 0;
  uint64_t count = 0;
};

// Gives each agent (cpus, mem, disk available) whole to the framework with
// the lowest dominant share that has not declined it. Returns offers made.
size_t floorDrf(size_t agents, double cpus, double mem, double disk, std::vector<FloorFramework>& fws,
                double totalCpus, double totalMem, double totalDisk,
                const std::vector<std::vector<uint32_t>>* declined) {
  using Entry = std::pair<double, uint32_t>;
  auto share = [&](const FloorFramework& f) {
    return std::max({f.cpus / totalCpus, f.mem / totalMem, f.disk / totalDisk});
  };
  std::priority_queue<Entry, std::vector<Entry>, std::greater<>> heap;
  for (uint32_t i = 0; i < fws.size(); ++i) heap.emplace(share(fws[i]), i);
  size_t offers = 0;
  std::vector<Entry> skipped;
  for (size_t a = 0; a < agents; ++a) {
    skipped.clear();
    while (!heap.empty()) {
      Entry e = heap.top();
      heap.pop();
      if (declined) {
        const auto& d = (*declined)[a];
        if (std::find(d.begin(), d.end(), e.second) != d.end()) {
          skipped.push_back(e);
          continue;
        }
      }
      FloorFramework& f = fws[e.second];
      f.cpus += cpus;
      f.mem += mem;
      f.disk += disk;
      ++f.count;
      heap.emplace(share(f), e.second);
      ++offers;
      break;
    }
    for (const Entry& e : skipped) heap.push(e);
  }
  return offers;
}

// --- DeclineOffers --------------------------------------------------------------

struct DeclineCluster {
  std::unique_ptr<Allocator> allocator = makeHierarchicalAllocator();
  size_t agents = 0;
  size_t frameworks = 0;
};

std::string portFragments() {
  std::string ports = "ports:[";
  for (int i = 0; i < 16; ++i) {
    if (i > 0) ports += ",";
    int p = 31000 + 2 * i;
    ports += std::to_string(p) + "-" + std::to_string(p);
  }
  return ports + "]";
}

DeclineCluster makeDeclineCluster(size_t agents, size_t frameworks) {
  DeclineCluster c;
  c.agents = agents;
  c.frameworks = frameworks;
  for (size_t f = 0; f < frameworks; ++f) {
    FrameworkInfo info;
    info.roles = {"role"};
    c.allocator->addFramework("framework" + std::to_string(f), info);
  }
  Resources total = *Resources::parse("cpus:24;mem:4096;disk:4096;ports:[31000-32000]");
  Resources used = Resources::parse("cpus:16;" + portFragments())->allocate("role");
  for (size_t a = 0; a < agents; ++a) {
    c.allocator->addAgent("agent" + std::to_string(a), total,
                          {{"framework" + std::to_string(a % frameworks), used}});
  }
  return c;
}

// Round 0: every agent offered. Round 1: after every offer is declined with
// a long filter. Empty: a batch cycle right after round 0, nothing changed.
enum class Round { kZero, kAfterDecline, kEmpty };

void declineOffers(benchmark::State& state, Round round) {
  auto agents = static_cast<size_t>(state.range(0));
  auto frameworks = static_cast<size_t>(state.range(1));
  double allocTime = 0, floorTime = 0;
  size_t offers = 0;
  for (auto _ : state) {
    DeclineCluster c = makeDeclineCluster(agents, frameworks);
    std::vector<FloorFramework> fws(frameworks);
    for (size_t a = 0; a < agents; ++a) fws[a % frameworks].cpus += 16;
    const double tc = 24.0 * static_cast<double>(agents), tm = 4096.0 * static_cast<double>(agents);
    std::vector<std::vector<uint32_t>> declined;
    const std::vector<std::vector<uint32_t>>* declinedPtr = nullptr;

    auto start = WallClock::now();
    std::vector<Offer> out = c.allocator->allocate(at(0), Scope::batch());
    double t = secondsSince(start);
    if (round != Round::kZero) {
      if (round == Round::kAfterDecline) {
        declined.resize(agents);
        for (const Offer& o : out) {
          c.allocator->recoverResources(o.frameworkId, o.agentId, o.resources, std::chrono::hours(1), at(0));
          declined[std::stoul(o.agentId.substr(5))].push_back(
              static_cast<uint32_t>(std::stoul(o.frameworkId.substr(9))));
        }
        declinedPtr = &declined;
      }
      std::vector<Offer> previous = std::move(out);  // Freed outside the timed region.
      start = WallClock::now();
      out = c.allocator->allocate(at(1), Scope::batch());
      t = secondsSince(start);
    }
    allocTime += t;
    offers = out.size();
    benchmark::DoNotOptimize(out.data());

    if (round != Round::kEmpty) {
      start = WallClock::now();
      size_t floorOffers = floorDrf(agents, 8, 4096, 4096, fws, tc, tm, tm, declinedPtr);
      floorTime += secondsSince(start);
      benchmark::DoNotOptimize(floorOffers);
    }
    state.SetIterationTime(t);
  }
  auto n = static_cast<double>(state.iterations());
  state.counters["offers"] = static_cast<double>(offers);
  if (round != Round::kEmpty) {
    state.counters["floor_ms"] = floorTime / n * 1e3;
    state.counters["ratio"] = allocTime / floorTime;
  }
}

void BM_DeclineOffers_Round0(benchmark::State& s) { declineOffers(s, Round::kZero); }
void BM_DeclineOffers_AfterDecline(benchmark::State& s) { declineOffers(s, Round::kAfterDecline); }
void BM_DeclineOffers_EmptyCycle(benchmark::State& s) { declineOffers(s, Round::kEmpty); }

// Mesos's shapes, and one more: 10,000 agents and 10 frameworks, where
// every offer goes to the framework that already holds resources on the
// agent (agent i holds framework i % 10's, and DRF's round robin gives it
// back to that one), as once tasks run in a real cluster.
void shapes(benchmark::internal::Benchmark* b) {
  b->Args({1000, 100})->Args({5000, 500})->Args({10000, 1000})->Args({20000, 2000})->Args({10000, 10});
  b->UseManualTime()->Unit(benchmark::kMillisecond)->Iterations(5);
}

BENCHMARK(BM_DeclineOffers_Round0)->Apply(shapes);
BENCHMARK(BM_DeclineOffers_AfterDecline)->Apply(shapes);
BENCHMARK(BM_DeclineOffers_EmptyCycle)->Apply(shapes);

// --- LargeAndSmallQuota -----------------------------------------------------------

// 3,000 agents of cpus:2;mem:2048;disk:2048 and 3,000 roles with quota
// (guarantee = limit), one framework each: 1,000 "large" roles of two
// agents' worth and 2,000 "small" roles of half an agent, so the quota
// cycle satisfies every guarantee and chops half the agents in two.
constexpr size_t kQuotaAgents = 3000;
constexpr size_t kLargeRoles = 1000;
constexpr size_t kSmallRoles = 2000;

std::unique_ptr<Allocator> makeQuotaCluster() {
  auto allocator = makeHierarchicalAllocator();
  const auto large = *ResourceQuantities::parse("cpus:4;mem:4096;disk:4096");
  const auto small = *ResourceQuantities::parse("cpus:1;mem:1024;disk:1024");
  for (size_t r = 0; r < kLargeRoles + kSmallRoles; ++r) {
    std::string role = "role" + std::to_string(r);
    const auto& q = r < kLargeRoles ? large : small;
    allocator->updateQuota(role, Quota{q, q});
    FrameworkInfo info;
    info.roles = {role};
    allocator->addFramework("framework" + std::to_string(r), info);
  }
  Resources agent = *Resources::parse("cpus:2;mem:2048;disk:2048");
  for (size_t a = 0; a < kQuotaAgents; ++a) allocator->addAgent("agent" + std::to_string(a), agent);
  return allocator;
}

// The floor for quota: per agent, roles in a heap by consumed/guarantee;
// each takes what it still needs, capped by what the agent has left.
size_t floorQuota() {
  struct Role {
    double need;
    double got = 0;
  };
  std::vector<Role> roles;
  for (size_t r = 0; r < kLargeRoles + kSmallRoles; ++r) roles.push_back(Role{r < kLargeRoles ? 4.0 : 1.0});
  using Entry = std::pair<double, uint32_t>;
  std::priority_queue<Entry, std::vector<Entry>, std::greater<>> heap;
  for (uint32_t i = 0; i < roles.size(); ++i) heap.emplace(0.0, i);
  size_t offers = 0;
  for (size_t a = 0; a < kQuotaAgents; ++a) {
    double left = 2;
    while (left > 0 && !heap.empty()) {
      auto [share, i] = heap.top();
      heap.pop();
      double take = std::min(left, roles[i].need - roles[i].got);
      roles[i].got += take;
      left -= take;
      ++offers;
      if (roles[i].got < roles[i].need) heap.emplace(roles[i].got / roles[i].need, i);
    }
  }
  return offers;
}

void quota(benchmark::State& state, bool empty) {
  double allocTime = 0, floorTime = 0;
  size_t offers = 0;
  for (auto _ : state) {
    auto allocator = makeQuotaCluster();
    auto start = WallClock::now();
    auto out = allocator->allocate(at(0), Scope::batch());
    double t = secondsSince(start);
    if (empty) {
      auto previous = std::move(out);  // Freed outside the timed region.
      start = WallClock::now();
      out = allocator->allocate(at(1), Scope::batch());
      t = secondsSince(start);
    }
    allocTime += t;
    offers = out.size();
    if (!empty) {
      start = WallClock::now();
      benchmark::DoNotOptimize(floorQuota());
      floorTime += secondsSince(start);
    }
    state.SetIterationTime(t);
  }
  state.counters["offers"] = static_cast<double>(offers);
  if (!empty) {
    state.counters["floor_ms"] = floorTime / static_cast<double>(state.iterations()) * 1e3;
    state.counters["ratio"] = allocTime / floorTime;
  }
}

void BM_LargeAndSmallQuota(benchmark::State& s) { quota(s, false); }
void BM_LargeAndSmallQuota_EmptyCycle(benchmark::State& s) { quota(s, true); }

BENCHMARK(BM_LargeAndSmallQuota)->UseManualTime()->Unit(benchmark::kMillisecond)->Iterations(5);
BENCHMARK(BM_LargeAndSmallQuota_EmptyCycle)->UseManualTime()->Unit(benchmark::kMillisecond)->Iterations(5);

}  // namespace
}  // namespace agora::allocator

BENCHMARK_MAIN();
