// Randomized property tests of Resources. The seed is fixed, printed as
//   [   SEED   ] AGORA_TEST_SEED=<n> (<test name>)
// and can be overridden with the environment variable AGORA_TEST_SEED to
// replay a failure.

#include <gtest/gtest.h>

#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <random>
#include <string>

#include "agora/common/resources.hpp"

namespace agora {
namespace {

constexpr uint64_t kDefaultSeed = 20240613;
constexpr int kIterations = 1000;  // Each makes a few Resources: several thousand in all.

uint64_t testSeed() {
  uint64_t seed = kDefaultSeed;
  if (const char* env = std::getenv("AGORA_TEST_SEED")) seed = std::strtoull(env, nullptr, 10);
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::cout << "[   SEED   ] AGORA_TEST_SEED=" << seed << " (" << info->test_suite_name() << "." << info->name()
            << ")" << std::endl;
  return seed;
}

// What kinds of metadata a generated collection may carry.
enum class Shape {
  kCommandLine,  // Unreserved or plain static: the text form round-trips.
  kAny,          // Dynamic and refined reservations, allocation, volumes...
};

class Generator {
 public:
  explicit Generator(uint64_t seed) : rng_(seed) {}

  int uniform(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  bool chance(int percent) { return uniform(1, 100) <= percent; }
  template <typename T>
  const T& pick(const std::vector<T>& v) { return v[static_cast<size_t>(uniform(0, static_cast<int>(v.size()) - 1))]; }

  Resources resources(Shape shape) {
    Resources out;
    int n = uniform(0, 6);
    for (int i = 0; i < n; ++i) out.add(resource(shape));
    return out;
  }

  Resource resource(Shape shape) {
    static const std::vector<std::string> kNames = {"cpus", "mem", "disk", "gpus", "ports", "zones"};
    Resource r;
    r.name = pick(kNames);
    if (r.name == "ports") {
      RangeSet ranges;
      int n = uniform(1, 4);
      for (int i = 0; i < n; ++i) {
        uint64_t begin = static_cast<uint64_t>(uniform(0, 200));
        ranges.add({begin, begin + static_cast<uint64_t>(uniform(0, 20))});
      }
      r.value = ranges;
    } else if (r.name == "zones") {
      static const std::vector<std::string> kItems = {"a", "b", "c", "d", "e", "f-1", "g.2"};
      ItemSet items;
      int n = uniform(1, 4);
      for (int i = 0; i < n; ++i) items.insert(pick(kItems));
      r.value = items;
    } else {
      r.value = Scalar::fromMillis(uniform(1, 100000));
    }
    reservations(r, shape);
    if (shape == Shape::kAny) metadata(r);
    return r;
  }

 private:
  void reservations(Resource& r, Shape shape) {
    static const std::vector<std::vector<std::string>> kChains = {
        {"eng", "eng/db", "eng/db/x"}, {"ops", "ops/a"}, {"eng", "eng/web"}};
    int kind = uniform(0, shape == Shape::kAny ? 3 : 1);
    if (kind == 0) return;  // Unreserved.
    const auto& chain = pick(kChains);
    int depth = kind == 3 ? uniform(2, static_cast<int>(chain.size())) : 1;
    for (int i = 0; i < depth; ++i) {
      Reservation res;
      res.role = chain[static_cast<size_t>(i)];
      bool dynamic = i > 0 || kind == 2 || (kind == 3 && chance(50));
      res.type = dynamic ? Reservation::Type::kDynamic : Reservation::Type::kStatic;
      if (dynamic && chance(50)) res.principal = chance(50) ? "ops" : "dev";
      if (dynamic && chance(20)) res.labels = {{"team", chance(50) ? "db" : ""}};
      r.reservations.push_back(res);
    }
  }

  void metadata(Resource& r) {
    if (chance(20)) r.allocationRole = chance(50) ? "eng" : "eng/db";
    if (r.name == "disk" && r.isReserved() && chance(30)) {
      r.disk = DiskInfo{"vol" + std::to_string(uniform(0, 3)), chance(50) ? "ops" : "", "data", chance(20)};
      r.shared = chance(30);
    } else if (r.name == "disk" && chance(15)) {
      r.disk = DiskInfo{};
      r.disk->source = chance(50) ? DiskInfo::Source::kPath : DiskInfo::Source::kMount;
      r.disk->sourceRoot = "/mnt/d" + std::to_string(uniform(0, 2));
    } else if (!r.isReserved() && chance(10)) {
      r.revocable = true;
    }
  }

  std::mt19937_64 rng_;
};

// Every test draws from one generator seeded by testSeed(); a failure's
// trace names the seed.
class ResourcesPropertyTest : public ::testing::Test {
 protected:
  ResourcesPropertyTest()
      : seed_(testSeed()), trace_(__FILE__, __LINE__, "AGORA_TEST_SEED=" + std::to_string(seed_)), gen(seed_) {}

