// proto <-> JSON: the Mesos v1 wire examples of mesos.md §1.4 and §3 parse
// into Agora's types and print back to the same JSON; hostile input gives
// clear errors.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

#include <nlohmann/json.hpp>

#include "agora/common/json.hpp"
#include "agora/v1/agora.pb.h"
#include "agora/v1/master.pb.h"
#include "agora/v1/scheduler.pb.h"

namespace agora {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

// Agora, like Mesos, prints no empty repeated fields; drop them from the
// expected JSON before comparing.
json withoutEmptyArrays(json value) {
  if (value.is_object()) {
    json out = json::object();
    for (auto& [key, element] : value.items()) {
      if (element.is_array() && element.empty()) continue;
      out[key] = withoutEmptyArrays(element);
    }
    return out;
  }
  if (value.is_array()) {
    json out = json::array();
    for (auto& element : value) out.push_back(withoutEmptyArrays(element));
    return out;
  }
  return value;
}

// Parses `text` into a T, prints it back and checks both JSON values are
// equal. Returns the parsed message.
template <typename T>
T expectRoundTrip(const std::string& text) {
  T message;
  Status status = fromJson(text, &message);
  EXPECT_TRUE(status.ok()) << status;
  Result<json> printed = toJsonValue(message);
  EXPECT_TRUE(printed.ok()) << printed.status();
  if (printed.ok()) {
    EXPECT_EQ(*printed, withoutEmptyArrays(json::parse(text)));
  }
  return message;
}

template <typename T>
Status parse(const std::string& text, const JsonParseOptions& options = {}) {
  T message;
  return fromJson(text, &message, options);
}

// ---------------------------------------------------------------------------
// Scheduler API examples (mesos.md §1.4).

TEST(JsonWireExamplesTest, Subscribe) {
  auto call = expectRoundTrip<v1::scheduler::Call>(R"json(
    {"type":"SUBSCRIBE",
     "subscribe":{
       "framework_info":{"user":"alice","name":"demo","roles":["dev"],
                         "checkpoint":true,"failover_timeout":604800,
                         "principal":"demo-principal",
                         "capabilities":[{"type":"MULTI_ROLE"},{"type":"PARTITION_AWARE"},
                                         {"type":"RESERVATION_REFINEMENT"}]},
       "suppressed_roles":[]}})json");
  EXPECT_EQ(call.type(), v1::scheduler::Call::SUBSCRIBE);
  const v1::FrameworkInfo& info = call.subscribe().framework_info();
  EXPECT_EQ(info.user(), "alice");
  EXPECT_EQ(info.roles(0), "dev");
  EXPECT_DOUBLE_EQ(info.failover_timeout(), 604800);
  ASSERT_EQ(info.capabilities_size(), 3);
  EXPECT_EQ(info.capabilities(2).type(), v1::FrameworkInfo::Capability::RESERVATION_REFINEMENT);
}

TEST(JsonWireExamplesTest, Subscribed) {
  auto event = expectRoundTrip<v1::scheduler::Event>(R"json(
    {"type":"SUBSCRIBED","subscribed":{"framework_id":{"value":"m1-0000"},
     "heartbeat_interval_seconds":15.0,
     "master_info":{"id":"m1","ip":16777343,"port":5050,"hostname":"m1","version":"1.12.0"}}})json");
  EXPECT_EQ(event.subscribed().master_info().ip(), 16777343u);
}

TEST(JsonWireExamplesTest, OffersAreNestedAndCarryReservations) {
  auto event = expectRoundTrip<v1::scheduler::Event>(R"json(
    {"type":"OFFERS","offers":{"offers":[{
      "id":{"value":"m1-O7"},
      "framework_id":{"value":"m1-0000"},
      "agent_id":{"value":"m1-S0"},
      "hostname":"agent1",
      "url":{"scheme":"http","address":{"hostname":"agent1","ip":"10.0.0.5","port":5051},"path":"/slave(1)"},
      "allocation_info":{"role":"dev"},
      "resources":[
        {"name":"cpus","type":"SCALAR","scalar":{"value":4},"allocation_info":{"role":"dev"}},
        {"name":"mem","type":"SCALAR","scalar":{"value":7000},"allocation_info":{"role":"dev"}},
        {"name":"ports","type":"RANGES","ranges":{"range":[{"begin":31000,"end":32000}]},
         "allocation_info":{"role":"dev"}},
        {"name":"cpus","type":"SCALAR","scalar":{"value":2},"allocation_info":{"role":"dev"},
         "reservations":[{"type":"STATIC","role":"dev"}]}],
      "attributes":[{"name":"rack","type":"TEXT","text":{"value":"r1"}}],
      "executor_ids":[]}]}})json");
  ASSERT_EQ(event.offers().offers_size(), 1);
  const v1::Offer& offer = event.offers().offers(0);
  ASSERT_EQ(offer.resources_size(), 4);
  EXPECT_EQ(offer.resources(2).ranges().range(0).end(), 32000u);
  ASSERT_EQ(offer.resources(3).reservations_size(), 1);
  EXPECT_EQ(offer.resources(3).reservations(0).type(), v1::Resource::ReservationInfo::STATIC);
  EXPECT_EQ(offer.attributes(0).text().value(), "r1");
}

TEST(JsonWireExamplesTest, AcceptWithLaunchAndLimits) {
  auto call = expectRoundTrip<v1::scheduler::Call>(R"json(
    {"framework_id":{"value":"m1-0000"},"type":"ACCEPT",
     "accept":{"offer_ids":[{"value":"m1-O7"}],
      "operations":[{"type":"LAUNCH","launch":{"task_infos":[{
         "name":"sleeper","task_id":{"value":"t1"},"agent_id":{"value":"m1-S0"},
         "command":{"shell":true,"value":"sleep 30"},
         "resources":[{"name":"cpus","type":"SCALAR","scalar":{"value":1},"allocation_info":{"role":"dev"}},
                      {"name":"mem","type":"SCALAR","scalar":{"value":128},"allocation_info":{"role":"dev"}}],
         "limits":{"cpus":{"value":2},"mem":{"value":256}}}]}}],
      "filters":{"refuse_seconds":5.0}}})json");
  const v1::TaskInfo& task = call.accept().operations(0).launch().task_infos(0);
  EXPECT_EQ(task.command().value(), "sleep 30");
  ASSERT_EQ(task.limits().count("mem"), 1u);
  EXPECT_DOUBLE_EQ(task.limits().at("mem").value(), 256);
  EXPECT_DOUBLE_EQ(call.accept().filters().refuse_seconds(), 5.0);
}

TEST(JsonWireExamplesTest, UpdateCarriesBase64Uuid) {
  auto event = expectRoundTrip<v1::scheduler::Event>(R"json(
    {"type":"UPDATE","update":{"status":{"task_id":{"value":"t1"},"state":"TASK_RUNNING",
      "source":"SOURCE_EXECUTOR","agent_id":{"value":"m1-S0"},"executor_id":{"value":"t1"},
      "timestamp":1700000000.12,"uuid":"q83vEjRWeJASNFZ4kBI0Vg==",
      "container_status":{"container_id":{"value":"c1"},"executor_pid":4242}}}})json");
  const v1::TaskStatus& status = event.update().status();
  EXPECT_EQ(status.state(), v1::TASK_RUNNING);
  EXPECT_EQ(status.uuid(), std::string("\xab\xcd\xef\x12\x34\x56\x78\x90\x12\x34\x56\x78\x90\x12\x34\x56", 16));
  EXPECT_EQ(status.container_status().executor_pid(), 4242u);
}

TEST(JsonWireExamplesTest, AcknowledgeDeclineReviveSuppress) {
  auto ack = expectRoundTrip<v1::scheduler::Call>(R"json(
    {"framework_id":{"value":"m1-0000"},"type":"ACKNOWLEDGE",
     "acknowledge":{"agent_id":{"value":"m1-S0"},"task_id":{"value":"t1"},"uuid":"q83vEjRWeJASNFZ4kBI0Vg=="}})json");
  EXPECT_EQ(ack.acknowledge().uuid().size(), 16u);

  auto decline = expectRoundTrip<v1::scheduler::Call>(
      R"json({"type":"DECLINE","decline":{"offer_ids":[{"value":"m1-O7"}],"filters":{"refuse_seconds":3600}}})json");
  EXPECT_DOUBLE_EQ(decline.decline().filters().refuse_seconds(), 3600);

  auto revive = expectRoundTrip<v1::scheduler::Call>(R"json({"type":"REVIVE","revive":{"roles":["dev"]}})json");
  EXPECT_EQ(revive.revive().roles(0), "dev");

  expectRoundTrip<v1::scheduler::Call>(R"json({"type":"SUPPRESS","suppress":{"roles":["dev"]}})json");
}

TEST(JsonWireExamplesTest, RescindAndError) {
  expectRoundTrip<v1::scheduler::Event>(R"json({"type":"RESCIND","rescind":{"offer_id":{"value":"m1-O7"}}})json");
  auto error = expectRoundTrip<v1::scheduler::Event>(
      R"json({"type":"ERROR","error":{"message":"Framework failed over"}})json");
  EXPECT_EQ(error.error().message(), "Framework failed over");
}

TEST(JsonWireExamplesTest, TaskWithContainerAndCheck) {
  auto task = expectRoundTrip<v1::TaskInfo>(R"json(
    {"name":"web","task_id":{"value":"t2"},"agent_id":{"value":"m1-S0"},
     "command":{"value":"python3 -m http.server 8080"},
     "container":{"type":"MESOS","linux_info":{"share_pid_namespace":false},
                  "volumes":[{"container_path":"data","mode":"RW"}]},
     "check":{"type":"HTTP","http":{"port":8080,"path":"/"}},
     "kill_policy":{"grace_period":{"nanoseconds":3000000000}}})json");
  EXPECT_EQ(task.container().type(), v1::ContainerInfo::MESOS);
  EXPECT_EQ(task.kill_policy().grace_period().nanoseconds(), 3000000000);

  auto status = expectRoundTrip<v1::TaskStatus>(R"json(
    {"task_id":{"value":"t2"},"state":"TASK_RUNNING","reason":"REASON_TASK_CHECK_STATUS_UPDATED",
     "check_status":{"type":"HTTP","http":{"status_code":200}}})json");
  EXPECT_EQ(status.check_status().http().status_code(), 200u);
}

// ---------------------------------------------------------------------------
// Operator API examples (mesos.md §3).

TEST(JsonWireExamplesTest, OperatorReserveResources) {
  auto call = expectRoundTrip<v1::master::Call>(R"json(
    {"type":"RESERVE_RESOURCES","reserve_resources":{"agent_id":{"value":"m1-S0"},
     "source":[{"name":"cpus","type":"SCALAR","scalar":{"value":1}},
               {"name":"mem","type":"SCALAR","scalar":{"value":512}}],
     "resources":[{"name":"cpus","type":"SCALAR","scalar":{"value":1},
                   "reservations":[{"type":"DYNAMIC","role":"eng","principal":"ops"}]},
                  {"name":"mem","type":"SCALAR","scalar":{"value":512},
                   "reservations":[{"type":"DYNAMIC","role":"eng","principal":"ops"}]}]}})json");
  EXPECT_EQ(call.type(), v1::master::Call::RESERVE_RESOURCES);
  EXPECT_EQ(call.reserve_resources().source_size(), 2);
  EXPECT_EQ(call.reserve_resources().resources(1).reservations(0).principal(), "ops");
}

TEST(JsonWireExamplesTest, OperatorUpdateQuota) {
  auto call = expectRoundTrip<v1::master::Call>(R"json(
    {"type":"UPDATE_QUOTA","update_quota":{"force":false,"quota_configs":[
      {"role":"dev","limits":{"cpus":{"value":10},"mem":{"value":2048}}}]}})json");
  EXPECT_EQ(call.type(), v1::master::Call::UPDATE_QUOTA);
  EXPECT_DOUBLE_EQ(call.update_quota().quota_configs(0).limits().at("cpus").value(), 10);
}

// ---------------------------------------------------------------------------
// Encoding rules.

TEST(JsonEncodingTest, SixtyFourBitIntegersPrintAsExactNumbers) {
  v1::Value::Range range;
  range.set_begin(1);
  range.set_end(std::numeric_limits<uint64_t>::max());
  Result<std::string> text = toJson(range);
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_EQ(*text, R"({"begin":1,"end":18446744073709551615})");

  v1::TimeInfo time;
  time.set_nanoseconds(-1700000000123456789);
  text = toJson(time);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*text, R"({"nanoseconds":-1700000000123456789})");

