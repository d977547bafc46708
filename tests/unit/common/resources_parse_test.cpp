// Parsing and validation of resources: the --resources text and JSON forms,
// file://, wire resources, and hostile input. Every error test checks that
// the message names the offending part of the input.

#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "agora/common/resources.hpp"

namespace agora {
namespace {

// The error message of parsing `input`; fails the test if it parsed.
std::string parseError(std::string_view input, std::string_view role = "*") {
  Result<Resources> r = Resources::parse(input, role);
  EXPECT_FALSE(r.ok()) << "parsed: " << r.valueOr(Resources());
  return r.ok() ? "" : r.error().message();
}

#define EXPECT_CONTAINS(haystack, needle)                                       \
  do {                                                                         \
    std::string h_ = (haystack);                                               \
    EXPECT_NE(h_.find(needle), std::string::npos) << "'" << needle << "' not in: " << h_; \
  } while (false)

// --- Text form ------------------------------------------------------------------------------

TEST(ResourcesParseTest, NegativeNanInfinite) {
  EXPECT_EQ(parseError("cpus:-1"), "Invalid resource 'cpus:-1': scalar must not be negative");
  EXPECT_EQ(parseError("mem:1;cpus:nan"), "Invalid resource 'cpus:nan': scalar value is NaN");
  EXPECT_EQ(parseError("cpus:inf"), "Invalid resource 'cpus:inf': scalar value is infinite");
  EXPECT_EQ(parseError("cpus:-inf"), "Invalid resource 'cpus:-inf': scalar value is infinite");
  EXPECT_EQ(parseError("cpus:1e400"), "Invalid resource 'cpus:1e400': scalar '1e400' is out of range");
  EXPECT_CONTAINS(parseError("cpus:1e13"), "Invalid resource 'cpus:1e13': scalar value");
  EXPECT_EQ(parseError("cpus:abc"), "Invalid resource 'cpus:abc': 'abc' is not a number");
  EXPECT_EQ(parseError("cpus:4x"), "Invalid resource 'cpus:4x': '4x' is not a number");
  EXPECT_EQ(parseError("cpus:"), "Invalid resource 'cpus:': missing value after ':'");
}

TEST(ResourcesParseTest, BadRanges) {
  EXPECT_EQ(parseError("ports:[5-1]"), "Invalid resource 'ports:[5-1]': range [5-1] is inverted (begin > end)");
  EXPECT_EQ(parseError("ports:[1-5,3-7]"), "Invalid resource 'ports:[1-5,3-7]': ranges [1-5] and [3-7] overlap");
  EXPECT_EQ(parseError("ports:[1-100,20-30,200-300]"),
            "Invalid resource 'ports:[1-100,20-30,200-300]': ranges [1-100] and [20-30] overlap");
  EXPECT_EQ(parseError("ports:[1-100,50-50,40-45]"),
            "Invalid resource 'ports:[1-100,50-50,40-45]': ranges [1-100] and [40-45] overlap");
  EXPECT_EQ(parseError("ports:[a-b]"), "Invalid resource 'ports:[a-b]': range 'a-b': 'a' is not a non-negative integer");
  EXPECT_EQ(parseError("ports:[1-b]"), "Invalid resource 'ports:[1-b]': range '1-b': 'b' is not a non-negative integer");
  EXPECT_EQ(parseError("ports:[-1-5]"), "Invalid resource 'ports:[-1-5]': range '-1-5': '' is not a non-negative integer");
  EXPECT_EQ(parseError("ports:[1-2"), "Invalid resource 'ports:[1-2': ranges must end with ']'");
  EXPECT_EQ(parseError("ports:[1-2,,3-4]"), "Invalid resource 'ports:[1-2,,3-4]': empty range in '[1-2,,3-4]'");
  EXPECT_CONTAINS(parseError("ports:[1-99999999999999999999999]"), "'99999999999999999999999' is not a non-negative");
}

TEST(ResourcesParseTest, RangesAcceptSingleValuesAndAdjacency) {
  Result<Resources> r = Resources::parse("ports:[5, 7-8, 9-10]");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->toString(), "ports:[5-5,7-10]");
}

TEST(ResourcesParseTest, BadSets) {
  EXPECT_EQ(parseError("disks:{a,b,a}"), "Invalid resource 'disks:{a,b,a}': set item 'a' appears twice");
  EXPECT_EQ(parseError("disks:{a,,b}"), "Invalid resource 'disks:{a,,b}': set item must not be empty");
  EXPECT_EQ(parseError("disks:{a,b"), "Invalid resource 'disks:{a,b': sets must end with '}'");
  EXPECT_EQ(parseError("disks:{a b}"), "Invalid resource 'disks:{a b}': set item 'a b' contains whitespace or a control character");
}

TEST(ResourcesParseTest, BadNames) {
  EXPECT_EQ(parseError(":1"), "Invalid resource ':1': name must not be empty");
  EXPECT_EQ(parseError("(eng):1"), "Invalid resource '(eng):1': name must not be empty");
  EXPECT_EQ(parseError("cpus"), "Invalid resource 'cpus': expected NAME:VALUE or NAME(ROLE):VALUE");
  EXPECT_EQ(parseError("cpus 2:1"), "Invalid resource 'cpus 2:1': name 'cpus 2' contains whitespace or a control character");
  EXPECT_EQ(parseError("c]pus:1"), "Invalid resource 'c]pus:1': name 'c]pus' contains ']'");
  EXPECT_EQ(parseError(R"( {"name":"cpus"})"),
            R"(Invalid resources '{"name":"cpus"}': expected a JSON array of resources, not an object)");
}

TEST(ResourcesParseTest, InvalidRoles) {
  EXPECT_EQ(parseError("cpus(-x):1"), "Invalid resource 'cpus(-x):1': the reservation: Invalid role '-x': component '-x' starts with '-'");
  EXPECT_EQ(parseError("cpus(a//b):1"), "Invalid resource 'cpus(a//b):1': the reservation: Invalid role 'a//b': contains '//'");
  EXPECT_EQ(parseError("cpus():1"), "Invalid resource 'cpus():1': the reservation has no role");
  EXPECT_EQ(parseError("cpus(eng:1"), "Invalid resource 'cpus(eng:1': missing ')' after the role");
  EXPECT_EQ(parseError("cpus(eng)1"), "Invalid resource 'cpus(eng)1': expected ':' after '(ROLE)'");
  EXPECT_EQ(parseError("cpus:1", "a//b"), "Invalid default role: Invalid role 'a//b': contains '//'");
}

TEST(ResourcesParseTest, ExplicitStarIsUnreservedDespiteDefaultRole) {
  Result<Resources> r = Resources::parse("cpus(*):1;mem:2", "eng");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->toString(), "cpus:1;mem(eng):2");
}

