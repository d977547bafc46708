#include "random_sorter.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

namespace agora::allocator {

void RandomSorter::walk(SorterVisitor visitor) { walkNode(root(), visitor); }

bool RandomSorter::walkNode(SorterNode* node, SorterVisitor visitor) {
  // Weighted sampling without replacement (Efraimidis-Spirakis): order by
  // an exponential variate scaled down by the weight.
  std::vector<std::pair<double, SorterNode*>> order;
  order.reserve(node->children.size());
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  for (SorterNode* c : node->children) {
    if (c->activeLeaves == 0) continue;
    double u = std::max(uniform(rng_), 1e-300);
    order.emplace_back(-std::log(u) / c->weight, c);
  }
  std::sort(order.begin(), order.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const auto& [key, c] : order) {
    if (c->activeLeaves == 0) continue;
    bool more = c->isLeaf() ? visitor(c->client) : walkNode(c, visitor);
    if (!more) return false;
  }
  return true;
}

}  // namespace agora::allocator