  v1::Value::Range parsed;
  ASSERT_TRUE(fromJson(R"({"begin":1,"end":18446744073709551615})", &parsed).ok());
  EXPECT_EQ(parsed.end(), std::numeric_limits<uint64_t>::max());
}

TEST(JsonEncodingTest, NumbersAlsoParseFromStrings) {
  v1::TimeInfo time;
  ASSERT_TRUE(fromJson(R"({"nanoseconds":"-42"})", &time).ok());
  EXPECT_EQ(time.nanoseconds(), -42);

  v1::Filters filters;
  ASSERT_TRUE(fromJson(R"({"refuse_seconds":"Infinity"})", &filters).ok());
  EXPECT_TRUE(std::isinf(filters.refuse_seconds()));
  Result<std::string> text = toJson(filters);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*text, R"({"refuse_seconds":"Infinity"})");

  ASSERT_TRUE(fromJson(R"({"refuse_seconds":"2.5"})", &filters).ok());
  EXPECT_DOUBLE_EQ(filters.refuse_seconds(), 2.5);
}

TEST(JsonEncodingTest, EnumsBytesAndNull) {
  v1::TaskStatus status;
  status.mutable_task_id()->set_value("t1");
  status.set_state(v1::TASK_GONE_BY_OPERATOR);
  status.set_data(std::string("\0\1\2", 3));
  Result<json> printed = toJsonValue(status);
  ASSERT_TRUE(printed.ok());
  EXPECT_EQ((*printed)["state"], "TASK_GONE_BY_OPERATOR");
  EXPECT_EQ((*printed)["data"], "AAEC");

  v1::TaskStatus parsed;
  ASSERT_TRUE(fromJson(R"({"task_id":{"value":"t1"},"state":"TASK_LOST","message":null})", &parsed).ok());
  EXPECT_FALSE(parsed.has_message());
}