TEST(ResourcesParseTest, OneTypePerName) {
  EXPECT_EQ(parseError("ports:[1-2];cpus:1;ports:3"),
            "Invalid resources: 'ports' is RANGES in 'ports:[1-2]' but SCALAR in 'ports:3'");
  EXPECT_EQ(parseError(R"([{"name":"a","type":"SET","set":{"item":["x"]}},{"name":"a","type":"SCALAR","scalar":{"value":1}}])"),
            "Invalid resources: 'a' is SET in #1 'a' but SCALAR in #2 'a'");
}

TEST(ResourcesParseTest, EmptyInputIsEmpty) {
  EXPECT_TRUE(Resources::parse("").value().empty());
  EXPECT_TRUE(Resources::parse(" ; ;").value().empty());
  EXPECT_TRUE(Resources::parse("[ ]").value().empty());
}

// --- JSON form --------------------------------------------------------------------------------

TEST(ResourcesParseTest, JsonFormsOfReservations) {
  // Pre-refinement static, post-refinement static stack, camelCase names.
  Result<Resources> r = Resources::parse(R"([
      {"name":"cpus","type":"SCALAR","scalar":{"value":1},"role":"eng"},
      {"name":"cpus","type":"SCALAR","scalar":{"value":2},"reservations":[{"type":"STATIC","role":"eng"}]},
      {"name":"mem","type":"SCALAR","scalar":{"value":3.5}}])");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->toString(), "cpus(eng):3;mem:3.5");
}

