// Wire conversion and validation: agora::v1::Resource <-> agora::Resource.

#include <algorithm>
#include <string>

#include "agora/common/id.hpp"
#include "agora/common/resources.hpp"
#include "agora/common/role.hpp"
#include "resources_internal.hpp"

namespace agora {

namespace {

Status invalid(const std::string& why) { return Status::InvalidArgument(why); }

std::string quoted(std::string_view text) { return "'" + quoteForLog(text) + "'"; }

std::string rangeText(uint64_t begin, uint64_t end) {
  return "[" + std::to_string(begin) + "-" + std::to_string(end) + "]";
}

// Names and set items must survive the text form: no whitespace, control
// characters or separators of the --resources syntax.
Status validateToken(std::string_view token, std::string_view kind, std::string_view forbidden) {
  if (token.empty()) return invalid(std::string(kind) + " must not be empty");
  if (token.size() > internal::kMaxResourceNameLength) {
    return invalid(std::string(kind) + " " + quoted(token) + " is " + std::to_string(token.size()) +
                   " bytes long, more than the " + std::to_string(internal::kMaxResourceNameLength) +
                   " allowed");
  }
  for (unsigned char c : token) {
    if (c <= 0x20 || c == 0x7f) {
      return invalid(std::string(kind) + " " + quoted(token) + " contains whitespace or a control character");
    }
    if (forbidden.find(static_cast<char>(c)) != std::string_view::npos) {
      return invalid(std::string(kind) + " " + quoted(token) + " contains '" + static_cast<char>(c) + "'");
    }
  }
  return Status::OK();
}

Result<Scalar> scalarFromProto(const v1::Value::Scalar& scalar) {
  Result<Scalar> value = Scalar::fromDouble(scalar.value());
  if (!value.ok()) return invalid("scalar " + value.error().message());
  if (value->isNegative()) return invalid("scalar must not be negative");
  return value;
}

Result<RangeSet> rangesFromProto(const v1::Value::Ranges& ranges) {
  std::vector<Range> sorted;
  sorted.reserve(ranges.range_size());
  for (const v1::Value::Range& r : ranges.range()) {
    if (r.begin() > r.end()) return invalid("range " + rangeText(r.begin(), r.end()) + " is inverted (begin > end)");
    sorted.push_back({r.begin(), r.end()});
  }
  std::sort(sorted.begin(), sorted.end(), [](const Range& a, const Range& b) { return a.begin < b.begin; });
  RangeSet out;
  const Range* widest = nullptr;  // The earlier range that reaches furthest.
  for (const Range& r : sorted) {
    if (widest != nullptr && r.begin <= widest->end) {
      return invalid("ranges " + rangeText(widest->begin, widest->end) + " and " + rangeText(r.begin, r.end) +
                     " overlap");
    }
    if (widest == nullptr || r.end > widest->end) widest = &r;
    out.add(r);
  }
  return out;
}

Result<ItemSet> setFromProto(const v1::Value::Set& set) {
  ItemSet out;
  for (const std::string& item : set.item()) {
    AGORA_RETURN_IF_ERROR(validateToken(item, "set item", ",;{}[]"));
    if (!out.insert(item).second) return invalid("set item " + quoted(item) + " appears twice");
  }
  return out;
}

using Value = std::variant<Scalar, RangeSet, ItemSet>;

template <typename T>
Result<Value> widen(Result<T> value) {
  if (!value.ok()) return value.error();
  return Value(std::move(value).value());
}

Result<Value> valueFromProto(const v1::Resource& r) {
  int present = int(r.has_scalar()) + int(r.has_ranges()) + int(r.has_set());
  switch (r.type()) {
    case v1::Value::SCALAR:
      if (!r.has_scalar() || present != 1) return invalid("type SCALAR needs a 'scalar' value and no other");
      return widen(scalarFromProto(r.scalar()));
    case v1::Value::RANGES:
      if (!r.has_ranges() || present != 1) return invalid("type RANGES needs a 'ranges' value and no other");
      return widen(rangesFromProto(r.ranges()));
    case v1::Value::SET:
      if (!r.has_set() || present != 1) return invalid("type SET needs a 'set' value and no other");
      return widen(setFromProto(r.set()));
    case v1::Value::TEXT:
      return invalid("type TEXT is for attributes, not resources");
  }
  return invalid("unknown value type " + std::to_string(static_cast<int>(r.type())));
}

Status validateReservationRole(const std::string& role, const std::string& where) {
  if (role.empty()) return invalid(where + " has no role");
  if (role == kDefaultRole) return invalid(where + " is for role '*', which means unreserved");
  return validateRole(role).withContext(where);
}

Reservation reservationFromProto(const v1::Resource::ReservationInfo& info, Reservation::Type type,
                                 const std::string& role) {
  Reservation out;
  out.type = type;
  out.role = role;
  out.principal = info.principal();
  for (const v1::Label& label : info.labels().labels()) out.labels.emplace_back(label.key(), label.value());
  return out;
}

Result<std::vector<Reservation>> reservationsFromProto(const v1::Resource& r) {
  std::vector<Reservation> out;
  if (r.reservations_size() == 0) {
    // Pre-refinement format: role "*" unreserved, another role static, or
    // dynamic with `reservation`.
    if (internal::legacyRole(r) == kDefaultRole) {
      if (r.has_reservation()) return invalid("a 'reservation' needs a role other than '*'");
      return out;
    }
    AGORA_RETURN_IF_ERROR(validateReservationRole(internal::legacyRole(r), "the reservation"));
    if (!r.has_reservation()) {
      out.push_back(reservationFromProto({}, Reservation::Type::kStatic, internal::legacyRole(r)));
      return out;
    }
    const auto& info = r.reservation();
    if (info.has_role() && info.role() != internal::legacyRole(r)) {
      return invalid("reservation role " + quoted(info.role()) + " differs from role " + quoted(internal::legacyRole(r)));
    }
    if (info.type() == v1::Resource::ReservationInfo::STATIC) {
      return invalid("'reservation' describes a dynamic reservation but says STATIC");
    }
    out.push_back(reservationFromProto(info, Reservation::Type::kDynamic, internal::legacyRole(r)));
    return out;
  }
  if (internal::hasLegacyRole(r) || r.has_reservation()) {
    return invalid("'reservations' cannot be combined with the pre-refinement 'role' or 'reservation'");
  }
  for (int i = 0; i < r.reservations_size(); ++i) {
    const auto& info = r.reservations(i);
    std::string where = "reservation " + std::to_string(i + 1);
    AGORA_RETURN_IF_ERROR(validateReservationRole(info.role(), where));
    where += " (role " + quoted(info.role()) + ")";
    Reservation::Type type;
    switch (info.type()) {
      case v1::Resource::ReservationInfo::STATIC: type = Reservation::Type::kStatic; break;
      case v1::Resource::ReservationInfo::DYNAMIC: type = Reservation::Type::kDynamic; break;
      default: return invalid(where + " has no type (STATIC or DYNAMIC)");
    }
    if (i > 0) {
      if (type != Reservation::Type::kDynamic) {
        return invalid(where + " is STATIC; only the first reservation may be static");
      }
      if (!isStrictSubrole(info.role(), out.back().role)) {
        return invalid(where + " does not refine " + quoted(out.back().role) + ": it is not a sub-role of it");
      }
    }
    out.push_back(reservationFromProto(info, type, info.role()));
  }
  return out;
}

Result<std::optional<DiskInfo>> diskFromProto(const v1::Resource& r) {
  if (!r.has_disk()) return std::optional<DiskInfo>();
  if (r.name() != "disk") return invalid("disk info is only allowed on 'disk' resources");
  const auto& disk = r.disk();
  DiskInfo out;
  if (disk.has_persistence()) {
    AGORA_RETURN_IF_ERROR(validateId(disk.persistence().id(), "persistence ID"));
    out.persistenceId = disk.persistence().id();
    out.persistencePrincipal = disk.persistence().principal();
  }
  if (disk.has_volume()) {
    const v1::Volume& volume = disk.volume();
    if (volume.container_path().empty()) return invalid("volume has no container_path");
    if (volume.has_host_path()) return invalid("volume host_path is not supported on disk resources");
    out.containerPath = volume.container_path();
    out.readOnly = volume.mode() == v1::Volume::RO;
  }
  if (disk.has_source()) {
    const auto& source = disk.source();
    if (source.has_id() || source.has_metadata() || source.has_profile()) {
      return invalid("disk source id, metadata and profile (CSI) are not supported");
    }
    using SourceProto = v1::Resource::DiskInfo::Source;
    switch (source.type()) {
      case SourceProto::PATH:
        out.source = DiskInfo::Source::kPath;
        out.sourceRoot = source.path().root();
        break;
      case SourceProto::MOUNT:
        out.source = DiskInfo::Source::kMount;
        out.sourceRoot = source.mount().root();
        break;
      default:
        return invalid("disk source type " + SourceProto::Type_Name(source.type()) +
                       " is not supported (PATH or MOUNT)");
    }
    if (out.sourceRoot.empty()) return invalid("disk source has no root");
  }
  if (out == DiskInfo()) return std::optional<DiskInfo>();  // "disk": {} says nothing.
  return std::optional<DiskInfo>(out);
}

}  // namespace

namespace internal {

Result<Resource> resourceFromProto(const v1::Resource& r) {
  AGORA_RETURN_IF_ERROR(validateToken(r.name(), "name", "():;,[]{}"));
  if (r.has_provider_id()) return invalid("resource providers are not supported");
  Resource out;
  out.name = r.name();
  AGORA_ASSIGN_OR_RETURN(out.value, valueFromProto(r));
  AGORA_ASSIGN_OR_RETURN(out.reservations, reservationsFromProto(r));
  AGORA_ASSIGN_OR_RETURN(out.disk, diskFromProto(r));
  if (r.has_allocation_info()) {
    if (!r.allocation_info().has_role()) return invalid("allocation_info has no role");
    AGORA_RETURN_IF_ERROR(validateRole(r.allocation_info().role()).withContext("allocation_info"));
    out.allocationRole = r.allocation_info().role();
  }
  out.revocable = r.has_revocable();
  out.shared = r.has_shared();
  if (out.shared && !out.isPersistentVolume()) return invalid("only persistent volumes may be shared");
  return out;
}

void resourceToProto(const Resource& r, v1::Resource* out) {
  out->Clear();
  out->set_name(r.name);
  if (const auto* s = std::get_if<Scalar>(&r.value)) {
    out->set_type(v1::Value::SCALAR);
    out->mutable_scalar()->set_value(s->toDouble());
  } else if (const auto* ranges = std::get_if<RangeSet>(&r.value)) {
    out->set_type(v1::Value::RANGES);
    auto* pb = out->mutable_ranges();
    for (const Range& range : ranges->ranges()) {
      auto* x = pb->add_range();
      x->set_begin(range.begin);
      x->set_end(range.end);
    }
  } else {
    out->set_type(v1::Value::SET);
    auto* pb = out->mutable_set();
    for (const std::string& item : std::get<ItemSet>(r.value)) pb->add_item(item);
  }
  for (const Reservation& reservation : r.reservations) {
    auto* info = out->add_reservations();
    info->set_type(reservation.type == Reservation::Type::kStatic ? v1::Resource::ReservationInfo::STATIC
                                                                  : v1::Resource::ReservationInfo::DYNAMIC);
    info->set_role(reservation.role);
    if (!reservation.principal.empty()) info->set_principal(reservation.principal);
    for (const auto& [key, value] : reservation.labels) {
      auto* label = info->mutable_labels()->add_labels();
      label->set_key(key);
      if (!value.empty()) label->set_value(value);
    }
  }
  if (r.allocationRole) out->mutable_allocation_info()->set_role(*r.allocationRole);
  if (r.disk) {
    const DiskInfo& d = *r.disk;
    auto* disk = out->mutable_disk();
    if (!d.persistenceId.empty()) {
      disk->mutable_persistence()->set_id(d.persistenceId);
      if (!d.persistencePrincipal.empty()) disk->mutable_persistence()->set_principal(d.persistencePrincipal);
    }
    if (!d.containerPath.empty()) {
      disk->mutable_volume()->set_container_path(d.containerPath);
      disk->mutable_volume()->set_mode(d.readOnly ? v1::Volume::RO : v1::Volume::RW);
    }
    using SourceProto = v1::Resource::DiskInfo::Source;
    if (d.source == DiskInfo::Source::kPath) {
      disk->mutable_source()->set_type(SourceProto::PATH);
      disk->mutable_source()->mutable_path()->set_root(d.sourceRoot);
    } else if (d.source == DiskInfo::Source::kMount) {
      disk->mutable_source()->set_type(SourceProto::MOUNT);
      disk->mutable_source()->mutable_mount()->set_root(d.sourceRoot);
    }
  }
  if (r.revocable) out->mutable_revocable();
  if (r.shared) out->mutable_shared();
}

}  // namespace internal

Status validateResource(const v1::Resource& resource) {
  return internal::resourceFromProto(resource).status().withContext("Invalid resource " + quoted(resource.name()));
}

Result<Resources> Resources::fromProto(const google::protobuf::RepeatedPtrField<v1::Resource>& resources) {
  Resources out;
  for (int i = 0; i < resources.size(); ++i) {
    Result<Resource> r = internal::resourceFromProto(resources[i]);
    if (!r.ok()) {
      return r.error().withContext("Invalid resource #" + std::to_string(i + 1) + " " + quoted(resources[i].name()));
    }
    out.add(*r);
  }
  return out;
}

Result<Resources> Resources::fromProto(const v1::Resource& resource) {
  Result<Resource> r = internal::resourceFromProto(resource);
  if (!r.ok()) return r.error().withContext("Invalid resource " + quoted(resource.name()));
  Resources out;
  out.add(*r);
  return out;
}

void Resources::toProto(google::protobuf::RepeatedPtrField<v1::Resource>* out) const {
  out->Clear();
  for (const Resource& r : slots()) internal::resourceToProto(r, out->Add());
}

google::protobuf::RepeatedPtrField<v1::Resource> Resources::toProto() const {
  google::protobuf::RepeatedPtrField<v1::Resource> out;
  toProto(&out);
  return out;
}

}  // namespace agora