TEST(JsonEncodingTest, ExplicitDefaultsOnlyOnRequest) {
  v1::Resource resource;
  resource.set_name("cpus");
  resource.set_type(v1::Value::SCALAR);
  resource.mutable_scalar()->set_value(1);
  Result<json> plain = toJsonValue(resource);
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE(plain->contains("role"));

  JsonPrintOptions options;
  options.emitExplicitDefaults = true;
  Result<json> withDefaults = toJsonValue(resource, options);
  ASSERT_TRUE(withDefaults.ok());
  EXPECT_EQ((*withDefaults)["role"], "*");
}

TEST(JsonEncodingTest, InvalidUtf8InAStringFieldIsAPrintError) {
  v1::FrameworkInfo info;
  info.set_user("alice");
  info.set_name("bad \xff name");
  Result<std::string> text = toJson(info);
  ASSERT_FALSE(text.ok());
  EXPECT_EQ(text.error().code(), Status::Code::kInvalidArgument);
  EXPECT_THAT(text.error().message(), HasSubstr("'name' is not valid UTF-8"));
}

TEST(JsonEncodingTest, Base64) {
  // RFC 4648 test vectors.
  const std::pair<std::string, std::string> vectors[] = {
      {"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"}, {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, encoded] : vectors) {
    EXPECT_EQ(base64Encode(plain), encoded);
    Result<std::string> decoded = base64Decode(encoded);
    ASSERT_TRUE(decoded.ok()) << encoded;
    EXPECT_EQ(*decoded, plain);
  }
  EXPECT_EQ(*base64Decode("Zm8"), "fo");  // Missing padding is fine.
  EXPECT_FALSE(base64Decode("Zm9v!").ok());
  EXPECT_FALSE(base64Decode("Z").ok());
  EXPECT_FALSE(base64Decode("Zm=8").ok());
}

