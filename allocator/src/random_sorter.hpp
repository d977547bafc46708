#pragma once

// Weighted random order (Mesos's "random" sorter): at every walk, siblings
// are shuffled with probability proportional to their weights, so over many
// walks a node with weight 2 comes first twice as often as one with weight 1.
// Allocations do not influence the order. Seeded: a run is reproducible.

#include <random>

#include "sorter_tree.hpp"

namespace agora::allocator {

class RandomSorter final : public SorterTree {
 public:
  RandomSorter(std::shared_ptr<ResourceNames> names, uint64_t seed)
      : SorterTree(std::move(names)), rng_(seed) {}

  void walk(SorterVisitor visitor) override;

 protected:
  void childAdded(SorterNode*, SorterNode*) override {}
  void childRemoving(SorterNode*, SorterNode*) override {}
  void keyChanged(SorterNode*) override {}
  void totalChanged() override {}

 private:
  bool walkNode(SorterNode* node, SorterVisitor visitor);

  std::mt19937_64 rng_;
};

}  // namespace agora::allocator