TEST(ResourcesParseTest, JsonErrorsNameTheItem) {
  EXPECT_CONTAINS(parseError(R"([{"name":"cpus","type":"FOO","scalar":{"value":1}}])"), "FOO");
  EXPECT_CONTAINS(parseError(R"([{"name":"cpus","type":"FOO","scalar":{"value":1}}])"), "Invalid resource #1 in JSON");
  EXPECT_EQ(parseError(R"([{"name":"cpus","type":"TEXT","scalar":{"value":1}}])"),
            "Invalid resource #1 'cpus': type TEXT is for attributes, not resources");
  EXPECT_EQ(parseError(R"([{"name":"cpus","type":"SCALAR","scalar":{"value":"NaN"}}])"),
            "Invalid resource #1 'cpus': scalar value is NaN");
  EXPECT_EQ(parseError(R"([{"name":"cpus","type":"SCALAR","scalar":{"value":-2}}])"),
            "Invalid resource #1 'cpus': scalar must not be negative");
  EXPECT_EQ(parseError(R"([{"name":"mem","type":"SCALAR","scalar":{"value":1}}, {"name":"cpus","scalar":{"value":1}}])"),
            "Invalid resource #2 in JSON: missing field type");
  EXPECT_EQ(parseError(R"([{"name":"cpus","type":"SCALAR","ranges":{"range":[]}}])"),
            "Invalid resource #1 'cpus': type SCALAR needs a 'scalar' value and no other");
  EXPECT_EQ(parseError(R"([{"name":"p","type":"RANGES","ranges":{"range":[{"begin":9,"end":1}]}}])"),
            "Invalid resource #1 'p': range [9-1] is inverted (begin > end)");
  EXPECT_EQ(parseError(R"([{"name":"cpus","type":"SCALAR","scalar":{"value":1},"colour":"red"}])"),
            "Invalid resource #1 in JSON: colour: Cannot find field");
  EXPECT_EQ(parseError(R"([{"name":"cpus","type":"SCALAR","scalar":{"value":1e400}}])"),
            "Invalid resource #1 in JSON: Number exceeds the range of double");
  EXPECT_EQ(parseError(R"([{"name":"cpus","type":"SCALAR","scalar":{"value":1},
                          "reservations":[{"type":"STATIC","role":"eng","labels":{"labels":[{"value":"x"}]}}]}])"),
            "Invalid resource #1 in JSON: (reservations[0].labels.labels[0]): missing field key");
  EXPECT_EQ(parseError(R"([1])"), "Invalid resource #1 in JSON: expected a JSON object");
  EXPECT_EQ(parseError(R"([{"name":"cpus","type":"SCALAR","scalar":{"value":1}},])"),
            "Invalid resource #2 in JSON: expected a JSON object");
  EXPECT_EQ(parseError(R"([] x)"), "unexpected 'x' at byte 3 outside the JSON array");
  EXPECT_EQ(parseError(R"([{"name":"cpus")"), "the JSON array is not terminated");
  EXPECT_EQ(parseError(R"([{"name":"cpus]}])"), "the JSON array is not terminated");
  EXPECT_CONTAINS(parseError(R"([{"name":"cpus",}])"), "Invalid resource #1 in JSON");
}

