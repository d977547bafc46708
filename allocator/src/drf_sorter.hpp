#pragma once

// Dominant resource fairness with incremental share keys.
//
// Every internal node keeps its children's keys sorted by (weighted
// dominant share, allocation count, name rank). An allocation re-keys only
// the nodes on the path from the client to the root: each that is out of
// place with its new key leaves its parent's set and goes back in at its
// place. Only a change of the cluster total (which changes every share)
// marks the whole tree dirty; the next walk then recomputes every key and
// rebuilds the sets.
//
// The sets are sorted double-ended queues of keys, found by binary search.
// DRF's common move is from the front (the client a walk just gave
// something to) to the back (its share now the largest): two O(1) deque
// operations on contiguous keys, where a balanced tree rebalances twice and
// chases pointers through nodes a cycle over thousands of agents has long
// evicted. Other moves shift the shorter side: O(siblings) at worst, a
// memmove of 32-byte keys.
//
// Marks: each internal node also keeps, in a second set with the same keys,
// the children that have marked leaves below them. walkMarked() walks those
// sets, so it costs O(depth × siblings) at worst per marked client visited
// however many unmarked clients sort before it (the allocator's quota stage
// would otherwise step over every role whose guarantee is already met).

#include <map>
#include <string>

#include "sorter_tree.hpp"

namespace agora::allocator {

class DrfSorter final : public SorterTree {
 public:
  explicit DrfSorter(std::shared_ptr<ResourceNames> names) : SorterTree(std::move(names)) {}

  void walk(SorterVisitor visitor) override;
  void walkMarked(SorterVisitor visitor) override;
  size_t prefetchFirst(std::span<ClientId> out) const override;

 protected:
  void childAdded(SorterNode* parent, SorterNode* child) override;
  void childRemoving(SorterNode* parent, SorterNode* child) override;
  void keyChanged(SorterNode* node) override;
  void totalChanged() override { dirty_ = true; }
  void markedChanged(SorterNode* node) override;

 private:
  void resort(SorterNode* node);
  // Files `node` under its current key in its parent's sets.
  void refreshKey(SorterNode* node);
  // Names' ranks: the tie-break of ShareOrder, in name order.
  void acquireRank(SorterNode* node);
  void releaseRank(const SorterNode* node);
  void renumber();
  void startWalk(SorterVisitor visitor, bool markedOnly);
  void insertMarked(SorterNode* node);
  void eraseMarked(SorterNode* node);
  bool walkNode(SorterNode* node, SorterVisitor visitor, bool markedOnly);

  // Every key is stale: the sets are left alone until the next walk
  // rebuilds them from the children vectors.
  bool dirty_ = false;
  uint64_t stamp_ = 0;
  // Every name of a node in the tree (a name may repeat under different
  // parents), with room between ranks so that a new name usually takes one
  // between its neighbours' without renumbering the others.
  struct NameRank {
    uint32_t rank = 0;
    uint32_t uses = 0;
  };
  std::map<std::string, NameRank, std::less<>> ranks_;
};

}  // namespace agora::allocator