// ---------------------------------------------------------------------------
// Errors and hostile input.

TEST(JsonErrorsTest, DeepNestingIsRejectedBeforeParsing) {
  Status status = parse<v1::scheduler::Call>(std::string(10000, '[') + std::string(10000, ']'));
  EXPECT_EQ(status.code(), Status::Code::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("nesting deeper than 64 levels at byte offset 64"));

  std::string objects;
  for (int i = 0; i < 10000; ++i) objects += R"({"a":)";
  status = parse<v1::scheduler::Call>(objects + "1" + std::string(10000, '}'));
  EXPECT_THAT(status.message(), HasSubstr("nesting deeper than 64"));

  // Closing brackets first do not buy extra depth.
  status = parse<v1::scheduler::Call>(std::string(100, ']') + std::string(100, '['));
  EXPECT_THAT(status.message(), HasSubstr("nesting deeper than 64"));

  // Brackets inside strings do not count.
  v1::Label label;
  ASSERT_TRUE(fromJson(R"({"key":")" + std::string(1000, '[') + R"("})", &label).ok());
}

TEST(JsonErrorsTest, DepthOfAParsedValueIsLimitedToo) {
  // ContainerID nests through `parent`; 100 levels is too deep.
  json chain = json::object();
  json* cursor = &chain;
  for (int i = 0; i < 100; ++i) cursor = &((*cursor)["parent"] = json::object());
  v1::ContainerID id;
  Status status = fromJsonValue(chain, &id);
  EXPECT_EQ(status.code(), Status::Code::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("nesting deeper than 64"));
}

