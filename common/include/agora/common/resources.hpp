#pragma once

// The resource model: what an agent has, what is offered, reserved, allocated.
//
// A `Resource` is one "slot": a name (cpus, mem, disk, gpus, ports, or any
// operator-defined name), the metadata that makes the slot distinct (the
// reservation stack, the allocation role, disk/volume info, revocable,
// shared) and a value (a fixed-point scalar, a set of ranges, or a set of
// items). `Resources` is a collection of slots in which no two slots have the
// same name and metadata: adding merges equal slots (scalars add, ranges
// union and coalesce, sets union) and subtracting splits them.
//
// Reservations are a stack (Mesos "reservation refinement"): the first entry
// is STATIC (from the agent's --resources) or DYNAMIC (RESERVE by a framework
// or an operator); each later entry is DYNAMIC and reserves for a strict
// sub-role of the entry below ("eng" -> "eng/db"). The top entry is the
// owner. Reserved resources are allocatable only to the owner role and its
// sub-roles; unreserved ones to every role.
//
// Wire form: agora::v1::Resource (Mesos v1 names and numbers), converted at
// the boundary by fromProto/toProto. Text form (agent --resources):
//   cpus:4;mem:2048;ports:[31000-32000,33000-33100];cpus(spark):8;disks:{a,b}
// JSON form: an array of Resource objects, inline or from file:///path.

#include <atomic>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <google/protobuf/repeated_field.h>

#include "agora/common/quantities.hpp"
#include "agora/common/result.hpp"
#include "agora/v1/agora.pb.h"

namespace agora {

// Inclusive range [begin, end] of non-negative integers (ports).
struct Range {
  uint64_t begin = 0;
  uint64_t end = 0;
  bool operator==(const Range&) const = default;
};

// A set of ranges, always sorted, disjoint and coalesced: adding [1-3] and
// [4-6] stores [1-6]. Subtracting can split a range in two.
class RangeSet {
 public:
  RangeSet() = default;
  RangeSet(std::initializer_list<Range> ranges);

  // Adds [begin, end]. Precondition: begin <= end (validated by parsers).
  void add(Range range);
  void add(const RangeSet& other);
  // Removes whatever of `other` is present (absent parts are ignored).
  void subtract(const RangeSet& other);
  bool contains(const RangeSet& other) const;
  bool contains(uint64_t value) const;

  bool empty() const { return ranges_.empty(); }
  // Number of integers covered ([31000-32000] has 1001).
  uint64_t count() const;
  const std::vector<Range>& ranges() const { return ranges_; }

  bool operator==(const RangeSet&) const = default;
  // "[31000-32000,33000-33100]"; single values print as "[5-5]".
  std::string toString() const;

 private:
  std::vector<Range> ranges_;  // Sorted by begin, disjoint, never adjacent.
};

using ItemSet = std::set<std::string>;

struct Reservation {
  enum class Type { kStatic, kDynamic };

  Type type = Type::kStatic;
  std::string role;
  std::string principal;  // Empty when none.
  std::vector<std::pair<std::string, std::string>> labels;

  bool operator==(const Reservation&) const = default;
};

// Persistent volume metadata on a disk resource (Mesos DiskInfo).
struct DiskInfo {
  // Where the disk lives (Mesos DiskInfo.Source): the agent's work dir
  // (ROOT, the default), a directory (PATH) or a whole mounted filesystem
  // (MOUNT, used all or nothing: never split or merged).
  enum class Source { kRoot, kPath, kMount };

  std::string persistenceId;         // Empty for plain disk.
  std::string persistencePrincipal;
  std::string containerPath;         // Where the volume is mounted in the sandbox.
  bool readOnly = false;
  Source source = Source::kRoot;
  std::string sourceRoot;            // PATH and MOUNT: the directory.

  bool operator==(const DiskInfo&) const = default;
};

struct Resource {
  enum class Type { kScalar, kRanges, kSet };

