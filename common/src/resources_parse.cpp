// Resources::parse: the agent's --resources value, as text, JSON or file://.
//
// Both forms build wire Resources first and convert them with
// internal::resourceFromProto, so that one set of rules validates every
// input. The input is untrusted: it is bounded in size and JSON nesting
// before any parser sees it, and errors name the offending item.

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/type_resolver.h>
#include <google/protobuf/util/type_resolver_util.h>

#include "agora/common/id.hpp"
#include "agora/common/resources.hpp"
#include "agora/common/role.hpp"
#include "resources_internal.hpp"

namespace agora {

namespace {

constexpr size_t kMaxInputBytes = 4 << 20;  // --resources value or file.
constexpr int kMaxJsonDepth = 64;
constexpr std::string_view kFilePrefix = "file://";
constexpr std::string_view kWhitespace = " \t\r\n\f\v";

Status invalid(const std::string& why) { return Status::InvalidArgument(why); }

std::string quoted(std::string_view text) { return "'" + quoteForLog(text) + "'"; }

std::string_view trim(std::string_view s) {
  size_t begin = s.find_first_not_of(kWhitespace);
  if (begin == std::string_view::npos) return {};
  return s.substr(begin, s.find_last_not_of(kWhitespace) - begin + 1);
}

// Splits on `separator`, trimming each piece.
std::vector<std::string_view> split(std::string_view s, char separator) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t end = s.find(separator, start);
    out.push_back(trim(s.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start)));
    if (end == std::string_view::npos) return out;
    start = end + 1;
  }
}

// One parsed item with how to name it in errors, and whether it named its
// role (then --default_role does not apply).
struct Item {
  Resource resource;
  std::string label;
  bool explicitRole = false;
};

// --- Text form ---------------------------------------------------------------------

Result<uint64_t> parseBound(std::string_view text) {
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
    return invalid(quoted(text) + " is not a non-negative integer");
  }
  return value;
}

Status parseRanges(std::string_view text, v1::Resource* out) {
  out->set_type(v1::Value::RANGES);
  auto* ranges = out->mutable_ranges();
  if (text.back() != ']') return invalid("ranges must end with ']'");
  std::string_view inner = trim(text.substr(1, text.size() - 2));
  if (inner.empty()) return Status::OK();
  for (std::string_view piece : split(inner, ',')) {
    if (piece.empty()) return invalid("empty range in " + quoted(text));
    size_t dash = piece.find('-');
    std::string_view first = trim(piece.substr(0, dash));
    std::string_view last = dash == std::string_view::npos ? first : trim(piece.substr(dash + 1));
    auto begin = parseBound(first);
    if (!begin.ok()) return begin.error().withContext("range " + quoted(piece));
    auto end = parseBound(last);
    if (!end.ok()) return end.error().withContext("range " + quoted(piece));
    auto* range = ranges->add_range();
    range->set_begin(*begin);
    range->set_end(*end);
  }
  return Status::OK();
}

Status parseSet(std::string_view text, v1::Resource* out) {
  out->set_type(v1::Value::SET);
  auto* set = out->mutable_set();
  if (text.back() != '}') return invalid("sets must end with '}'");
  std::string_view inner = trim(text.substr(1, text.size() - 2));
  if (inner.empty()) return Status::OK();
  for (std::string_view item : split(inner, ',')) set->add_item(std::string(item));
  return Status::OK();
}

Status parseScalar(std::string_view text, v1::Resource* out) {
  out->set_type(v1::Value::SCALAR);
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec == std::errc::result_out_of_range) return invalid("scalar " + quoted(text) + " is out of range");
  if (ec != std::errc() || end != text.data() + text.size()) return invalid(quoted(text) + " is not a number");
  out->mutable_scalar()->set_value(value);
  return Status::OK();
}

// "name(role):value" -> wire Resource. Errors say what is wrong only.
Status parseTextItem(std::string_view item, v1::Resource* out, bool* explicitRole) {
  size_t stop = item.find_first_of("(:");
  if (stop == std::string_view::npos) return invalid("expected NAME:VALUE or NAME(ROLE):VALUE");
  out->set_name(std::string(trim(item.substr(0, stop))));
  std::string_view rest = item.substr(stop);
  if (rest.front() == '(') {
    size_t close = rest.find(')');
    if (close == std::string_view::npos) return invalid("missing ')' after the role");
    internal::setLegacyRole(out, std::string(trim(rest.substr(1, close - 1))));
    *explicitRole = true;
    rest = trim(rest.substr(close + 1));
    if (rest.empty() || rest.front() != ':') return invalid("expected ':' after '(ROLE)'");
  }
  std::string_view value = trim(rest.substr(1));
  if (value.empty()) return invalid("missing value after ':'");
  if (value.front() == '[') return parseRanges(value, out);
  if (value.front() == '{') return parseSet(value, out);
  return parseScalar(value, out);
}