TEST(ResourcesParseTest, CommandLineRules) {
  EXPECT_EQ(parseError(R"([{"name":"cpus","type":"SCALAR","scalar":{"value":1},
                          "reservations":[{"type":"DYNAMIC","role":"eng","principal":"ops"}]}])"),
            "Invalid resource #1 'cpus': dynamic reservations are not allowed in --resources (for role 'eng'); "
            "make them with RESERVE");
  EXPECT_EQ(parseError(R"([{"name":"cpus","type":"SCALAR","scalar":{"value":1},"role":"eng","reservation":{"principal":"ops"}}])"),
            "Invalid resource #1 'cpus': dynamic reservations are not allowed in --resources (for role 'eng'); "
            "make them with RESERVE");
  EXPECT_EQ(parseError(R"([{"name":"cpus","type":"SCALAR","scalar":{"value":1},"revocable":{}}])"),
            "Invalid resource #1 'cpus': revocable resources are not allowed in --resources");
  EXPECT_EQ(parseError(R"([{"name":"disk","type":"SCALAR","scalar":{"value":1},"role":"eng",
                          "disk":{"persistence":{"id":"v1"},"volume":{"container_path":"data","mode":"RW"}}}])"),
            "Invalid resource #1 'disk': persistent volumes are not allowed in --resources");
  EXPECT_EQ(parseError(R"([{"name":"cpus","type":"SCALAR","scalar":{"value":1},"allocation_info":{"role":"a"}}])"),
            "Invalid resource #1 'cpus': allocation_info is not allowed in --resources");
  EXPECT_EQ(parseError(R"([{"name":"cpus","type":"SCALAR","scalar":{"value":1},"disk":{}}])"),
            "Invalid resource #1 'cpus': disk info is only allowed on 'disk' resources");
}

TEST(ResourcesParseTest, MountAndPathDisks) {
  Result<Resources> r = Resources::parse(R"([
      {"name":"disk","type":"SCALAR","scalar":{"value":100},"disk":{"source":{"type":"MOUNT","mount":{"root":"/mnt/a"}}}},
      {"name":"disk","type":"SCALAR","scalar":{"value":50},"disk":{"source":{"type":"PATH","path":{"root":"/p"}}}},
      {"name":"disk","type":"SCALAR","scalar":{"value":50},"disk":{"source":{"type":"PATH","path":{"root":"/p"}}}}])");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->toString(), "disk{mount:/mnt/a}:100;disk{path:/p}:100");
  EXPECT_TRUE(r->begin()->isAtomic());
  EXPECT_CONTAINS(parseError(R"([{"name":"disk","type":"SCALAR","scalar":{"value":1},"disk":{"source":{"type":"BLOCK"}}}])"),
                  "disk source type BLOCK is not supported");
}

// --- Hostile input ------------------------------------------------------------------------------

TEST(ResourcesParseTest, DeepJsonIsRejectedBeforeParsing) {
  std::string deep(10000, '[');
  deep += std::string(10000, ']');
  EXPECT_EQ(parseError(deep), "JSON is nested more than 64 levels deep at byte 64");
  std::string deepObject = R"([{"name":"cpus","type":"SCALAR","scalar":{"value":1},"x":)" + std::string(10000, '{');
  EXPECT_CONTAINS(parseError(deepObject), "JSON is nested more than 64 levels deep");
  // Brackets inside strings do not count.
  std::string quotedBrackets = R"([{"name":")" + std::string(100, '[') + R"(","type":"SCALAR","scalar":{"value":1}}])";
  EXPECT_CONTAINS(parseError(quotedBrackets), "contains '['");
}

