#include "drf_sorter.hpp"

namespace agora::allocator {

void DrfSorter::childAdded(SorterNode* parent, SorterNode* child) {
  if (dirty_) return;
  child->share = computeShare(child);
  child->inParent = parent->ordered.insert(child).first;
}

void DrfSorter::childRemoving(SorterNode* parent, SorterNode* child) {
  if (!dirty_) parent->ordered.erase(child->inParent);
}

void DrfSorter::keyChanging(SorterNode* node) {
  if (!dirty_) node->detached = node->parent->ordered.extract(node->inParent);
}

void DrfSorter::keyChanged(SorterNode* node) {
  if (dirty_) return;
  node->share = computeShare(node);
  auto& ordered = node->parent->ordered;
  // An allocation raises the node's key, most often past every sibling (in
  // a cluster of equal shares it becomes the last), so end() is the hint:
  // one comparison when right, an ordinary insert when not.
  if (node->detached.empty()) {
    node->inParent = ordered.insert(ordered.end(), node);
  } else {
    node->inParent = ordered.insert(ordered.end(), std::move(node->detached));
  }
}

void DrfSorter::resort(SorterNode* node) {
  node->ordered.clear();
  for (SorterNode* child : node->children) {
    child->share = computeShare(child);
    if (!child->isLeaf()) resort(child);
    child->inParent = node->ordered.insert(child).first;
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
