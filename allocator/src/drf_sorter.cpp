#include "drf_sorter.hpp"

#include <algorithm>
#include <vector>

#include "agora/common/check.hpp"

namespace agora::allocator {

void DrfSorter::insertMarked(SorterNode* node) {
  node->parent->orderedMarked.insert(node->placed);
  node->inMarkedSet = true;
}

void DrfSorter::eraseMarked(SorterNode* node) {
  if (!node->inMarkedSet) return;
  node->parent->orderedMarked.erase(node->placed);
  node->inMarkedSet = false;
}

void DrfSorter::childAdded(SorterNode* parent, SorterNode* child) {
  acquireRank(child);
  if (dirty_) return;
  // An only child's key may be stale (keyChanged() leaves it): it orders
  // nothing until now.
  if (parent->ordered.size() == 1) refreshKey(parent->ordered.at(parent->ordered.begin())->node);
  child->placed = child->keyWith(computeShare(child));
  parent->ordered.insert(child->placed);
  if (child->markedLeaves > 0) insertMarked(child);
}

void DrfSorter::childRemoving(SorterNode* parent, SorterNode* child) {
  releaseRank(child);
  if (dirty_) return;
  parent->ordered.erase(child->placed);
  eraseMarked(child);
}

void DrfSorter::markedChanged(SorterNode* node) {
  if (dirty_) return;
  if (node->markedLeaves > 0 && !node->inMarkedSet) insertMarked(node);
  if (node->markedLeaves == 0) eraseMarked(node);
}

void DrfSorter::keyChanged(SorterNode* node) {
  if (dirty_) return;
  // An only child orders nothing: its key waits for a sibling (childAdded)
  // or a resort. A single role (every framework in "*"), a role with one
  // framework: a share computed and filed per offer for nothing. The
  // client in the key stays exact (prefetchFirst reads it).
  if (node->parent->ordered.size() == 1 && node->placed.client == (node->isLeaf() ? node->client : kNoClient)) {
    return;
  }
  refreshKey(node);
}

void DrfSorter::refreshKey(SorterNode* node) {
  ShareKey key = node->keyWith(computeShare(node));
  node->parent->ordered.replace(node->placed, key);
  if (node->inMarkedSet) node->parent->orderedMarked.replace(node->placed, key);
  node->placed = key;
}

void DrfSorter::resort(SorterNode* node) {
  node->ordered.clear();
  node->orderedMarked.clear();
  std::vector<ShareKey> keys;
  keys.reserve(node->children.size());
  for (SorterNode* child : node->children) {
    if (!child->isLeaf()) resort(child);
    child->placed = child->keyWith(computeShare(child));
    keys.push_back(child->placed);
  }
  std::sort(keys.begin(), keys.end(), ShareOrder());
  node->ordered.assign(keys);
  std::vector<ShareKey> marked;
  for (const ShareKey& key : keys) {
    key.node->inMarkedSet = key.node->markedLeaves > 0;
    if (key.node->inMarkedSet) marked.push_back(key);
  }
  node->orderedMarked.assign(marked);
}

void DrfSorter::startWalk(SorterVisitor visitor, bool markedOnly) {
  if (dirty_) {
    resort(root());
    dirty_ = false;
  }
  ++stamp_;
  // A lone client at the top (one role: every framework in "*"; a role's
  // lone framework) has no order to follow: visited without the walk.
  const SortedKeys& top = markedOnly ? root()->orderedMarked : root()->ordered;
  if (top.size() == 1) {
    SorterNode* only = top.firstChunk().front().node;
    if (only->isLeaf()) {
      if (only->activeLeaves > 0) {
        only->walkStamp = stamp_;
        visitor(only->client);
      }
      return;
    }
  }
  walkNode(root(), visitor, markedOnly);
}

void DrfSorter::walk(SorterVisitor visitor) { startWalk(visitor, false); }

size_t DrfSorter::prefetchFirst(std::span<ClientId> out) const {
  // Down the first keys to the first leaf, then along its leaf siblings,
  // reading only the sets (activity is not in the keys: an inactive client
  // makes the hint wrong, not the walk).
  // Only the first chunk of keys: a hint that runs out with the chunk
  // (once per some dozens of walks) is cheaper than stepping across.
  if (dirty_) return 0;
  std::span<const ShareKey> keys = root()->ordered.firstChunk();
  while (!keys.empty() && keys.front().client == kNoClient) keys = keys.front().node->ordered.firstChunk();
  size_t n = 0;
  for (; n < keys.size() && n < out.size() && keys[n].client != kNoClient; ++n) {
    const auto* bytes = reinterpret_cast<const char*>(keys[n].node);
    for (size_t line = 0; line < keys[n].node->hotBytes(); line += 64) __builtin_prefetch(bytes + line, 1);
    out[n] = keys[n].client;
  }
  return n;
}

void DrfSorter::walkMarked(SorterVisitor visitor) { startWalk(visitor, true); }

bool DrfSorter::walkNode(SorterNode* node, SorterVisitor visitor, bool markedOnly) {
  // An allocation during a visit moves the visited child (and only it) to
  // a larger key, so the walk goes on with the first key after the one the
  // child had: that is where the child was, whether or not it moved. A
  // child that moved past it is stamped and not visited again. The marked
  // set holds the same keys as `ordered`, minus the children without marked
  // leaves, so walking it visits the marked clients as a full walk would.
  const auto& ordered = markedOnly ? node->orderedMarked : node->ordered;
  ShareOrder less;
  for (SortedKeys::Pos pos = ordered.begin(); const ShareKey* at = ordered.at(pos);) {
    ShareKey key = *at;
    SorterNode* c = key.node;
    if (c->walkStamp == stamp_ || c->activeLeaves == 0) {
      ordered.next(pos);
      continue;
    }
    c->walkStamp = stamp_;
    bool more = c->isLeaf() ? visitor(c->client) : walkNode(c, visitor, markedOnly);
    if (!more) return false;
    at = ordered.at(pos);
    if (at != nullptr && at->node == c && !less(key, *at) && !less(*at, key)) {
      ordered.next(pos);  // Nothing moved.
    } else {
      pos = ordered.upperBound(key);
    }
  }
  return true;
}

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
  uint64_t spacing =
      std::max<uint64_t>(1, std::min<uint64_t>(kStepAfterRenumber, (UINT32_MAX / 2) / (ranks_.size() + 1)));
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