  std::string name;
  std::vector<Reservation> reservations;      // Bottom first; empty = unreserved.
  std::optional<std::string> allocationRole;  // Set while offered or allocated.
  std::optional<DiskInfo> disk;
  bool revocable = false;
  bool shared = false;
  std::variant<Scalar, RangeSet, ItemSet> value;

  Type type() const { return static_cast<Type>(value.index()); }
  bool isReserved() const { return !reservations.empty(); }
  // The owner: the top reservation's role, or "*" when unreserved.
  std::string_view role() const;
  bool isDynamicallyReserved() const;  // Top of the stack is DYNAMIC.
  bool isPersistentVolume() const { return disk && !disk->persistenceId.empty(); }
  bool isEmpty() const;                // Zero scalar, no ranges, no items.
  // Indivisible: a persistent volume or a MOUNT disk. Atomic resources are
  // never merged or split; a collection may hold the same one twice (a
  // shared volume used by two tasks) and subtracts only a whole equal copy.
  bool isAtomic() const;

  // Same name, type and metadata, and not atomic: the two may be merged.
  bool sameSlot(const Resource& other) const;
  bool operator==(const Resource&) const = default;
};

namespace detail {

// The slots of a `Resources` value, shared copy-on-write: copying a
// `Resources` shares the slots (one reference count increment), and the
// first change to a shared copy gives it slots of its own. This is what lets
// the allocator hand out an offer and keep its own allocation entry without
// copying every slot (issue 3); callers see plain value semantics.
//
// Thread safety is that of a value: distinct `Resources` objects may be used
// from distinct threads even when they share slots (the count is atomic, and
// a writer owns the slots only after an acquire load of a count of one).
class SharedSlots {
 public:
  SharedSlots() = default;
  SharedSlots(const SharedSlots& other) noexcept : rep_(other.rep_) {
    if (rep_ != nullptr) rep_->refs.fetch_add(1, std::memory_order_relaxed);
  }
  SharedSlots(SharedSlots&& other) noexcept : rep_(other.rep_) { other.rep_ = nullptr; }
  SharedSlots& operator=(SharedSlots other) noexcept {
    std::swap(rep_, other.rep_);
    return *this;
  }
  ~SharedSlots() { release(); }

  // Read access; an empty vector when there are no slots.
  const std::vector<Resource>& get() const { return rep_ != nullptr ? rep_->slots : noSlots(); }
  // get().empty() without reaching for the shared empty vector (a function
  // static, guarded on every call): the allocator asks after every offer.
  bool empty() const { return rep_ == nullptr || rep_->slots.empty(); }
  // Write access: slots of its own first (a copy if they are shared).
  std::vector<Resource>& mut();
  // Both hold the very same slots (hence equal values). Two empty values
  // without slots count as the same.
  bool sameStorage(const SharedSlots& other) const { return rep_ == other.rep_; }
  // A hint: start loading the shared header (through which the slots are
  // found) into the cache.
  void prefetchHeader() const {
    if (rep_ != nullptr) __builtin_prefetch(rep_);
  }
  void reset() { release(); }

 private:
  struct Rep {
    std::atomic<uint32_t> refs{1};
    std::vector<Resource> slots;
  };
  static const std::vector<Resource>& noSlots();
  void release() noexcept {
    if (rep_ != nullptr && rep_->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete rep_;
    rep_ = nullptr;
  }

  Rep* rep_ = nullptr;
};

}  // namespace detail

class Resources {
 public:
  Resources() = default;

  // --- Parsing and conversion -------------------------------------------------

  // The agent's --resources value: a JSON array of Resource objects if it
  // starts with '[', the contents of a file for "file://PATH" (JSON or text),
  // the text form otherwise. Items without a role get `defaultRole` ("*" is
  // unreserved; another role makes a static reservation). Validated as
  // command-line resources: no dynamic reservations, no persistent volumes,
  // no revocable resources, one type per name, valid roles, no negative, NaN
  // or infinite scalars, no inverted or overlapping ranges, no duplicate set
  // items. Every error names the offending item, e.g.
  //   "Invalid resource 'cpus:-1': scalar must not be negative".
  static Result<Resources> parse(std::string_view flagValue, std::string_view defaultRole = "*");

