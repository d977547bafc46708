#pragma once

// Dominant resource fairness with incremental share keys.
//
// Every internal node keeps its children sorted by (weighted dominant share,
// allocation count, name). An allocation re-keys only the nodes on the path
// from the client to the root, and each moves within its parent's sorted
// vector (a binary search and a short memmove). Only a change of the cluster
// total (which changes every share) marks the whole tree dirty; the next
// walk then recomputes every key and re-sorts once.

#include "sorter_tree.hpp"

namespace agora::allocator {

class DrfSorter final : public SorterTree {
 public:
  explicit DrfSorter(std::shared_ptr<ResourceNames> names) : SorterTree(std::move(names)) {}

  void walk(const std::function<bool(ClientId)>& visitor) override;

 protected:
  void childAdded(SorterNode* parent, SorterNode* child) override;
  void childRemoving(SorterNode*, SorterNode*) override {}
  void keyChanged(SorterNode* node) override;
  void totalChanged() override { dirty_ = true; }

 private:
  static bool less(const SorterNode* a, const SorterNode* b);
  void reposition(SorterNode* node);
  void resort(SorterNode* node);
  bool walkNode(SorterNode* node, const std::function<bool(ClientId)>& visitor);

  bool dirty_ = false;  // Every key is stale: resort before the next walk.
  uint64_t stamp_ = 0;
};

}  // namespace agora::allocator
