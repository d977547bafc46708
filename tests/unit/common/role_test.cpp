#include <gtest/gtest.h>

#include <string>

#include "agora/common/role.hpp"

namespace agora {
namespace {

TEST(RoleTest, ValidRoles) {
  for (const char* role : {"*", "eng", "eng/backend", "eng/backend/db", "a-b", "a.b", "a*b", "x_1"}) {
    EXPECT_TRUE(validateRole(role).ok()) << role << ": " << validateRole(role);
  }
}

TEST(RoleTest, InvalidRolesNameTheProblem) {
  struct Case {
    std::string role;
    std::string reason;
  };
  for (const Case& c : {Case{"", "must not be empty"}, Case{"/eng", "start with '/'"},
                        Case{"eng/", "end with '/'"}, Case{"eng//db", "'//'"}, Case{".", "'.'"},
                        Case{"eng/..", "'..'"}, Case{"eng/*", "'*' may only be used alone"},
                        Case{"-eng", "starts with '-'"}, Case{"eng/-db", "starts with '-'"},
                        Case{"e ng", "whitespace"}, Case{"e\bng", "control character"},
                        Case{"e\tng", "whitespace"}}) {
    Status status = validateRole(c.role);
    ASSERT_FALSE(status.ok()) << c.role;
    EXPECT_NE(status.message().find(c.reason), std::string::npos) << status;
  }
}

TEST(RoleTest, Hierarchy) {
  EXPECT_TRUE(isStrictSubrole("eng/db", "eng"));
  EXPECT_TRUE(isStrictSubrole("eng/backend/db", "eng"));
  EXPECT_FALSE(isStrictSubrole("eng", "eng"));
  EXPECT_FALSE(isStrictSubrole("engine", "eng"));
  EXPECT_FALSE(isStrictSubrole("eng", "*"));
  EXPECT_TRUE(isRoleOrSubrole("eng", "eng"));
  EXPECT_TRUE(isRoleOrSubrole("eng/x", "eng"));
  EXPECT_EQ(parentRole("eng/backend/db"), "eng/backend");
  EXPECT_EQ(parentRole("eng"), std::nullopt);
  EXPECT_EQ(parentRole("*"), std::nullopt);
}

}  // namespace
}  // namespace agora
