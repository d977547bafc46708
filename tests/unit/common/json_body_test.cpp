#include "agora/common/json_body.hpp"

#include <gtest/gtest.h>

#include <string>

namespace agora {
namespace {

TEST(ParseJsonBodyTest, ParsesValidJson) {
  auto value = parseJsonBody(R"({"a": [1, {"b": null}], "c": "x"})");
  ASSERT_TRUE(value.ok()) << value.status();
  EXPECT_EQ((*value)["c"], "x");
}

TEST(ParseJsonBodyTest, DepthLimitIsExact) {
  const auto nested = [](size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); };
  EXPECT_TRUE(parseJsonBody(nested(64)).ok());
  auto tooDeep = parseJsonBody(nested(65));
  EXPECT_EQ(tooDeep.status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(tooDeep.status().message(), "Invalid JSON: nested deeper than 64 at byte 64");
  EXPECT_TRUE(parseJsonBody(nested(3), 3).ok());
  EXPECT_FALSE(parseJsonBody(nested(4), 3).ok());
}

TEST(ParseJsonBodyTest, HundredThousandDeepIsRejectedWithoutRecursion) {
  for (const char open : {'[', '{'}) {
    auto result = parseJsonBody(std::string(100000, open));
    EXPECT_EQ(result.status().code(), Status::Code::kInvalidArgument);
  }
  // Alternating objects and arrays count alike.
  std::string mixed;
  for (int i = 0; i < 50000; ++i) mixed += R"({"a":[)";
  EXPECT_FALSE(parseJsonBody(mixed).ok());
}

TEST(ParseJsonBodyTest, BracketsInsideStringsDoNotCount) {
  const std::string brackets(1000, '[');
  EXPECT_TRUE(parseJsonBody("{\"k\": \"" + brackets + "\"}").ok());
  // An escaped quote does not end the string; an escaped backslash does not escape the quote.
  EXPECT_TRUE(parseJsonBody(R"(["a\"[[[[", "b\\", "[[["])", 1).ok());
}

TEST(ParseJsonBodyTest, MalformedInputNamesThePosition) {
  auto truncated = parseJsonBody(R"({"a": [1, 2)");
  EXPECT_EQ(truncated.status().code(), Status::Code::kInvalidArgument);
  EXPECT_TRUE(truncated.status().message().starts_with("Invalid JSON at byte 12:")) << truncated.status();

  EXPECT_FALSE(parseJsonBody("").ok());
  EXPECT_FALSE(parseJsonBody("[1] [2]").ok());
  EXPECT_FALSE(parseJsonBody("\"\xff\"").ok());  // Invalid UTF-8.
  auto binary = parseJsonBody(std::string("\x01\x02\x03garbage", 10));
  ASSERT_FALSE(binary.ok());
  EXPECT_EQ(binary.status().message().find('\x01'), std::string::npos);  // Quoted for logs.
}

TEST(ParseJsonBodyTest, SizeLimit) {
  auto big = parseJsonBody("[1, 2, 3]", 64, 4);
  EXPECT_EQ(big.status().code(), Status::Code::kResourceExhausted);
  EXPECT_TRUE(parseJsonBody("[1]", 64, 3).ok());
}

}  // namespace
}  // namespace agora
