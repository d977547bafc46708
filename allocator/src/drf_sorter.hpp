#pragma once

// Dominant resource fairness with incremental share keys.
//
// Every internal node keeps its children in an ordered set by (weighted
// dominant share, allocation count, name). An allocation re-keys only the
// nodes on the path from the client to the root: each leaves its parent's
// set, gets its new key and goes back in, O(depth × log siblings). Only a
// change of the cluster total (which changes every share) marks the whole
// tree dirty; the next walk then recomputes every key and rebuilds the sets.
//
// Marks: each internal node also keeps, in a second set with the same keys,
// the children that have marked leaves below them. walkMarked() walks those
// sets, so it costs O(depth × log siblings) per marked client visited
// however many unmarked clients sort before it (the allocator's quota stage
// would otherwise step over every role whose guarantee is already met).

#include "sorter_tree.hpp"

namespace agora::allocator {

class DrfSorter final : public SorterTree {
 public:
  explicit DrfSorter(std::shared_ptr<ResourceNames> names) : SorterTree(std::move(names)) {}

  void walk(SorterVisitor visitor) override;
  void walkMarked(SorterVisitor visitor) override;

 protected:
  void childAdded(SorterNode* parent, SorterNode* child) override;
  void childRemoving(SorterNode* parent, SorterNode* child) override;
  void keyChanging(SorterNode* node) override;
  void keyChanged(SorterNode* node) override;
  void totalChanged() override { dirty_ = true; }
  void markedChanged(SorterNode* node) override;

 private:
  void resort(SorterNode* node);
  void startWalk(SorterVisitor visitor, bool markedOnly);
  void insertMarked(SorterNode* node);
  void eraseMarked(SorterNode* node);
  bool walkNode(SorterNode* node, SorterVisitor visitor, bool markedOnly);

  // Every key is stale: the sets are left alone until the next walk
  // rebuilds them from the children vectors.
  bool dirty_ = false;
  uint64_t stamp_ = 0;
};

}  // namespace agora::allocator
