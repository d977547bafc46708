// Agent resource detection: machine facts (the only part that touches the
// operating system) and the Mesos rule that turns them into resources.

#include <sys/statvfs.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "agora/common/resources.hpp"
#include "agora/common/role.hpp"

namespace agora {

namespace {

constexpr uint64_t kMegabyte = 1024 * 1024;
constexpr uint64_t kGigabyte = 1024 * kMegabyte;

// Total RAM from /proc/meminfo ("MemTotal:  16318460 kB"), else sysinfo().
std::optional<uint64_t> totalMemory() {
  std::ifstream meminfo("/proc/meminfo");
  std::string key;
  uint64_t kilobytes = 0;
  std::string unit;
  while (meminfo >> key >> kilobytes >> unit) {
    if (key == "MemTotal:" && unit == "kB") return kilobytes * 1024;
  }
  struct sysinfo info {};
  if (::sysinfo(&info) == 0) return static_cast<uint64_t>(info.totalram) * info.mem_unit;
  return std::nullopt;
}

// Mesos: whole - reserve if whole >= 2 * reserve, else half; in whole MB.
Scalar megabytesLess(uint64_t bytes, uint64_t reserve) {
  uint64_t usable = bytes >= 2 * reserve ? bytes - reserve : bytes / 2;
  return Scalar::fromMillis(static_cast<int64_t>(usable / kMegabyte) * Scalar::kScale);
}

}  // namespace

MachineFacts detectMachineFacts(const std::string& workDir) {
  MachineFacts facts;
  long cpus = ::sysconf(_SC_NPROCESSORS_ONLN);
  if (cpus > 0) facts.cpus = static_cast<uint64_t>(cpus);
  facts.memoryBytes = totalMemory();
  struct statvfs fs {};
  if (::statvfs(workDir.c_str(), &fs) == 0) facts.diskBytes = static_cast<uint64_t>(fs.f_blocks) * fs.f_frsize;
  return facts;
}

Result<Resources> missingResources(const Resources& given, const MachineFacts& facts, std::string_view defaultRole) {
  AGORA_RETURN_IF_ERROR(validateRole(defaultRole).withContext("Invalid default role"));
  std::vector<Reservation> reservations;
  if (defaultRole != kDefaultRole) {
    reservations.push_back({Reservation::Type::kStatic, std::string(defaultRole), "", {}});
  }
  Resources out;
  auto detect = [&](const char* name, std::variant<Scalar, RangeSet, ItemSet> value) {
    if (!given.named(name).empty()) return;
    Resource r;
    r.name = name;
    r.reservations = reservations;
    r.value = std::move(value);
    out.add(r);
  };
  detect("cpus", Scalar::fromMillis(static_cast<int64_t>(facts.cpus.value_or(1)) * Scalar::kScale));
  detect("mem", facts.memoryBytes ? megabytesLess(*facts.memoryBytes, kGigabyte)
                                  : Scalar::fromMillis(1024 * Scalar::kScale));
  detect("disk", facts.diskBytes ? megabytesLess(*facts.diskBytes, 5 * kGigabyte)
                                 : Scalar::fromMillis(10 * 1024 * Scalar::kScale));
  detect("ports", RangeSet{{31000, 32000}});
  return out;
}

Result<Resources> detectMissingResources(const Resources& given, const std::string& workDir,
                                         std::string_view defaultRole) {
  return missingResources(given, detectMachineFacts(workDir), defaultRole);
}

}  // namespace agora
