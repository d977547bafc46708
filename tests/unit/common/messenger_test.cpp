#include <gtest/gtest.h>

#include <random>
#include <string>

#include "agora/common/messenger.hpp"

namespace agora {
namespace {

internal::Envelope pingEnvelope() {
  internal::Envelope envelope;
  envelope.mutable_ping();
  return envelope;
}

TEST(EnvelopeCodecTest, RoundTripSetsVersion) {
  internal::Envelope envelope;
  envelope.mutable_status_update_acknowledgement()->mutable_agent_id()->set_value("a1");
  envelope.mutable_status_update_acknowledgement()->mutable_framework_id()->set_value("f1");
  envelope.mutable_status_update_acknowledgement()->mutable_task_id()->set_value("t1");
  envelope.mutable_status_update_acknowledgement()->set_uuid("0123456789abcdef");
  Result<internal::Envelope> decoded = decodeEnvelope(encodeEnvelope(envelope));
  ASSERT_TRUE(decoded.ok()) << decoded.error();
  EXPECT_EQ(decoded->protocol_version(), internal::PROTOCOL_VERSION_CURRENT);
  EXPECT_EQ(decoded->status_update_acknowledgement().task_id().value(), "t1");
  EXPECT_EQ(envelopeType(*decoded), "status_update_acknowledgement");
}

TEST(EnvelopeCodecTest, TypeNamesIncludeCallAndEventTypes) {
  internal::Envelope call;
  call.mutable_scheduler_call()->set_type(v1::scheduler::Call::ACCEPT);
  EXPECT_EQ(envelopeType(call), "scheduler_call.ACCEPT");
  internal::Envelope event;
  event.mutable_scheduler_event()->set_type(v1::scheduler::Event::OFFERS);
  EXPECT_EQ(envelopeType(event), "scheduler_event.OFFERS");
  EXPECT_EQ(envelopeType(internal::Envelope()), "none");
}

TEST(EnvelopeCodecTest, OversizedRejectedBeforeParsing) {
  std::string bytes(2048, 'x');
  Result<internal::Envelope> decoded = decodeEnvelope(bytes, 1024);
  ASSERT_FALSE(decoded.ok());
  EXPECT_NE(decoded.error().message().find("exceeds the limit of 1024 bytes"), std::string::npos);
}

TEST(EnvelopeCodecTest, WrongVersionRejected) {
  internal::Envelope envelope = pingEnvelope();
  envelope.set_protocol_version(99);
  Result<internal::Envelope> decoded = decodeEnvelope(envelope.SerializeAsString());
  ASSERT_FALSE(decoded.ok());
  EXPECT_NE(decoded.error().message().find("unsupported protocol version 99"), std::string::npos);
}

TEST(EnvelopeCodecTest, EmptyAndTruncatedRejected) {
  internal::Envelope empty;
  empty.set_protocol_version(internal::PROTOCOL_VERSION_CURRENT);
  EXPECT_NE(decodeEnvelope(empty.SerializeAsString()).error().message().find("no message"), std::string::npos);
  EXPECT_NE(decodeEnvelope("").error().message().find("missing required fields"), std::string::npos);

  internal::Envelope partial;
  partial.mutable_run_task()->mutable_task()->set_name(std::string(100, 'n'));
  Result<internal::Envelope> missing = decodeEnvelope(encodeEnvelope(partial));
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message().find("run_task.task.task_id"), std::string::npos) << missing.error();

  internal::Envelope envelope;
  envelope.mutable_shutdown_agent()->set_message(std::string(100, 'm'));
  std::string bytes = encodeEnvelope(envelope);
  EXPECT_FALSE(decodeEnvelope(std::string_view(bytes).substr(0, bytes.size() / 2)).ok());
}

TEST(EnvelopeCodecTest, RandomBytesNeverCrash) {
  uint32_t seed = 20261121;
  std::printf("EnvelopeCodecTest seed %u\n", seed);
  std::mt19937 rng(seed);
  int accepted = 0;
  for (int i = 0; i < 5000; ++i) {
    std::string bytes(rng() % 200, '\0');
    for (char& c : bytes) c = static_cast<char>(rng());
    if (decodeEnvelope(bytes).ok()) ++accepted;
  }
  // Random bytes essentially never form a valid version-1 envelope.
  EXPECT_LT(accepted, 50);
}

}  // namespace
}  // namespace agora