  // Wire resources (offers, tasks, operations). Accepts both the
  // `reservations` stack and the pre-refinement `role` + `reservation`
  // format; validates values and the reservation stack.
  static Result<Resources> fromProto(const google::protobuf::RepeatedPtrField<v1::Resource>& resources);
  static Result<Resources> fromProto(const v1::Resource& resource);

  // Always the `reservations` stack format (post-refinement).
  void toProto(google::protobuf::RepeatedPtrField<v1::Resource>* out) const;
  google::protobuf::RepeatedPtrField<v1::Resource> toProto() const;

  // Text form. Unreserved and statically reserved resources print exactly in
  // the --resources syntax, so parse(toString()) == *this for them. Other
  // metadata prints readably (not parseable), e.g.
  //   cpus(eng/db,dynamic:ops):1          dynamic, by principal "ops"
  //   cpus(eng>eng/db,dynamic):1          static "eng" refined to "eng/db"
  //   disk(eng){persistence:v1,volume:data:rw}:64   other metadata in braces
  //   cpus{allocated:dev}:1
  std::string toString() const;

  // --- Collection ---------------------------------------------------------------

  bool empty() const { return items_.empty(); }
  size_t size() const { return items_.get().size(); }
  auto begin() const { return items_.get().begin(); }
  auto end() const { return items_.get().end(); }
  // Hints for loops over many values, one after the other. The header
  // first (the slots are found through it), then, a step later, the lines
  // that allocate() writes: each slot's allocation role and nothing else
  // (asking for whole slots costs more than it saves: a cycle over 10,000
  // agents is bound by how many lines it moves).
  void prefetchHeader() const { items_.prefetchHeader(); }
  void prefetchAllocationRoles() const {
    for (const Resource& r : items_.get()) {
      const auto* role = reinterpret_cast<const char*>(&r.allocationRole);
      __builtin_prefetch(role, 1);
      __builtin_prefetch(role + sizeof(r.allocationRole) - 1, 1);
    }
  }

  // Adds one slot, merging with an equal slot. Empty values are dropped.
  // Precondition: `resource` is valid (came through a parser or was built
  // by code that keeps the rules).
  void add(const Resource& resource);
  // Removes what it can of `resource` from the equal slot; amounts never go
  // below zero and emptied slots disappear.
  void subtract(const Resource& resource);

  Resources& operator+=(const Resources& other);
  Resources& operator-=(const Resources& other);
  Resources operator+(const Resources& other) const;
  Resources operator-(const Resources& other) const;

  // Every slot of `other` is contained in the equal slot here.
  bool contains(const Resources& other) const;
  bool contains(const Resource& other) const;
  // contains(), comparing slots as if neither had an allocation role: a
  // refuse filter keeps declined resources as they were offered and is
  // matched against unallocated ones, without a copy of either.
  bool containsIgnoringAllocation(const Resources& other) const;

  // Equal as collections of slots (order does not matter).
  bool operator==(const Resources& other) const;
  // The very same slots (a copy of one another that neither changed since):
  // equal, known without comparing. False does not mean different.
  bool sharesSlotsWith(const Resources& other) const { return !empty() && items_.sameStorage(other.items_); }

  // --- Views ----------------------------------------------------------------------

  Resources filter(const std::function<bool(const Resource&)>& predicate) const;
  Resources unreserved() const;
  Resources reserved() const;
  // Reserved with `role` as owner (top of stack), exactly.
  Resources reservedTo(std::string_view role) const;
  // What an allocation to `role` may use: unreserved, plus reserved to
  // `role` or to any of its ancestors.
  Resources allocatableTo(std::string_view role) const;
  // Owner role -> resources reserved to it.
  std::map<std::string, Resources> reservations() const;
  Resources scalars() const;
  Resources revocable() const;
  Resources nonRevocable() const;
  Resources persistentVolumes() const;
  Resources named(std::string_view name) const;

