#include <gtest/gtest.h>

#include <string>

#include "agora/common/result.hpp"
#include "agora/common/status.hpp"

namespace agora {
namespace {

TEST(StatusTest, DefaultIsOk) {
  Status status;
  EXPECT_TRUE(status.ok());
  EXPECT_EQ(status.code(), Status::Code::kOk);
  EXPECT_EQ(status.message(), "");
  EXPECT_EQ(status.toString(), "OK");
}

TEST(StatusTest, ErrorCarriesCodeAndMessage) {
  Status status = Status::NotFound("no such agent 'a1'");
  EXPECT_FALSE(status.ok());
  EXPECT_EQ(status.code(), Status::Code::kNotFound);
  EXPECT_EQ(status.message(), "no such agent 'a1'");
  EXPECT_EQ(status.toString(), "Not found: no such agent 'a1'");
}

TEST(StatusTest, ContextIsPrepended) {
  Status status = Status::IoError("disk full").withContext("Failed to write checkpoint '/w/x'");
  EXPECT_EQ(status.code(), Status::Code::kIoError);
  EXPECT_EQ(status.message(), "Failed to write checkpoint '/w/x': disk full");
  EXPECT_TRUE(Status::OK().withContext("ignored").ok());
}

TEST(StatusTest, CopyAndMovePreserveContents) {
  Status original = Status::Corruption("bad page");
  Status copy = original;
  EXPECT_EQ(copy, original);
  Status moved = std::move(copy);
  EXPECT_EQ(moved.message(), "bad page");
  copy = moved;
  EXPECT_EQ(copy.code(), Status::Code::kCorruption);
}

Status failsWhen(bool fail) {
  if (fail) return Status::InvalidArgument("asked to fail");
  return Status::OK();
}

Status chain(bool fail) {
  AGORA_RETURN_IF_ERROR(failsWhen(fail));
  return Status::Internal("reached the end");
}

TEST(StatusTest, ReturnIfErrorShortCircuits) {
  EXPECT_EQ(chain(true).code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(chain(false).code(), Status::Code::kInternal);
}

Result<int> parsePositive(int x) {
  if (x <= 0) return Status::InvalidArgument("not positive: " + std::to_string(x));
  return x;
}

Result<int> doublePositive(int x) {
  AGORA_ASSIGN_OR_RETURN(int value, parsePositive(x));
  return value * 2;
}

TEST(ResultTest, HoldsValueOrError) {
  Result<int> good = parsePositive(3);
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*good, 3);
  EXPECT_TRUE(good.status().ok());

  Result<int> bad = parsePositive(-1);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message(), "not positive: -1");
  EXPECT_EQ(bad.valueOr(7), 7);
}

TEST(ResultTest, AssignOrReturnPropagates) {
  EXPECT_EQ(*doublePositive(4), 8);
  EXPECT_EQ(doublePositive(0).error().code(), Status::Code::kInvalidArgument);
}

TEST(ResultDeathTest, ValueOnErrorAborts) {
  Result<int> bad = Status::Internal("boom");
  EXPECT_DEATH((void)bad.value(), "boom");
}

}  // namespace
}  // namespace agora
