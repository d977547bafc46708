// The text form of resources: what toString() and operator<< print.
//
// Unreserved and plainly static slots print in the --resources syntax
// ("cpus:4", "cpus(spark):8", "ports:[1-5]", "disks:{a,b}"), so they parse
// back. Everything else prints readably:
//   cpus(eng>eng/db,dynamic:ops){allocated:eng/db,revocable}:1

#include <sstream>
#include <string>
#include <vector>

#include "agora/common/resources.hpp"

namespace agora {

namespace {

std::string reservationText(const Reservation& r) {
  std::string out = r.role;
  bool dynamic = r.type == Reservation::Type::kDynamic;
  if (dynamic || !r.principal.empty() || !r.labels.empty()) out += dynamic ? ",dynamic" : ",static";
  if (!r.principal.empty()) out += ":" + r.principal;
  if (!r.labels.empty()) {
    out += ",labels:{";
    for (size_t i = 0; i < r.labels.size(); ++i) {
      if (i > 0) out += ',';
      out += r.labels[i].first;
      if (!r.labels[i].second.empty()) out += "=" + r.labels[i].second;
    }
    out += '}';
  }
  return out;
}

std::string metadataText(const Resource& r) {
  std::vector<std::string> parts;
  if (r.allocationRole) parts.push_back("allocated:" + *r.allocationRole);
  if (r.disk) {
    const DiskInfo& d = *r.disk;
    if (d.source == DiskInfo::Source::kPath) parts.push_back("path:" + d.sourceRoot);
    if (d.source == DiskInfo::Source::kMount) parts.push_back("mount:" + d.sourceRoot);
    if (!d.persistenceId.empty()) {
      std::string p = "persistence:" + d.persistenceId;
      if (!d.persistencePrincipal.empty()) p += " by " + d.persistencePrincipal;
      parts.push_back(p);
    }
    if (!d.containerPath.empty()) parts.push_back("volume:" + d.containerPath + (d.readOnly ? ":ro" : ":rw"));
  }
  if (r.revocable) parts.push_back("revocable");
  if (r.shared) parts.push_back("shared");
  if (parts.empty()) return "";
  std::string out = "{";
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += ',';
    out += parts[i];
  }
  return out + "}";
}

std::string valueText(const Resource& r) {
  if (const auto* s = std::get_if<Scalar>(&r.value)) return s->toString();
  if (const auto* ranges = std::get_if<RangeSet>(&r.value)) return ranges->toString();
  std::string out = "{";
  bool first = true;
  for (const std::string& item : std::get<ItemSet>(r.value)) {
    if (!first) out += ',';
    first = false;
    out += item;
  }
  return out + "}";
}

}  // namespace

std::ostream& operator<<(std::ostream& os, const Resource& r) {
  os << r.name;
  if (r.isReserved()) {
    os << '(';
    for (size_t i = 0; i < r.reservations.size(); ++i) {
      if (i > 0) os << '>';
      os << reservationText(r.reservations[i]);
    }
    os << ')';
  }
  return os << metadataText(r) << ':' << valueText(r);
}

std::string Resources::toString() const {
  std::ostringstream os;
  os << *this;
  return os.str();
}

std::ostream& operator<<(std::ostream& os, const Resources& resources) {
  bool first = true;
  for (const Resource& r : resources) {
    if (!first) os << ';';
    first = false;
    os << r;
  }
  return os;
}

}  // namespace agora