  // Copy with every slot's allocation role set (offers) or cleared. On an
  // rvalue the slots are changed in place when they are not shared, and a
  // value that already has the wanted roles is returned as it is (sharing
  // its slots).
  Resources allocate(std::string_view role) const&;
  Resources allocate(std::string_view role) &&;
  Resources unallocate() const&;
  Resources unallocate() &&;
  // The allocation roles present (an offer has exactly one).
  std::set<std::string> allocationRoles() const;

  // --- Reservation stack ----------------------------------------------------------

  // Pushes `reservation` on every slot. Errors: reserving for "*", a static
  // reservation on top of another, a dynamic refinement whose role is not a
  // strict sub-role of the current owner, an invalid role, a revocable slot.
  Result<Resources> pushReservation(const Reservation& reservation) const;
  // Pops the top reservation of every slot. Errors: a slot that is
  // unreserved or whose top reservation is static, a persistent volume
  // (destroy it first).
  Result<Resources> popReservation() const;
  // Copy with every reservation removed.
  Resources toUnreserved() const;

  // --- Quantities -----------------------------------------------------------------

  // Sum per name over all slots: scalars add, ranges and sets count elements.
  ResourceQuantities quantities() const;
  // Same, scalar resources only (what DRF shares and quota use).
  ResourceQuantities scalarQuantities() const;
  // Total scalar amount of `name` over all slots (zero when absent).
  Scalar scalar(std::string_view name) const;
  // Union of the ranges of `name` over all slots.
  RangeSet ranges(std::string_view name) const;
  // Union of the items of `name` over all slots.
  ItemSet items(std::string_view name) const;

 private:
  bool uniformAllocationRole() const;  // Every slot has the same allocationRole.
  const std::vector<Resource>& slots() const { return items_.get(); }

  detail::SharedSlots items_;  // No two slots with sameSlot() true; none empty.
};

std::ostream& operator<<(std::ostream& os, const Resource& resource);
std::ostream& operator<<(std::ostream& os, const Resources& resources);

// Validates one wire resource (values and reservation stack). Used by
// fromProto and by the master's offer-operation validation.
Status validateResource(const v1::Resource& resource);

// Agent resource detection for names absent from --resources (Mesos rules):
// cpus = online CPUs; mem = RAM - 1 GB if RAM >= 2 GB else RAM / 2; disk =
// filesystem of `workDir` - 5 GB if >= 10 GB else half; ports =
// [31000-32000]. Detected resources get `defaultRole`. A name counts as
// given whatever its role (`cpus(spark):8` alone means no detected cpus).
// Returns only the detected resources: the agent's total is `given` plus
// the result. Errors: an invalid `defaultRole`.
Result<Resources> detectMissingResources(const Resources& given, const std::string& workDir,
                                         std::string_view defaultRole = "*");

// What detection reads from the machine; each fact is absent when it could
// not be read (Mesos fallbacks then apply: 1 cpu, 1 GB mem, 10 GB disk).
struct MachineFacts {
  std::optional<uint64_t> cpus;         // Online CPUs.
  std::optional<uint64_t> memoryBytes;  // Total RAM.
  std::optional<uint64_t> diskBytes;    // Size of the filesystem holding the work dir.
};

// Reads the facts (sysconf, /proc/meminfo or sysinfo, statvfs of `workDir`).
MachineFacts detectMachineFacts(const std::string& workDir);

// The rule of detectMissingResources over given facts, without touching the
// machine (what tests exercise).
Result<Resources> missingResources(const Resources& given, const MachineFacts& facts,
                                   std::string_view defaultRole = "*");

}  // namespace agora