Result<std::vector<Item>> parseText(std::string_view text) {
  std::vector<Item> items;
  for (std::string_view piece : split(text, ';')) {
    if (piece.empty()) continue;  // "cpus:1;;mem:2;" is fine.
    std::string label = quoted(piece);
    v1::Resource proto;
    bool explicitRole = false;
    Status parsed = parseTextItem(piece, &proto, &explicitRole);
    if (!parsed.ok()) return parsed.withContext("Invalid resource " + label);
    Result<Resource> resource = internal::resourceFromProto(proto);
    if (!resource.ok()) return resource.error().withContext("Invalid resource " + label);
    items.push_back({std::move(resource).value(), label, explicitRole});
  }
  return items;
}

// --- JSON form ---------------------------------------------------------------------

// One pass over the raw JSON, before any parser: rejects nesting deeper than
// kMaxJsonDepth and splits the top-level array into its element texts. Full
// syntax checking is left to the element parser.
Result<std::vector<std::string_view>> splitJsonArray(std::string_view json) {
  std::vector<std::string_view> elements;
  int depth = 0;
  bool inString = false;
  size_t elementStart = 0;
  for (size_t i = 0; i < json.size(); ++i) {
    char c = json[i];
    if (inString) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        inString = false;
      }
      continue;
    }
    if (depth == 0) {
      if (kWhitespace.find(c) != std::string_view::npos) continue;
      if (c != '[' || !elements.empty() || elementStart != 0) {
        return invalid("unexpected " + quoted(json.substr(i, 20)) + " at byte " + std::to_string(i) +
                       " outside the JSON array");
      }
    }
    switch (c) {
      case '"': inString = true; break;
      case '[':
      case '{':
        if (++depth > kMaxJsonDepth) {
          return invalid("JSON is nested more than " + std::to_string(kMaxJsonDepth) + " levels deep at byte " +
                         std::to_string(i));
        }
        if (depth == 1) elementStart = i + 1;
        break;
      case ']':
      case '}':
        if (--depth < 0) return invalid("unbalanced " + quoted(std::string(1, c)) + " at byte " + std::to_string(i));
        if (depth == 0) {
          std::string_view last = trim(json.substr(elementStart, i - elementStart));
          if (!last.empty() || !elements.empty()) elements.push_back(last);
          elementStart = json.size();  // Marks the array as closed.
        }
        break;
      case ',':
        if (depth == 1) {
          elements.push_back(trim(json.substr(elementStart, i - elementStart)));
          elementStart = i + 1;
        }
        break;
      default: break;
    }
  }
  if (depth != 0 || inString) return invalid("the JSON array is not terminated");
  return elements;
}

google::protobuf::util::TypeResolver* typeResolver() {
  static google::protobuf::util::TypeResolver* resolver = google::protobuf::util::NewTypeResolverForDescriptorPool(
      "type.googleapis.com", google::protobuf::DescriptorPool::generated_pool());
  return resolver;
}

// One JSON object -> wire Resource. Required fields are reported by name
// (protobuf's own JSON parser would only say the output was invalid).
Status parseJsonElement(std::string_view json, v1::Resource* out) {
  if (json.empty() || json.front() != '{') return invalid("expected a JSON object");
  std::string binary;
  google::protobuf::util::JsonParseOptions options;
  auto status = google::protobuf::util::JsonToBinaryString(
      typeResolver(), "type.googleapis.com/" + v1::Resource::descriptor()->full_name(),
      google::protobuf::StringPiece(json.data(), json.size()), &binary, options);
  if (!status.ok()) {
    // Protobuf says "<field path>: <problem>", with an empty path at the top.
    std::string message(status.message().data(), status.message().size());
    // Keep one line (it may quote the input below) without a final period.
    if (message.rfind(": ", 0) == 0) message.erase(0, 2);
    message = message.substr(0, message.find('\n'));
    while (!message.empty() && (message.back() == '.' || message.back() == ' ')) message.pop_back();
    return invalid(message);
  }
  if (!out->ParsePartialFromString(binary)) return invalid("cannot be decoded as a Resource");
  if (!out->IsInitialized()) return invalid("missing required fields: " + out->InitializationErrorString());
  return Status::OK();
}

Result<std::vector<Item>> parseJson(std::string_view json) {
  AGORA_ASSIGN_OR_RETURN(std::vector<std::string_view> elements, splitJsonArray(json));
  std::vector<Item> items;
  for (size_t i = 0; i < elements.size(); ++i) {
    std::string label = "#" + std::to_string(i + 1);
    v1::Resource proto;
    Status parsed;
    try {
      parsed = parseJsonElement(elements[i], &proto);
    } catch (const std::exception& e) {  // Edge of a third-party parser.
      parsed = invalid(std::string("JSON parser failed: ") + e.what());
    }
    if (!parsed.ok()) return parsed.withContext("Invalid resource " + label + " in JSON");
    label += " " + quoted(proto.name());
    Result<Resource> resource = internal::resourceFromProto(proto);
    if (!resource.ok()) return resource.error().withContext("Invalid resource " + label);
    items.push_back({std::move(resource).value(), label, internal::hasLegacyRole(proto) || proto.reservations_size() > 0});
  }
  return items;
}

