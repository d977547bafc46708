#include <gtest/gtest.h>

#include <set>
#include <string>

#include "agora/common/id.hpp"

namespace agora {
namespace {

TEST(IdTest, AcceptsOrdinaryIds) {
  for (const char* id : {"t1", "task-0001", "my.task_2", "a b", "\xc3\xa9t\xc3\xa9", "..."}) {
    EXPECT_TRUE(validateId(id).ok()) << id;
  }
  EXPECT_TRUE(validateId(std::string(255, 'x')).ok());
}

TEST(IdTest, RejectsHostileIdsWithReason) {
  struct Case {
    std::string id;
    std::string reason;
  };
  for (const Case& c : {Case{"", "must not be empty"}, Case{".", "must not be '.' or '..'"},
                        Case{"..", "must not be '.' or '..'"}, Case{"a/b", "contains '/'"},
                        Case{"a\\b", "contains '\\'"}, Case{std::string("a\0b", 3), "control character"},
                        Case{"a\nb", "control character"}, Case{"a\x7f", "control character"},
                        Case{std::string(256, 'x'), "256 bytes long"}}) {
    Status status = validateId(c.id, "task ID");
    ASSERT_FALSE(status.ok()) << c.id;
    EXPECT_EQ(status.code(), Status::Code::kInvalidArgument);
    EXPECT_NE(status.message().find("Invalid task ID"), std::string::npos) << status;
    EXPECT_NE(status.message().find(c.reason), std::string::npos) << status;
  }
}

TEST(IdTest, HugeIdErrorStaysShort) {
  Status status = validateId(std::string(1 << 20, 'x'));
  ASSERT_FALSE(status.ok());
  EXPECT_LT(status.message().size(), 300u);
}

TEST(IdTest, QuoteForLogEscapesAndTruncates) {
  EXPECT_EQ(quoteForLog("plain"), "plain");
  EXPECT_EQ(quoteForLog(std::string("a\0\n", 3)), "a\\x00\\x0a");
  EXPECT_EQ(quoteForLog("abcdef", 3), "abc...");
}

TEST(IdTest, UuidsAreWellFormedAndDistinct) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    std::string uuid = newUuid();
    ASSERT_EQ(uuid.size(), 36u);
    EXPECT_EQ(uuid[8], '-');
    EXPECT_EQ(uuid[14], '4');  // version 4
    EXPECT_TRUE(seen.insert(uuid).second);
  }
  EXPECT_EQ(newUuidBytes().size(), 16u);
}

TEST(IdTest, GeneratorPadsAndCounts) {
  IdGenerator frameworks("m1-", 4);
  EXPECT_EQ(frameworks.next(), "m1-0000");
  EXPECT_EQ(frameworks.next(), "m1-0001");
  IdGenerator agents("m1-S", 0, 41);
  EXPECT_EQ(agents.next(), "m1-S41");
  EXPECT_EQ(agents.peek(), 42u);
}

}  // namespace
}  // namespace agora
