// The protos: numbers that must match Mesos v1, and the daemon envelope's
// binary round trip.

#include <gtest/gtest.h>

#include <string>

#include <google/protobuf/util/message_differencer.h>

#include "agora/internal/messages.pb.h"
#include "agora/internal/state.pb.h"
#include "agora/v1/agora.pb.h"
#include "agora/v1/executor.pb.h"
#include "agora/v1/master.pb.h"
#include "agora/v1/scheduler.pb.h"

namespace agora {
namespace {

using google::protobuf::util::MessageDifferencer;

TEST(ProtoTest, TaskStateNumbersMatchMesos) {
  EXPECT_EQ(v1::TASK_STAGING, 6);
  EXPECT_EQ(v1::TASK_STARTING, 0);
  EXPECT_EQ(v1::TASK_RUNNING, 1);
  EXPECT_EQ(v1::TASK_KILLING, 8);
  EXPECT_EQ(v1::TASK_FINISHED, 2);
  EXPECT_EQ(v1::TASK_FAILED, 3);
  EXPECT_EQ(v1::TASK_KILLED, 4);
  EXPECT_EQ(v1::TASK_ERROR, 7);
  EXPECT_EQ(v1::TASK_LOST, 5);
  EXPECT_EQ(v1::TASK_DROPPED, 9);
  EXPECT_EQ(v1::TASK_UNREACHABLE, 10);
  EXPECT_EQ(v1::TASK_GONE, 11);
  EXPECT_EQ(v1::TASK_GONE_BY_OPERATOR, 12);
  EXPECT_EQ(v1::TASK_UNKNOWN, 13);
}

TEST(ProtoTest, SelectedNumbersMatchMesos) {
  EXPECT_EQ(v1::TaskStatus::REASON_CONTAINER_LIMITATION_MEMORY, 8);
  EXPECT_EQ(v1::TaskStatus::REASON_AGENT_REMOVED_BY_OPERATOR, 31);
  EXPECT_EQ(v1::TaskStatus::REASON_MAX_COMPLETION_TIME_REACHED, 33);
  EXPECT_EQ(v1::TaskStatus::kUuidFieldNumber, 11);
  EXPECT_EQ(v1::TaskInfo::kLimitsFieldNumber, 15);
  EXPECT_EQ(v1::Task::kLimitsFieldNumber, 17);
  EXPECT_EQ(v1::FrameworkInfo::kOfferFiltersFieldNumber, 13);
  EXPECT_EQ(v1::Attribute::kSetFieldNumber, 6);
  EXPECT_EQ(v1::Resource::DiskInfo::Source::kIdFieldNumber, 4);
  EXPECT_EQ(v1::Offer::Operation::LAUNCH_GROUP, 6);
  EXPECT_EQ(v1::scheduler::Call::UPDATE_FRAMEWORK, 17);
  EXPECT_EQ(v1::scheduler::Call::kUpdateFrameworkFieldNumber, 19);
  EXPECT_EQ(v1::scheduler::Call::kReviveFieldNumber, 15);
  EXPECT_EQ(v1::scheduler::Event::UPDATE_OPERATION_STATUS, 11);
  EXPECT_EQ(v1::executor::Event::LAUNCH_GROUP, 8);
  EXPECT_EQ(v1::master::Call::UPDATE_QUOTA, 36);
  EXPECT_EQ(v1::master::Call::kUpdateQuotaFieldNumber, 20);
  EXPECT_EQ(v1::master::Call::MARK_AGENT_GONE, 32);
  EXPECT_EQ(v1::master::Response::GET_QUOTA, 18);
}

TEST(ProtoTest, FieldDefaultsMatchMesos) {
  EXPECT_DOUBLE_EQ(v1::Filters().refuse_seconds(), 5.0);
  EXPECT_TRUE(v1::CommandInfo().shell());
  // Resource.role is deprecated (the reservations stack replaces it).
  EXPECT_EQ(v1::Resource::descriptor()->FindFieldByName("role")->default_value_string(), "*");
  EXPECT_EQ(v1::AgentInfo().port(), 5051);
  EXPECT_EQ(v1::MasterInfo().port(), 5050u);
}

internal::Envelope statusUpdateEnvelope() {
  internal::Envelope envelope;
  envelope.set_protocol_version(internal::PROTOCOL_VERSION_CURRENT);
  internal::StatusUpdate* update = envelope.mutable_status_update();
  update->mutable_framework_id()->set_value("m1-0000");
  update->mutable_executor_id()->set_value("t1");
  update->mutable_agent_id()->set_value("m1-S0");
  update->set_timestamp(1700000000.5);
  update->set_uuid(std::string("\x00\x01\xfe\xff", 4));
  update->set_latest_state(v1::TASK_FINISHED);
  v1::TaskStatus* status = update->mutable_status();
  status->mutable_task_id()->set_value("t1");
  status->set_state(v1::TASK_RUNNING);
  status->set_source(v1::TaskStatus::SOURCE_EXECUTOR);
  status->set_uuid(update->uuid());
  return envelope;
}

TEST(ProtoTest, EnvelopeRoundTripsThroughBinary) {
  const internal::Envelope original = statusUpdateEnvelope();
  ASSERT_TRUE(original.IsInitialized());
  std::string wire;
  ASSERT_TRUE(original.SerializeToString(&wire));

  internal::Envelope parsed;
  ASSERT_TRUE(parsed.ParseFromString(wire));
  EXPECT_TRUE(MessageDifferencer::Equals(original, parsed));
  EXPECT_EQ(parsed.message_case(), internal::Envelope::kStatusUpdate);
  EXPECT_EQ(parsed.protocol_version(), 1u);
}

TEST(ProtoTest, EnvelopeCarriesSchedulerAndExecutorApisAsIs) {
  internal::Envelope envelope;
  envelope.set_protocol_version(internal::PROTOCOL_VERSION_CURRENT);
  v1::scheduler::Call* call = envelope.mutable_scheduler_call();
  call->set_type(v1::scheduler::Call::SUBSCRIBE);
  call->mutable_subscribe()->mutable_framework_info()->set_user("alice");
  call->mutable_subscribe()->mutable_framework_info()->set_name("demo");

  std::string wire = envelope.SerializeAsString();
  internal::Envelope parsed;
  ASSERT_TRUE(parsed.ParseFromString(wire));
  EXPECT_TRUE(MessageDifferencer::Equals(envelope, parsed));

  // Setting another member of the oneof replaces the first.
  parsed.mutable_executor_event()->set_type(v1::executor::Event::SHUTDOWN);
  EXPECT_FALSE(parsed.has_scheduler_call());
  EXPECT_EQ(parsed.message_case(), internal::Envelope::kExecutorEvent);
}

TEST(ProtoTest, EnvelopeWithoutRequiredFieldsDoesNotParse) {
  internal::Envelope envelope = statusUpdateEnvelope();
  envelope.mutable_status_update()->clear_framework_id();
  std::string wire = envelope.SerializePartialAsString();
  internal::Envelope parsed;
  EXPECT_FALSE(parsed.ParseFromString(wire));

  EXPECT_FALSE(parsed.ParseFromString("\xff\xff\xff garbage"));
}

TEST(ProtoTest, CheckpointRecordsRoundTrip) {
  internal::TaskCheckpoint checkpoint;
  checkpoint.mutable_framework_id()->set_value("m1-0000");
  checkpoint.mutable_executor_id()->set_value("t1");
  checkpoint.mutable_container_id()->set_value("c1");
  v1::Task* task = checkpoint.mutable_task();
  task->set_name("sleeper");
  task->mutable_task_id()->set_value("t1");
  task->mutable_framework_id()->set_value("m1-0000");
  task->mutable_agent_id()->set_value("m1-S0");
  task->set_state(v1::TASK_RUNNING);
  *checkpoint.add_updates() = statusUpdateEnvelope().status_update();
  checkpoint.add_acknowledged_uuids(checkpoint.updates(0).uuid());

  internal::TaskCheckpoint parsed;
  ASSERT_TRUE(parsed.ParseFromString(checkpoint.SerializeAsString()));
  EXPECT_TRUE(MessageDifferencer::Equals(checkpoint, parsed));
}

}  // namespace
}  // namespace agora
