#include "drf_sorter.hpp"

#include <algorithm>
#include <vector>

#include "agora/common/check.hpp"

namespace agora::allocator {

void DrfSorter::insertMarked(SorterNode* node) {
  node->inParentMarked = node->parent->orderedMarked.insert(node->key()).first;
  node->inMarkedSet = true;
}

void DrfSorter::eraseMarked(SorterNode* node) {
  if (!node->inMarkedSet) return;
  node->parent->orderedMarked.erase(node->inParentMarked);
  node->inMarkedSet = false;
}

void DrfSorter::childAdded(SorterNode* parent, SorterNode* child) {
  acquireRank(child);
  if (dirty_) return;
  child->share = computeShare(child);
  child->inParent = parent->ordered.insert(child->key()).first;
  if (child->markedLeaves > 0) insertMarked(child);
}

void DrfSorter::childRemoving(SorterNode* parent, SorterNode* child) {
  releaseRank(child);
  if (dirty_) return;
  parent->ordered.erase(child->inParent);
  eraseMarked(child);
}

void DrfSorter::markedChanged(SorterNode* node) {
  if (dirty_) return;
  if (node->markedLeaves > 0 && !node->inMarkedSet) insertMarked(node);
  if (node->markedLeaves == 0) eraseMarked(node);
}

void DrfSorter::keyChanging(SorterNode* /*node*/) {
  // Nothing to do yet: the node keeps its place in its parent's sets with a
  // stale key until keyChanged() moves it, if it must move at all. Nothing
  // searches those sets in between: an allocation changes one node per
  // level, and keyChanged() runs from the leaf up, so a set searched by a
  // reinsertion never holds a stale node other than the one reinserted.
}

void DrfSorter::keyChanged(SorterNode* node) {
  if (dirty_) return;
  node->share = computeShare(node);
  ShareKey key = node->key();
  reposition(node->parent->ordered, node->inParent, key);
  if (node->inMarkedSet) reposition(node->parent->orderedMarked, node->inParentMarked, key);
}

void DrfSorter::reposition(SorterNode::OrderedSet& set, SorterNode::OrderedSet::iterator& at,
                           const ShareKey& key) {
  // Many re-keyings leave a node where it is (the only child of a role, the
  // last of its siblings, a small change): two comparisons with its
  // neighbours tell, and the key is then updated in place. (A set's
  // elements are stored non-const; a new key that keeps the element's
  // place keeps the tree valid.)
  ShareOrder less;
  auto next = std::next(at);
  bool beforeNext = next == set.end() || less(key, *next);
  bool afterPrevious = at == set.begin() || less(*std::prev(at), key);
  if (beforeNext && afterPrevious) {
    const_cast<ShareKey&>(*at) = key;
    return;
  }
  auto handle = set.extract(at);  // Keeps the tree node: no allocation.
  handle.value() = key;
  // An allocation raises the key, most often past every sibling (in a
  // cluster of equal shares it becomes the last), so end() is the hint for
  // a move to the right: one comparison when right, an ordinary insert
  // when not.
  at = beforeNext ? set.insert(std::move(handle)).position : set.insert(set.end(), std::move(handle));
}

void DrfSorter::resort(SorterNode* node) {
  node->ordered.clear();
  node->orderedMarked.clear();
  for (SorterNode* child : node->children) {
    child->share = computeShare(child);
    if (!child->isLeaf()) resort(child);
    child->inParent = node->ordered.insert(child->key()).first;
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

size_t DrfSorter::prefetchFirst(std::span<ClientId> out) const {
  // Down the first keys to the first leaf, then along its leaf siblings,
  // reading only the sets (activity is not in the keys: an inactive client
  // makes the hint wrong, not the walk).
  if (dirty_) return 0;
  const SorterNode* node = root();
  while (!node->ordered.empty()) {
    auto it = node->ordered.begin();
    if (it->client == kNoClient) {
      node = it->node;
      continue;
    }
    size_t n = 0;
    for (; it != node->ordered.end() && it->client != kNoClient && n < out.size(); ++it) {
      const auto* bytes = reinterpret_cast<const char*>(it->node);
      for (size_t line = 0; line < it->node->hotBytes(); line += 64) __builtin_prefetch(bytes + line, 1);
      out[n++] = it->client;
    }
    return n;
  }
  return 0;
}
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
    SorterNode* c = it->node;
    ++it;
    if (c->walkStamp == stamp_ || c->activeLeaves == 0) continue;
    c->walkStamp = stamp_;
    bool more = c->isLeaf() ? visitor(c->client) : walkNode(c, visitor, markedOnly);
    if (!more) return false;
  }
  return true;
}

}  // namespace agora::allocator

namespace agora::allocator {

void DrfSorter::acquireRank(SorterNode* node) {
  auto it = ranks_.lower_bound(node->name);
  if (it != ranks_.end() && it->first == node->name) {
    ++it->second.uses;
    node->rank = it->second.rank;
    return;
  }
  // Ranks 0 and UINT32_MAX stay free as sentinels. A name after every other
  // (names often arrive in order) steps on by kStep instead of halving the
  // room above it; one between two takes the middle of their gap.
  constexpr uint32_t kStep = uint32_t{1} << 16;
  uint32_t below = it == ranks_.begin() ? 0 : std::prev(it)->second.rank;
  uint32_t above = it == ranks_.end() ? UINT32_MAX : it->second.rank;
  uint32_t rank = 0;
  if (it == ranks_.end() && UINT32_MAX - below > kStep) {
    rank = below + kStep;
  } else if (above - below >= 2) {
    rank = below + (above - below) / 2;
  }
  it = ranks_.emplace_hint(it, node->name, NameRank{rank, 1});
  if (rank == 0) renumber();
  node->rank = it->second.rank;
}

void DrfSorter::releaseRank(const SorterNode* node) {
  auto it = ranks_.find(node->name);
  if (it != ranks_.end() && --it->second.uses == 0) ranks_.erase(it);
}

void DrfSorter::renumber() {
  constexpr uint64_t kStepAfterRenumber = uint64_t{1} << 16;
  // Evenly spaced over the lower half of the range (the upper half stays
  // for names that sort last). Relative order is unchanged, but every key
  // in every set holds a rank: the sets are rebuilt at the next walk.
  uint64_t spacing = std::max<uint64_t>(1, std::min<uint64_t>(kStepAfterRenumber, (UINT32_MAX / 2) / (ranks_.size() + 1)));
  uint64_t rank = 0;
  AGORA_CHECK(ranks_.size() < UINT32_MAX / 2, "too many sorter names");
  for (auto& [name, entry] : ranks_) entry.rank = static_cast<uint32_t>(rank += spacing);
  std::vector<SorterNode*> stack{root()};
  while (!stack.empty()) {
    SorterNode* node = stack.back();
    stack.pop_back();
    for (SorterNode* child : node->children) {
      child->rank = ranks_.find(child->name)->second.rank;
      stack.push_back(child);
    }
  }
  dirty_ = true;
}

}  // namespace agora::allocator