// --- Command-line rules --------------------------------------------------------------

Status validateCommandLine(const Resource& r) {
  for (const Reservation& reservation : r.reservations) {
    if (reservation.type == Reservation::Type::kDynamic) {
      return invalid("dynamic reservations are not allowed in --resources (for role " + quoted(reservation.role) +
                     "); make them with RESERVE");
    }
  }
  if (r.isPersistentVolume()) return invalid("persistent volumes are not allowed in --resources");
  if (r.revocable) return invalid("revocable resources are not allowed in --resources");
  if (r.shared) return invalid("shared resources are not allowed in --resources");
  if (r.allocationRole) return invalid("allocation_info is not allowed in --resources");
  return Status::OK();
}

std::string_view typeName(Resource::Type type) {
  switch (type) {
    case Resource::Type::kScalar: return "SCALAR";
    case Resource::Type::kRanges: return "RANGES";
    case Resource::Type::kSet: return "SET";
  }
  return "?";
}

Result<Resources> collect(std::vector<Item> items, std::string_view defaultRole) {
  std::map<std::string, const Item*> firstOfName;
  Resources out;
  for (Item& item : items) {
    Resource& r = item.resource;
    AGORA_RETURN_IF_ERROR(validateCommandLine(r).withContext("Invalid resource " + item.label));
    auto [first, inserted] = firstOfName.emplace(r.name, &item);
    if (!inserted && first->second->resource.type() != r.type()) {
      return invalid("Invalid resources: " + quoted(r.name) + " is " +
                     std::string(typeName(first->second->resource.type())) + " in " + first->second->label +
                     " but " + std::string(typeName(r.type())) + " in " + item.label);
    }
    if (!item.explicitRole && defaultRole != kDefaultRole) {
      r.reservations.push_back({Reservation::Type::kStatic, std::string(defaultRole), "", {}});
    }
    out.add(r);
  }
  return out;
}

Result<std::string> readBoundedFile(const std::string& path) {
  auto fail = [&path](const std::string& why) {
    return Status::IoError("Failed to read resources file " + quoted(path) + ": " + why);
  };
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail(std::strerror(errno));
  std::string content;
  char buffer[64 * 1024];
  while (true) {
    ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int error = errno;
      ::close(fd);
      return fail(std::strerror(error));
    }
    if (n == 0) break;
    content.append(buffer, static_cast<size_t>(n));
    if (content.size() > kMaxInputBytes) {
      ::close(fd);
      return fail("larger than " + std::to_string(kMaxInputBytes) + " bytes");
    }
  }
  ::close(fd);
  return content;
}

Result<Resources> parseContent(std::string_view content, std::string_view defaultRole) {
  if (content.size() > kMaxInputBytes) {
    return invalid("Invalid resources: " + std::to_string(content.size()) + " bytes, more than the " +
                   std::to_string(kMaxInputBytes) + " allowed");
  }
  std::string_view trimmed = trim(content);
  if (!trimmed.empty() && trimmed.front() == '{') {
    return invalid("Invalid resources " + quoted(trimmed) + ": expected a JSON array of resources, not an object");
  }
  Result<std::vector<Item>> items = !trimmed.empty() && trimmed.front() == '[' ? parseJson(trimmed)
                                                                               : parseText(trimmed);
  if (!items.ok()) return items.error();
  return collect(std::move(items).value(), defaultRole);
}

}  // namespace

Result<Resources> Resources::parse(std::string_view flagValue, std::string_view defaultRole) {
  AGORA_RETURN_IF_ERROR(validateRole(defaultRole).withContext("Invalid default role"));
  std::string_view trimmed = trim(flagValue);
  if (trimmed.substr(0, kFilePrefix.size()) != kFilePrefix) return parseContent(flagValue, defaultRole);
  std::string path(trimmed.substr(kFilePrefix.size()));
  AGORA_ASSIGN_OR_RETURN(std::string content, readBoundedFile(path));
  if (trim(content).substr(0, kFilePrefix.size()) == kFilePrefix) {
    return invalid("Invalid resources file " + quoted(path) + ": it refers to another file, which is not followed");
  }
  Result<Resources> parsed = parseContent(content, defaultRole);
  if (!parsed.ok()) return parsed.error().withContext("In resources file " + quoted(path));
  return parsed;
}

}  // namespace agora
