#include "drf_sorter.hpp"

namespace agora::allocator {

void DrfSorter::childAdded(SorterNode* parent, SorterNode* child) {
  if (dirty_) return;
  child->share = computeShare(child);
  parent->ordered.insert(child);
}

void DrfSorter::childRemoving(SorterNode* parent, SorterNode* child) {
  if (!dirty_) parent->ordered.erase(child);
}

void DrfSorter::keyChanging(SorterNode* node) {
  if (!dirty_) node->parent->ordered.erase(node);
}

void DrfSorter::keyChanged(SorterNode* node) {
  if (dirty_) return;
  node->share = computeShare(node);
  node->parent->ordered.insert(node);
}

void DrfSorter::resort(SorterNode* node) {
  node->ordered.clear();
  for (SorterNode* child : node->children) {
    child->share = computeShare(child);
    if (!child->isLeaf()) resort(child);
    node->ordered.insert(child);
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
  // Step past a child before visiting it: an allocation during the visit
  // moves the child (and only it) within this set, which leaves the next
  // iterator valid. A child that moved later is stamped and not revisited.
  auto& ordered = node->ordered;
  for (auto it = ordered.begin(); it != ordered.end();) {
    SorterNode* c = *it;
    ++it;
    if (c->walkStamp == stamp_ || c->activeLeaves == 0) continue;
    c->walkStamp = stamp_;
    bool more = c->isLeaf() ? visitor(c->client) : walkNode(c, visitor);
    if (!more) return false;
  }
  return true;
}

}  // namespace agora::allocator
