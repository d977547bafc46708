#pragma once

// Role names. Roles form a tree through '/'-separated names ("eng/backend");
// "*" is the default role, meaning unreserved.

#include <optional>
#include <string_view>

#include "agora/common/status.hpp"

namespace agora {

inline constexpr std::string_view kDefaultRole = "*";

// Mesos rules: "*" alone, or one or more '/'-separated components, none of
// them empty, ".", "..", "*", nor starting with '-'; no whitespace or control
// characters anywhere. The error names the offending part.
Status validateRole(std::string_view role);

// True when `role` is a strict descendant of `ancestor` ("eng/db" of "eng").
// "*" has no descendants and is nobody's descendant.
bool isStrictSubrole(std::string_view role, std::string_view ancestor);

// `role` == `ancestor` or a strict descendant of it.
bool isRoleOrSubrole(std::string_view role, std::string_view ancestor);

// "eng/db" -> "eng"; a top-level role (or "*") has no parent.
std::optional<std::string_view> parentRole(std::string_view role);

}  // namespace agora
