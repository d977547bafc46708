#include "drf_sorter.hpp"

#include <algorithm>

namespace agora::allocator {

bool DrfSorter::less(const SorterNode* a, const SorterNode* b) {
  if (a->share != b->share) return a->share < b->share;
  if (a->count != b->count) return a->count < b->count;
  return a->name < b->name;
}

void DrfSorter::childAdded(SorterNode*, SorterNode* child) {
  if (dirty_) return;
  child->share = computeShare(child);
  reposition(child);
}

void DrfSorter::keyChanged(SorterNode* node) {
  if (dirty_) return;
  node->share = computeShare(node);
  reposition(node);
}

void DrfSorter::reposition(SorterNode* node) {
  auto& ch = node->parent->children;
  auto i = static_cast<size_t>(node->indexInParent);
  size_t target = i;
  if (i > 0 && less(node, ch[i - 1])) {
    auto it = std::upper_bound(ch.begin(), ch.begin() + static_cast<std::ptrdiff_t>(i), node,
                               [](const SorterNode* a, const SorterNode* b) { return less(a, b); });
    target = static_cast<size_t>(it - ch.begin());
    std::rotate(ch.begin() + static_cast<std::ptrdiff_t>(target),
                ch.begin() + static_cast<std::ptrdiff_t>(i),
                ch.begin() + static_cast<std::ptrdiff_t>(i) + 1);
    for (size_t k = target; k <= i; ++k) ch[k]->indexInParent = static_cast<uint32_t>(k);
  } else if (i + 1 < ch.size() && less(ch[i + 1], node)) {
    auto it = std::lower_bound(ch.begin() + static_cast<std::ptrdiff_t>(i) + 1, ch.end(), node,
                               [](const SorterNode* a, const SorterNode* b) { return less(a, b); });
    target = static_cast<size_t>(it - ch.begin()) - 1;
    std::rotate(ch.begin() + static_cast<std::ptrdiff_t>(i),
                ch.begin() + static_cast<std::ptrdiff_t>(i) + 1,
                ch.begin() + static_cast<std::ptrdiff_t>(target) + 1);
    for (size_t k = i; k <= target; ++k) ch[k]->indexInParent = static_cast<uint32_t>(k);
  }
}

void DrfSorter::resort(SorterNode* node) {
  for (SorterNode* child : node->children) {
    child->share = computeShare(child);
    if (!child->isLeaf()) resort(child);
  }
  std::sort(node->children.begin(), node->children.end(),
            [](const SorterNode* a, const SorterNode* b) { return less(a, b); });
  for (size_t k = 0; k < node->children.size(); ++k) {
    node->children[k]->indexInParent = static_cast<uint32_t>(k);
  }
}

void DrfSorter::walk(const std::function<bool(ClientId)>& visitor) {
  if (dirty_) {
    resort(root());
    dirty_ = false;
  }
  ++stamp_;
  walkNode(root(), visitor);
}

bool DrfSorter::walkNode(SorterNode* node, const std::function<bool(ClientId)>& visitor) {
  auto& ch = node->children;
  // An allocation during the visit moves the visited node later (its share
  // grew), shifting the unvisited ones left by one: stay at i then. Stamps
  // keep a moved node from being visited twice.
  for (size_t i = 0; i < ch.size();) {
    SorterNode* c = ch[i];
    if (c->walkStamp == stamp_ || c->activeLeaves == 0) {
      ++i;
      continue;
    }
    c->walkStamp = stamp_;
    bool more = c->isLeaf() ? visitor(c->client) : walkNode(c, visitor);
    if (!more) return false;
    if (i < ch.size() && ch[i] == c) ++i;
  }
  return true;
}

}  // namespace agora::allocator