TEST(ResourcesParseTest, HugeNamesAndRoles) {
  std::string huge(1 << 20, 'a');
  EXPECT_CONTAINS(parseError(huge + ":1"), "name 'aaaa");
  EXPECT_CONTAINS(parseError(huge + ":1"), "is 1048576 bytes long, more than the 255 allowed");
  EXPECT_CONTAINS(parseError("cpus(" + huge + "):1"), "Invalid role 'aaaa");
  EXPECT_CONTAINS(parseError("cpus(" + huge + "):1"), "longer than 1024 bytes");
  EXPECT_CONTAINS(parseError(R"([{"name":")" + huge + R"(","type":"SCALAR","scalar":{"value":1}}])"),
                  "is 1048576 bytes long");
  EXPECT_CONTAINS(parseError(R"([{"name":"cpus","role":")" + huge + R"(","type":"SCALAR","scalar":{"value":1}}])"),
                  "longer than 1024 bytes");
  // Messages stay short however long the input.
  EXPECT_LT(parseError(huge + ":1").size(), 400u);
  EXPECT_EQ(parseError(std::string(5 << 20, ' ')), "Invalid resources: 5242880 bytes, more than the 4194304 allowed");
}

TEST(ResourcesParseTest, BinaryGarbageIsQuoted) {
  std::string garbage("cp\x01us:1", 7);
  EXPECT_EQ(parseError(garbage), "Invalid resource 'cp\\x01us:1': name 'cp\\x01us' contains whitespace or a control character");
}

// --- file:// --------------------------------------------------------------------------------------

class ResourcesFileTest : public ::testing::Test {
 protected:
  std::string write(const std::string& content) {
    char path[] = "/tmp/agora-resources-XXXXXX";
    int fd = ::mkstemp(path);
    EXPECT_GE(fd, 0);
    ::close(fd);
    std::ofstream(path) << content;
    paths_.push_back(path);
    return path;
  }
  ~ResourcesFileTest() override {
    for (const auto& p : paths_) std::remove(p.c_str());
  }
  std::vector<std::string> paths_;
};

TEST_F(ResourcesFileTest, ReadsJsonAndText) {
  std::string json = write(R"([{"name":"cpus","type":"SCALAR","scalar":{"value":2}}])");
  EXPECT_EQ(Resources::parse("file://" + json, "eng").value().toString(), "cpus(eng):2");
  std::string text = write("cpus:1;\nmem:64\n");
  EXPECT_EQ(Resources::parse("file://" + text).value().toString(), "cpus:1;mem:64");
}

TEST_F(ResourcesFileTest, Errors) {
  EXPECT_EQ(parseError("file:///nonexistent"), "Failed to read resources file '/nonexistent': No such file or directory");
  EXPECT_EQ(parseError("file:///tmp"), "Failed to read resources file '/tmp': Is a directory");
  std::string bad = write("cpus:-1");
  EXPECT_EQ(parseError("file://" + bad), "In resources file '" + bad + "': Invalid resource 'cpus:-1': scalar must not be negative");
  std::string chained = write("file://" + bad);
  EXPECT_EQ(parseError("file://" + chained),
            "Invalid resources file '" + chained + "': it refers to another file, which is not followed");
}

// --- Wire resources -------------------------------------------------------------------------------

v1::Resource scalarProto(const std::string& name, double value) {
  v1::Resource r;
  r.set_name(name);
  r.set_type(v1::Value::SCALAR);
  r.mutable_scalar()->set_value(value);
  return r;
}

void addReservation(v1::Resource* r, v1::Resource::ReservationInfo::Type type, const std::string& role) {
  auto* info = r->add_reservations();
  info->set_type(type);
  info->set_role(role);
}

