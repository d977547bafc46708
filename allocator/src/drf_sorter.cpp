#include "drf_sorter.hpp"

namespace agora::allocator {

void DrfSorter::insertMarked(SorterNode* node) {
  node->inParentMarked = node->parent->orderedMarked.insert(node).first;
  node->inMarkedSet = true;
}

void DrfSorter::eraseMarked(SorterNode* node) {
  if (!node->inMarkedSet) return;
  node->parent->orderedMarked.erase(node->inParentMarked);
  node->inMarkedSet = false;
}

void DrfSorter::childAdded(SorterNode* parent, SorterNode* child) {
  if (dirty_) return;
  child->share = computeShare(child);
  child->inParent = parent->ordered.insert(child).first;
  if (child->markedLeaves > 0) insertMarked(child);
}

void DrfSorter::childRemoving(SorterNode* parent, SorterNode* child) {
  if (dirty_) return;
  parent->ordered.erase(child->inParent);
  eraseMarked(child);
}

void DrfSorter::markedChanged(SorterNode* node) {
  if (dirty_) return;
  if (node->markedLeaves > 0 && !node->inMarkedSet) insertMarked(node);
  if (node->markedLeaves == 0) eraseMarked(node);
}

void DrfSorter::keyChanging(SorterNode* node) {
  if (dirty_) return;
  node->detached = node->parent->ordered.extract(node->inParent);
  if (node->inMarkedSet) node->detachedMarked = node->parent->orderedMarked.extract(node->inParentMarked);
}

void DrfSorter::keyChanged(SorterNode* node) {
  if (dirty_) return;
  node->share = computeShare(node);
  // An allocation raises the node's key, most often past every sibling (in
  // a cluster of equal shares it becomes the last), so end() is the hint:
  // one comparison when right, an ordinary insert when not.
  auto reinsert = [node](SorterNode::OrderedSet& set, SorterNode::OrderedSet::node_type& detached) {
    return detached.empty() ? set.insert(set.end(), node) : set.insert(set.end(), std::move(detached));
  };
  node->inParent = reinsert(node->parent->ordered, node->detached);
  if (node->inMarkedSet) node->inParentMarked = reinsert(node->parent->orderedMarked, node->detachedMarked);
}

void DrfSorter::resort(SorterNode* node) {
  node->ordered.clear();
  node->orderedMarked.clear();
  for (SorterNode* child : node->children) {
    child->share = computeShare(child);
    if (!child->isLeaf()) resort(child);
    child->inParent = node->ordered.insert(child).first;
    child->inMarkedSet = false;
    if (child->markedLeaves > 0) insertMarked(child);
  }
}

void DrfSorter::startWalk(SorterVisitor visitor, bool markedOnly) {
  if (dirty_) {
    resort(root());
    dirty_ = false;
  }
  ++stamp_;
  walkNode(root(), visitor, markedOnly);
}

void DrfSorter::walk(SorterVisitor visitor) { startWalk(visitor, false); }
void DrfSorter::walkMarked(SorterVisitor visitor) { startWalk(visitor, true); }

bool DrfSorter::walkNode(SorterNode* node, SorterVisitor visitor, bool markedOnly) {
  // Step past a child before visiting it: an allocation during the visit
  // moves the child (and only it) within this set, which leaves the next
  // iterator valid. A child that moved later is stamped and not revisited.
  // The marked set holds the same nodes in the same relative order as
  // `ordered`, minus those without marked leaves, so walking it visits the
  // marked clients exactly as a full walk would.
  auto& ordered = markedOnly ? node->orderedMarked : node->ordered;
  for (auto it = ordered.begin(); it != ordered.end();) {
    SorterNode* c = *it;
    ++it;
    if (c->walkStamp == stamp_ || c->activeLeaves == 0) continue;
    c->walkStamp = stamp_;
    bool more = c->isLeaf() ? visitor(c->client) : walkNode(c, visitor, markedOnly);
    if (!more) return false;
  }
  return true;
}

}  // namespace agora::allocator