TEST(JsonErrorsTest, TruncatedInputSaysWhere) {
  Status status = parse<v1::scheduler::Call>(R"({"type":"SUBSCRIBE","subscribe":{"framework_info":{"user")");
  EXPECT_EQ(status.code(), Status::Code::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("Failed to parse agora.v1.scheduler.Call from JSON: Invalid JSON"));
  EXPECT_THAT(status.message(), HasSubstr("line 1, column"));

  // Every prefix of a valid call fails cleanly (and only the whole parses).
  const std::string accept =
      R"({"framework_id":{"value":"f"},"type":"ACCEPT","accept":{"offer_ids":[{"value":"o"}],)"
      R"("filters":{"refuse_seconds":5.0}}})";
  for (size_t n = 0; n < accept.size(); ++n) {
    EXPECT_FALSE(parse<v1::scheduler::Call>(accept.substr(0, n)).ok()) << n;
  }
  EXPECT_TRUE(parse<v1::scheduler::Call>(accept).ok());
}

TEST(JsonErrorsTest, LargeStrings) {
  const std::string big(1 << 20, 'x');

  // A 1 MB value is within the default limits.
  v1::FrameworkInfo info;
  ASSERT_TRUE(fromJson(R"({"user":"u","name":")" + big + R"("})", &info).ok());
  EXPECT_EQ(info.name().size(), big.size());

  // Not within a smaller size limit.
  JsonParseOptions small;
  small.maxBytes = 64 * 1024;
  Status status = parse<v1::FrameworkInfo>(R"({"user":"u","name":")" + big + R"("})", small);
  EXPECT_EQ(status.code(), Status::Code::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("more than the limit of 65536"));

  // A 1 MB unknown key is reported, shortened.
  status = parse<v1::FrameworkInfo>(R"({"user":"u","name":"n",")" + big + R"(":1})");
  EXPECT_THAT(status.message(), HasSubstr("unknown field 'xxxx"));
  EXPECT_LT(status.message().size(), 300u);

  // An unterminated 1 MB string: the parser's message is shortened too.
  status = parse<v1::FrameworkInfo>(R"({"user":")" + big);
  EXPECT_EQ(status.code(), Status::Code::kInvalidArgument);
  EXPECT_LT(status.message().size(), 400u);
}

TEST(JsonErrorsTest, InvalidUtf8) {
  Status status = parse<v1::FrameworkInfo>("{\"user\":\"u\",\"name\":\"\xc3\x28\"}");
  EXPECT_EQ(status.code(), Status::Code::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("UTF-8"));
}

TEST(JsonErrorsTest, WrongTypesNameTheField) {
  Status status = parse<v1::scheduler::Call>(
      R"({"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"u","name":"n","failover_timeout":"soon"}}})");
  EXPECT_THAT(status.message(),
              HasSubstr("at 'subscribe.framework_info.failover_timeout': expected a number, got the string 'soon'"));

  status = parse<v1::FrameworkInfo>(R"({"user":"u","name":"n","checkpoint":"yes"})");
  EXPECT_THAT(status.message(), HasSubstr("at 'checkpoint': expected true or false, got string"));

  status = parse<v1::FrameworkInfo>(R"({"user":"u","name":"n","roles":"dev"})");
  EXPECT_THAT(status.message(), HasSubstr("at 'roles': expected an array, got string"));

  status = parse<v1::scheduler::Call>(
      R"({"type":"ACCEPT","accept":{"operations":[{"launch":{"task_infos":[{"name":7}]}}]}})");
  EXPECT_THAT(status.message(),
              HasSubstr("at 'accept.operations[0].launch.task_infos[0].name': expected a string, got number"));

  status = parse<v1::TaskInfo>(R"({"limits":{"cpus":{"value":[]}}})");
  EXPECT_THAT(status.message(), HasSubstr(R"(at 'limits["cpus"].value': expected a number, got array)"));

  status = parse<v1::scheduler::Call>(R"([1,2])");
  EXPECT_THAT(status.message(), HasSubstr("expected an object, got array"));
}

