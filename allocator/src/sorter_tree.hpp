#pragma once

// The client tree every sorter policy shares: nodes, virtual leaves, active
// counts, allocation sums and counts, weights. A policy decides the order of
// each node's children (the hooks below) and how to walk them.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "agora/allocator/sorter.hpp"
#include "sorted_keys.hpp"

namespace agora::allocator {

struct SorterNode;

struct SorterNode {
  enum class Kind { kInternal, kLeaf, kVirtualLeaf };

  // Hot: what every walk and every allocation reads, first and together
  // (up to `name`), so that a prefetch of the likely next client asks for
  // two lines, not all of them.
  Kind kind = Kind::kLeaf;
  ClientId client = 0;        // Leaves only.
  uint32_t activeLeaves = 0;  // Active leaves in this subtree (self included).
  uint32_t rank = 0;          // Of `name`, by the policy (DRF's tie-break).
  uint64_t walkStamp = 0;     // Last walk that visited this node.
  uint64_t count = 0;         // Allocation count, sum over the subtree.
  double weight = 1.0;
  SorterNode* parent = nullptr;
  bool inMarkedSet = false;
  QuantityVector allocation;  // Sum over the subtree.
  // The key this node is filed under in its parent's ordered sets (the
  // policy's), which lags a change of its fields until keyChanged.
  ShareKey placed;

  std::string name;  // Last path component; "." for a virtual leaf.
  std::string path;  // Full path; a virtual leaf has its parent's path.
  // Internal nodes only, in arrival order; every child's indexInParent is
  // its position here.
  std::vector<SorterNode*> children;
  uint32_t indexInParent = 0;
  // The children's keys by ShareOrder, kept by policies that want them
  // sorted.
  using OrderedSet = SortedKeys;
  OrderedSet ordered;
  // The children with marked leaves below them, by ShareOrder (the same
  // keys as `ordered`, so their relative order is the same); inMarkedSet
  // tells whether this node is in its parent's.
  OrderedSet orderedMarked;
  SorterNode* virtualLeaf = nullptr;  // Internal nodes that are also a client.

  bool active = false;        // Leaves only.
  bool marked = false;        // Leaves only.
  uint32_t markedLeaves = 0;  // Marked leaves in this subtree (self included).

  bool isLeaf() const { return kind != Kind::kInternal; }
  // The key for the policy's ordered sets, with the share it computed.
  ShareKey keyWith(double share) { return ShareKey{share, count, rank, isLeaf() ? client : kNoClient, this}; }
  size_t hotBytes() const {
    return reinterpret_cast<const char*>(&name) - reinterpret_cast<const char*>(this);
  }
};

class SorterTree : public Sorter {
 public:
  explicit SorterTree(std::shared_ptr<ResourceNames> names);
  ~SorterTree() override;

  ClientId add(std::string_view path) override;
  void remove(std::string_view path) override;
  bool contains(std::string_view path) const override;
  std::optional<ClientId> find(std::string_view path) const override;
  const std::string& path(ClientId client) const override;
  size_t count() const override { return clientCount_; }

  void activate(std::string_view path) override;
  void deactivate(std::string_view path) override;
  bool isActive(std::string_view path) const override;
  void updateWeight(std::string_view path, double weight) override;

  void addTotal(const QuantityVector& quantities) override;
  void removeTotal(const QuantityVector& quantities) override;
  const QuantityVector& total() const override { return total_; }

  void allocated(ClientId client, const QuantityVector& quantities) override;
  void unallocated(ClientId client, const QuantityVector& quantities) override;
  const QuantityVector& allocation(ClientId client) const override;
  uint64_t allocationCount(ClientId client) const override;
  double share(ClientId client) const override;

  void setMarked(ClientId client, bool marked) override;
  bool isMarked(ClientId client) const override;
  // The plain filter over walk(); DRF overrides it with an indexed walk.
  void walkMarked(SorterVisitor visitor) override;

  using Sorter::addTotal;
  using Sorter::allocated;
  using Sorter::allocation;
  using Sorter::allocationCount;
  using Sorter::removeTotal;
  using Sorter::unallocated;

 protected:
  // Policy hooks. `child` is already linked to `parent` (last position) when
  // childAdded runs, and still linked when childRemoving runs.
  virtual void childAdded(SorterNode* parent, SorterNode* child) = 0;
  virtual void childRemoving(SorterNode* parent, SorterNode* child) = 0;
  // `node`'s allocation, count or weight has changed (every node from the
  // leaf up to the root's children, for an allocation; each before its
  // parent changes). The node is still filed under its old key.
  virtual void keyChanged(SorterNode* node) = 0;
  virtual void totalChanged() = 0;
  // `node`'s markedLeaves went from 0 to 1 or from 1 to 0 (every such node
  // from the leaf up to the root's children).
  virtual void markedChanged(SorterNode* /*node*/) {}

  double computeShare(const SorterNode* node) const;
  SorterNode* root() { return root_.get(); }
  const SorterNode* root() const { return root_.get(); }
  SorterNode* clientNode(ClientId client) const;
  void eraseChild(SorterNode* parent, uint32_t index);
  void insertChild(SorterNode* parent, SorterNode* child, uint32_t index);

 private:
  SorterNode* internalNode(std::string_view path, SorterNode* parent, std::string_view name);
  SorterNode* checked(std::string_view path) const;
  void setActive(SorterNode* leaf, bool active);
  void unlink(SorterNode* node);
  double weightOf(std::string_view path) const;
  void refreshInverseTotal();

  std::unique_ptr<SorterNode> root_;
  // Every node by path: internal nodes and plain leaves. A virtual leaf is
  // reached through its parent, whose path it shares.
  std::unordered_map<std::string, SorterNode*> byPath_;
  std::vector<SorterNode*> clients_;  // By ClientId; null when free.
  std::vector<ClientId> freeIds_;
  size_t clientCount_ = 0;
  std::unordered_map<std::string, double> weights_;
  QuantityVector total_;
  std::vector<double> inverseTotal_;  // 1 / total per name; 0 where the total is 0.
};

}  // namespace agora::allocator