  uint64_t seed_;
  ::testing::ScopedTrace trace_;
  Generator gen;
};

// The collection invariants: no empty slot, no two mergeable slots, ranges
// sorted, disjoint and never adjacent, no negative scalar.
::testing::AssertionResult wellFormed(const Resources& resources) {
  std::vector<Resource> slots(resources.begin(), resources.end());
  for (size_t i = 0; i < slots.size(); ++i) {
    const Resource& r = slots[i];
    if (r.isEmpty()) return ::testing::AssertionFailure() << "empty slot " << r << " in " << resources;
    if (const auto* s = std::get_if<Scalar>(&r.value); s && s->isNegative()) {
      return ::testing::AssertionFailure() << "negative slot " << r;
    }
    if (const auto* ranges = std::get_if<RangeSet>(&r.value)) {
      const auto& v = ranges->ranges();
      for (size_t k = 0; k < v.size(); ++k) {
        if (v[k].begin > v[k].end) return ::testing::AssertionFailure() << "inverted range in " << r;
        if (k > 0 && v[k].begin <= v[k - 1].end + 1) {
          return ::testing::AssertionFailure() << "ranges not coalesced in " << r;
        }
      }
    }
    for (size_t j = i + 1; j < slots.size(); ++j) {
      if (r.sameSlot(slots[j])) return ::testing::AssertionFailure() << "mergeable slots " << r << " and " << slots[j];
    }
  }
  return ::testing::AssertionSuccess();
}

TEST_F(ResourcesPropertyTest, AdditionAndSubtraction) {
  for (int i = 0; i < kIterations; ++i) {
    Resources a = gen.resources(Shape::kAny);
    Resources b = gen.resources(Shape::kAny);
    Resources sum = a + b;
    ASSERT_TRUE(wellFormed(sum));
    ASSERT_TRUE(sum.contains(a)) << a << " not in " << sum;
    ASSERT_TRUE(sum.contains(b)) << b << " not in " << sum;
    ASSERT_EQ(a + b, b + a);

    Resources difference = a - b;
    ASSERT_TRUE(wellFormed(difference));  // Never negative, never empty slots.
    ASSERT_TRUE(a.contains(difference)) << difference << " not in " << a;

    // With b made disjoint from a, slot by slot, subtraction undoes addition.
    Resources disjoint = b - a;
    ASSERT_EQ((a + disjoint) - disjoint, a) << "a=" << a << " b'=" << disjoint;
    ASSERT_EQ((a + disjoint).quantities(), a.quantities() + disjoint.quantities());
    ASSERT_TRUE(((a + disjoint) - a) == disjoint);
    ASSERT_EQ(a - a, Resources());
  }
}

TEST_F(ResourcesPropertyTest, InvariantsHoldAfterAnySequence) {
  Resources acc;
  for (int i = 0; i < kIterations; ++i) {
    Resources other = gen.resources(Shape::kAny);
    switch (gen.uniform(0, 7)) {
      case 0: case 1: acc += other; break;
      case 2: case 3: acc -= other; break;
      case 4: acc = acc.allocate(gen.chance(50) ? "eng" : "ops"); break;
      case 5: acc = acc.unallocate(); break;
      case 6: {
        Result<Resources> pushed =
            acc.unreserved().nonRevocable().pushReservation({Reservation::Type::kDynamic, "eng", "ops", {}});
        ASSERT_TRUE(pushed.ok()) << pushed.status();
        acc = acc.reserved() + acc.revocable() + *pushed;
        break;
      }
      case 7: {
        Resources popable = acc.filter(
            [](const Resource& r) { return r.isDynamicallyReserved() && !r.isPersistentVolume(); });
        Result<Resources> popped = popable.popReservation();
        ASSERT_TRUE(popped.ok()) << popped.status();
        ASSERT_EQ(popped->scalarQuantities(), popable.scalarQuantities());  // Ranges and sets may merge.
        acc = (acc - popable) + *popped;
        break;
      }
    }
    ASSERT_TRUE(wellFormed(acc)) << "after step " << i;
    if (acc.size() > 40) acc = Resources();  // Keep it small and fast.
  }
}

TEST_F(ResourcesPropertyTest, ViewsPartitionTheCollection) {
  for (int i = 0; i < kIterations; ++i) {
    Resources a = gen.resources(Shape::kAny);
    ASSERT_EQ(a.reserved() + a.unreserved(), a);
    Resources byRole;
    for (const auto& [role, reserved] : a.reservations()) {
      ASSERT_EQ(reserved, a.reservedTo(role));
      byRole += reserved;
    }
    ASSERT_EQ(byRole, a.reserved());
    for (const char* role : {"eng", "eng/db", "eng/db/x/y", "ops", "dev"}) {
      for (const Resource& r : a.allocatableTo(role)) {
        ASSERT_TRUE(!r.isReserved() || r.role() == role || std::string(role).starts_with(std::string(r.role()) + "/"))
            << r << " allocatable to " << role;
      }
    }
    ASSERT_EQ(a.toUnreserved().scalarQuantities(), a.scalarQuantities());
    ASSERT_TRUE(a.quantities().contains(a.toUnreserved().quantities()));
  }
}

TEST_F(ResourcesPropertyTest, TextRoundTrip) {
  for (int i = 0; i < kIterations; ++i) {
    Resources a = gen.resources(Shape::kCommandLine);
    Result<Resources> parsed = Resources::parse(a.toString());
    ASSERT_TRUE(parsed.ok()) << a << ": " << parsed.status();
    ASSERT_EQ(*parsed, a) << a.toString();
  }
}

TEST_F(ResourcesPropertyTest, ProtoAndJsonRoundTrip) {
  for (int i = 0; i < kIterations; ++i) {
    Resources a = gen.resources(Shape::kAny);
    auto protos = a.toProto();
    Result<Resources> back = Resources::fromProto(protos);
    ASSERT_TRUE(back.ok()) << a << ": " << back.status();
    ASSERT_EQ(*back, a);

    // Through protobuf's JSON, as the HTTP API will carry them.
    google::protobuf::RepeatedPtrField<v1::Resource> reparsed;
    std::string array = "[";
    for (const v1::Resource& r : protos) {
      std::string json;
      ASSERT_TRUE(google::protobuf::util::MessageToJsonString(r, &json).ok());
      ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(json, reparsed.Add()).ok()) << json;
      array += (array.size() > 1 ? "," : "") + json;
    }
    array += "]";
    ASSERT_EQ(Resources::fromProto(reparsed).value(), a);

    // And through the --resources JSON parser, for what the command line takes.
    bool commandLine = std::all_of(a.begin(), a.end(), [](const Resource& r) {
      return !r.allocationRole && !r.revocable && !r.isPersistentVolume() &&
             std::none_of(r.reservations.begin(), r.reservations.end(),
                          [](const Reservation& x) { return x.type == Reservation::Type::kDynamic; });
    });
    if (commandLine) {
      Result<Resources> parsed = Resources::parse(array);
      ASSERT_TRUE(parsed.ok()) << array << ": " << parsed.status();
      ASSERT_EQ(*parsed, a) << array;
    }
  }
}

// Random text built from the syntax's own characters: parse never crashes,
// errors are never empty, and whatever parses prints back to itself.
TEST_F(ResourcesPropertyTest, FuzzedTextNeverCrashes) {
  static const std::vector<std::string> kTokens = {
      "cpus", "ports", "s", ":", ";", "(", ")", "[", "]", "{", "}", ",", "-", "1", "0", "42", ".5", "e9",
      "eng", "/", "*", " ", "nan", "inf", "-1", "a", "18446744073709551615", "\x01", "\"", "file://"};
  int parsed = 0;
  for (int i = 0; i < kIterations * 2; ++i) {
    std::string input;
    int n = gen.uniform(1, 16);
    for (int k = 0; k < n; ++k) input += gen.pick(kTokens);
    Result<Resources> r = Resources::parse(input);
    if (!r.ok()) {
      ASSERT_FALSE(r.error().message().empty()) << input;
      continue;
    }
    ++parsed;
    ASSERT_TRUE(wellFormed(*r));
    ASSERT_EQ(Resources::parse(r->toString()).value(), *r) << input;
  }
  std::cout << "[   INFO   ] " << parsed << " of " << kIterations * 2 << " fuzzed inputs parsed" << std::endl;
}

// Valid JSON mutated byte by byte: errors, never crashes.
TEST_F(ResourcesPropertyTest, FuzzedJsonNeverCrashes) {
  const std::string base = R"([{"name":"cpus","type":"SCALAR","scalar":{"value":1.5},"role":"eng"},)"
                           R"({"name":"ports","type":"RANGES","ranges":{"range":[{"begin":1,"end":9}]}},)"
                           R"({"name":"s","type":"SET","set":{"item":["a","b"]}}])";
  const std::string alphabet = "[]{}\",:\\ 0-9.eEaxNTRS";
  for (int i = 0; i < kIterations; ++i) {
    std::string input = base;
    int edits = gen.uniform(1, 4);
    for (int k = 0; k < edits && !input.empty(); ++k) {
      size_t at = static_cast<size_t>(gen.uniform(0, static_cast<int>(input.size()) - 1));
      char c = alphabet[static_cast<size_t>(gen.uniform(0, static_cast<int>(alphabet.size()) - 1))];
      switch (gen.uniform(0, 3)) {
        case 0: input[at] = c; break;
        case 1: input.insert(at, 1, c); break;
        case 2: input.erase(at, 1); break;
        case 3: input.resize(at); break;
      }
    }
    Result<Resources> r = Resources::parse(input);
    if (r.ok()) {
      ASSERT_TRUE(wellFormed(*r)) << input;
    } else {
      ASSERT_FALSE(r.error().message().empty()) << input;
    }
  }
}

}  // namespace
}  // namespace agora
