#include "agora/common/role.hpp"

#include <string>

#include "agora/common/id.hpp"

namespace agora {

Status validateRole(std::string_view role) {
  auto invalid = [&](const std::string& why) {
    return Status::InvalidArgument("Invalid role '" + quoteForLog(role) + "': " + why);
  };
  if (role.empty()) return invalid("must not be empty");
  if (role == kDefaultRole) return Status::OK();
  if (role.size() > 1024) return invalid("longer than 1024 bytes");
  if (role.front() == '/') return invalid("must not start with '/'");
  if (role.back() == '/') return invalid("must not end with '/'");
  for (unsigned char c : role) {
    if (c <= 0x20 || c == 0x7f) return invalid("contains whitespace or a control character");
  }
  size_t start = 0;
  while (start <= role.size()) {
    size_t end = role.find('/', start);
    if (end == std::string_view::npos) end = role.size();
    std::string_view part = role.substr(start, end - start);
    if (part.empty()) return invalid("contains '//'");
    if (part == "." || part == "..") return invalid("component '" + std::string(part) + "' is not allowed");
    if (part == "*") return invalid("'*' may only be used alone, as the default role");
    if (part.front() == '-') return invalid("component '" + quoteForLog(part) + "' starts with '-'");
    start = end + 1;
  }
  return Status::OK();
}

bool isStrictSubrole(std::string_view role, std::string_view ancestor) {
  if (ancestor == kDefaultRole || role == kDefaultRole) return false;
  return role.size() > ancestor.size() + 1 && role.substr(0, ancestor.size()) == ancestor &&
         role[ancestor.size()] == '/';
}

bool isRoleOrSubrole(std::string_view role, std::string_view ancestor) {
  return role == ancestor || isStrictSubrole(role, ancestor);
}

std::optional<std::string_view> parentRole(std::string_view role) {
  size_t slash = role.rfind('/');
  if (slash == std::string_view::npos || slash == 0) return std::nullopt;
  return role.substr(0, slash);
}

}  // namespace agora
