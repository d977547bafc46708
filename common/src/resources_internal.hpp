#pragma once

// Private to agora_common: the conversion between one wire Resource and the
// domain Resource, shared by fromProto and the --resources parsers (which
// build a wire Resource first, so that every input goes through one set of
// validation rules).

#include "agora/common/resources.hpp"

namespace agora::internal {

// Longest resource name, in bytes.
inline constexpr size_t kMaxResourceNameLength = 255;

// Validates and converts. The error says what is wrong, without naming the
// resource; callers add that context ("Invalid resource 'cpus:-1': ...").
Result<Resource> resourceFromProto(const v1::Resource& resource);

void resourceToProto(const Resource& resource, v1::Resource* out);

// The pre-refinement `role` field is deprecated in the proto, but accepted on
// input: these are the only places that touch it.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
inline bool hasLegacyRole(const v1::Resource& r) { return r.has_role(); }
inline const std::string& legacyRole(const v1::Resource& r) { return r.role(); }
inline void setLegacyRole(v1::Resource* r, std::string role) { r->set_role(std::move(role)); }
#pragma GCC diagnostic pop

}  // namespace agora::internal