TEST(JsonErrorsTest, IntegersOutOfRange) {
  Status status = parse<v1::MasterInfo>(R"({"id":"m","ip":1,"port":99999999999})");
  EXPECT_THAT(status.message(), HasSubstr("at 'port': number 99999999999 is out of range for an unsigned 32-bit"));
  status = parse<v1::Value::Range>(R"({"begin":-1,"end":2})");
  EXPECT_THAT(status.message(), HasSubstr("at 'begin': number -1 is out of range"));
  status = parse<v1::Value::Range>(R"({"begin":1.5,"end":2})");
  EXPECT_THAT(status.message(), HasSubstr("expected an integer"));
  status = parse<v1::Value::Range>(R"({"begin":1,"end":1e300})");
  EXPECT_THAT(status.message(), HasSubstr("out of range"));
}

TEST(JsonErrorsTest, UnknownEnumNames) {
  // Required enum: an error naming the enum.
  Status status = parse<v1::Resource>(R"({"name":"cpus","type":"SCALARX"})");
  EXPECT_EQ(status.code(), Status::Code::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("at 'type': unknown value 'SCALARX' for enum agora.v1.Value.Type"));

  // Optional enum: dropped, as Mesos does, so the field reads as unset.
  v1::scheduler::Call call;
  ASSERT_TRUE(fromJson(R"({"type":"FROBNICATE"})", &call).ok());
  EXPECT_FALSE(call.has_type());

  // Repeated enum: the unknown element is dropped.
  v1::HealthCheck::HTTPCheckInfo http;
  ASSERT_TRUE(fromJson(R"({"port":80,"protocol":"IPv9"})", &http).ok());
  EXPECT_FALSE(http.has_protocol());
}

TEST(JsonErrorsTest, MissingRequiredFieldsAreListed) {
  Status status = parse<v1::scheduler::Call>(R"({"type":"SUBSCRIBE","subscribe":{"framework_info":{"name":"n"}}})");
  EXPECT_EQ(status.code(), Status::Code::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("missing required field 'subscribe.framework_info.user'"));

  status = parse<v1::Offer::Operation::Launch>(R"({"task_infos":[{"name":"a"},{}]})");
  EXPECT_THAT(status.message(), HasSubstr("missing required fields 'task_infos[0].task_id'"));
  EXPECT_THAT(status.message(), HasSubstr("'task_infos[1].name'"));
}

TEST(JsonErrorsTest, UnknownFields) {
  // camelCase names (protobuf's own JSON style) are not ours.
  Status status = parse<v1::scheduler::Call>(R"({"type":"SUBSCRIBE","subscribe":{"frameworkInfo":{}}})");
  EXPECT_THAT(status.message(),
              HasSubstr("at 'subscribe': unknown field 'frameworkInfo' in agora.v1.scheduler.Call.Subscribe"));

  JsonParseOptions lenient;
  lenient.ignoreUnknownFields = true;
  v1::Label label;
  EXPECT_TRUE(fromJson(R"({"key":"k","future_field":{"x":[1]}})", &label, lenient).ok());
}

TEST(JsonErrorsTest, OneofMembersAreExclusive) {
  Status status = parse<v1::scheduler::AttributeConstraint::Predicate>(
      R"({"exists":{},"text_equals":{"value":"x"}})");
  EXPECT_THAT(status.message(), HasSubstr("belong to oneof 'predicate'"));
}

TEST(JsonErrorsTest, BadBase64) {
  Status status = parse<v1::scheduler::Call>(
      R"({"acknowledge":{"agent_id":{"value":"a"},"task_id":{"value":"t"},"uuid":"not base64!"}})");
  EXPECT_THAT(status.message(), HasSubstr("at 'acknowledge.uuid': invalid base64"));
}

}  // namespace
}  // namespace agora