TEST(ResourcesProtoTest, RefinementRules) {
  v1::Resource r = scalarProto("cpus", 1);
  addReservation(&r, v1::Resource::ReservationInfo::STATIC, "eng");
  addReservation(&r, v1::Resource::ReservationInfo::DYNAMIC, "eng/db");
  EXPECT_TRUE(validateResource(r).ok());
  addReservation(&r, v1::Resource::ReservationInfo::DYNAMIC, "ops");
  EXPECT_EQ(validateResource(r).message(),
            "Invalid resource 'cpus': reservation 3 (role 'ops') does not refine 'eng/db': it is not a sub-role of it");
  r.mutable_reservations(2)->set_role("eng/db");
  EXPECT_EQ(validateResource(r).message(),
            "Invalid resource 'cpus': reservation 3 (role 'eng/db') does not refine 'eng/db': it is not a sub-role of it");
  r.mutable_reservations(2)->set_role("eng/db/x");
  r.mutable_reservations(2)->set_type(v1::Resource::ReservationInfo::STATIC);
  EXPECT_EQ(validateResource(r).message(),
            "Invalid resource 'cpus': reservation 3 (role 'eng/db/x') is STATIC; only the first reservation may be static");
  r.mutable_reservations(2)->clear_type();
  EXPECT_EQ(validateResource(r).message(),
            "Invalid resource 'cpus': reservation 3 (role 'eng/db/x') has no type (STATIC or DYNAMIC)");
  r.mutable_reservations(2)->set_role("*");
  EXPECT_EQ(validateResource(r).message(), "Invalid resource 'cpus': reservation 3 is for role '*', which means unreserved");
}

// The deprecated pre-refinement `role` field is what this test is about.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
TEST(ResourcesProtoTest, PreRefinementFormat) {
  v1::Resource r = scalarProto("cpus", 2);
  r.set_role("eng");
  r.mutable_reservation()->set_principal("ops");
  Result<Resources> converted = Resources::fromProto(r);
  ASSERT_TRUE(converted.ok()) << converted.status();
  EXPECT_EQ(converted->toString(), "cpus(eng,dynamic:ops):2");
  // Agora answers in the reservations stack format.
  v1::Resource back = *converted->toProto().begin();
  EXPECT_FALSE(back.has_role());
  ASSERT_EQ(back.reservations_size(), 1);
  EXPECT_EQ(back.reservations(0).type(), v1::Resource::ReservationInfo::DYNAMIC);
  EXPECT_EQ(back.reservations(0).principal(), "ops");

  addReservation(&r, v1::Resource::ReservationInfo::DYNAMIC, "eng");
  EXPECT_EQ(validateResource(r).message(),
            "Invalid resource 'cpus': 'reservations' cannot be combined with the pre-refinement 'role' or 'reservation'");
  v1::Resource star = scalarProto("cpus", 1);
  star.mutable_reservation();
  EXPECT_EQ(validateResource(star).message(), "Invalid resource 'cpus': a 'reservation' needs a role other than '*'");
}
#pragma GCC diagnostic pop

TEST(ResourcesProtoTest, OtherRules) {
  v1::Resource shared = scalarProto("cpus", 1);
  shared.mutable_shared();
  EXPECT_EQ(validateResource(shared).message(), "Invalid resource 'cpus': only persistent volumes may be shared");
  v1::Resource provider = scalarProto("cpus", 1);
  provider.mutable_provider_id()->set_value("p");
  EXPECT_EQ(validateResource(provider).message(), "Invalid resource 'cpus': resource providers are not supported");
  v1::Resource allocated = scalarProto("cpus", 1);
  allocated.mutable_allocation_info();
  EXPECT_EQ(validateResource(allocated).message(), "Invalid resource 'cpus': allocation_info has no role");
  v1::Resource volume = scalarProto("disk", 1);
  volume.mutable_disk()->mutable_persistence()->set_id("a/b");
  EXPECT_EQ(validateResource(volume).message(), "Invalid resource 'disk': Invalid persistence ID 'a/b': contains '/'");
  google::protobuf::RepeatedPtrField<v1::Resource> many;
  *many.Add() = scalarProto("cpus", 1);
  *many.Add() = scalarProto("mem", -1);
  EXPECT_EQ(Resources::fromProto(many).error().message(), "Invalid resource #2 'mem': scalar must not be negative");
}

}  // namespace
}  // namespace agora
