#pragma once

// The sorter seam: the policy that orders clients for the allocator.
//
// The allocator keeps two levels of sorters, as Mesos does: one over roles
// (clients are role paths such as "eng/backend", forming a tree) and one per
// role over its frameworks (flat client names). A sorter knows, per client,
// how much it has been allocated and how often, and answers "in which order
// should clients be offered resources". Every implementation runs through the
// same typed test suite (tests/unit/allocator/sorter_test.cpp, after Mesos's
// CommonSorterTest).
//
// Tree. A client path "a/b/c" creates internal nodes "a" and "a/b" as needed.
// A path may be both a client and the parent of other clients ("eng" and
// "eng/db"); the client then competes with its children's subtrees as a
// sibling of them (Mesos's virtual "." leaf). An internal node's allocation
// is the sum over its subtree. The order is hierarchical: siblings are
// ordered, and the result is the pre-order list of active leaves.
//
// Quantities are dense `QuantityVector`s over a `ResourceNames` table the
// sorter shares with its caller; the caller passes scalar resources only.
// The ResourceQuantities overloads are conveniences for tests and cold paths.
//
// Deliberate difference from Mesos: the sorter does not track allocations
// per agent. The allocator already owns per-agent bookkeeping, and keeping a
// second copy in every sorter is what made Mesos's sorter hot.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "agora/allocator/quantity_vector.hpp"
#include "agora/common/function_ref.hpp"
#include "agora/common/quantities.hpp"

namespace agora::allocator {

// Stable handle for a client while it is present; reused after remove().
using ClientId = uint32_t;

// What a walk calls per client; returns false to stop. A reference to the
// caller's callable (no allocation per walk: the allocator walks twice per
// agent per cycle).
using SorterVisitor = FunctionRef<bool(ClientId)>;

class Sorter {
 public:
  virtual ~Sorter() = default;

  // --- Clients ----------------------------------------------------------------

  // Adds client `path`, inactive, with nothing allocated and a count of 0.
  // Precondition: !contains(path); path non-empty, '/'-separated components
  // none of them empty.
  virtual ClientId add(std::string_view path) = 0;
  // Removes client `path`; its allocation leaves its ancestors' sums.
  // Precondition: contains(path).
  virtual void remove(std::string_view path) = 0;
  virtual bool contains(std::string_view path) const = 0;
  virtual std::optional<ClientId> find(std::string_view path) const = 0;
  // Precondition: `client` is present.
  virtual const std::string& path(ClientId client) const = 0;
  // Number of clients.
  virtual size_t count() const = 0;

  // Only active clients appear in sort()/walk(). Idempotent.
  // Precondition: contains(path).
  virtual void activate(std::string_view path) = 0;
  virtual void deactivate(std::string_view path) = 0;
  virtual bool isActive(std::string_view path) const = 0;

  // Sets the weight of the node at `path` (a client or an internal node,
  // present now or added later). Precondition: weight > 0. Default 1.
  virtual void updateWeight(std::string_view path, double weight) = 0;

  // --- Totals -----------------------------------------------------------------

  // The denominator of every share: the whole cluster's scalar totals.
  // Precondition for remove: the total contains `quantities`.
  virtual void addTotal(const QuantityVector& quantities) = 0;
  virtual void removeTotal(const QuantityVector& quantities) = 0;
  virtual const QuantityVector& total() const = 0;

  // --- Allocations ------------------------------------------------------------

  // Records that `client` was allocated `quantities`; also increments its
  // (and its ancestors') allocation count, which never decreases.
  // Precondition: `client` is present.
  virtual void allocated(ClientId client, const QuantityVector& quantities) = 0;
  // Returns `quantities` of the client's allocation.
  // Precondition: allocation(client).contains(quantities).
  virtual void unallocated(ClientId client, const QuantityVector& quantities) = 0;
  virtual const QuantityVector& allocation(ClientId client) const = 0;
  virtual uint64_t allocationCount(ClientId client) const = 0;
  // Weighted dominant share: max over names of allocation/total, / weight.
  virtual double share(ClientId client) const = 0;

  // --- Order --------------------------------------------------------------------

  // Visits active clients in order until `visitor` returns false. The
  // visitor may call allocated() on the visited client; the walk then goes
  // on from where it was with the new order, and visits every active client
  // at most once. Other mutations during a walk are not allowed.
  virtual void walk(SorterVisitor visitor) = 0;

  // The active clients' paths in order (a walk to the end).
  std::vector<std::string> sort();

  // A hint for a caller about to walk again: starts loading the state of
  // the clients the next walks would most likely visit first (at most
  // out.size() of them), writes them to `out` in that order and returns
  // how many. Never reads a client's own state (that is what it asks the
  // cache to load), so it may be wrong; 0 when it cannot tell cheaply.
  virtual size_t prefetchFirst(std::span<ClientId> /*out*/) const { return 0; }

  // --- Marks --------------------------------------------------------------------

  // A mark selects a subset of clients for walkMarked() (the allocator marks
  // the roles short of their quota guarantee). Clients start unmarked.
  // Idempotent. Precondition: `client` is present; not during a walk.
  virtual void setMarked(ClientId client, bool marked) = 0;
  virtual bool isMarked(ClientId client) const = 0;
  // Exactly walk() with a visitor that skips unmarked clients: the same
  // marked clients in the same order, with the same rules for allocations
  // during the walk. A policy may do it without stepping over the unmarked
  // ones (DRF does), which is the point.
  virtual void walkMarked(SorterVisitor visitor) = 0;

  // --- Conveniences over names ------------------------------------------------

  void allocated(std::string_view path, const ResourceQuantities& quantities);
  void unallocated(std::string_view path, const ResourceQuantities& quantities);
  ResourceQuantities allocation(std::string_view path) const;
  uint64_t allocationCount(std::string_view path) const;
  void addTotal(const ResourceQuantities& quantities);
  void removeTotal(const ResourceQuantities& quantities);

  ResourceNames& names() { return *names_; }
  const ResourceNames& names() const { return *names_; }

 protected:
  explicit Sorter(std::shared_ptr<ResourceNames> names)
      : names_(names ? std::move(names) : std::make_shared<ResourceNames>()) {}

 private:
  ClientId checkedFind(std::string_view path) const;

  std::shared_ptr<ResourceNames> names_;
};

enum class SorterKind {
  // Dominant resource fairness: lowest weighted share first, ties by lower
  // allocation count, then by name.
  kDrf,
  // Weighted random order at every walk (Mesos's "random" sorter); seeded,
  // so a run is reproducible.
  kRandom,
};

// `names` may be null: the sorter then owns a table of its own.
std::unique_ptr<Sorter> makeSorter(SorterKind kind, std::shared_ptr<ResourceNames> names = nullptr,
                                   uint64_t seed = 0);

}  // namespace agora::allocator
