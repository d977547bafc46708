#pragma once

// SortedKeys: the DRF sorter's ordered set of its children's keys.
//
// Sorted keys in chunks of at most kMaxChunk, each chunk a vector whose live
// keys start at an offset, the chunks in order. Why not a balanced tree:
// DRF's common move is from the front (the client a walk just gave
// something to) to the back (its share now the largest), and here that is
// an offset bump and an append on contiguous keys, where a tree rebalances
// twice and chases pointers through nodes that a cycle over thousands of
// agents has long evicted. Why not one sorted array or deque: a move into
// the middle (a role whose share lands among its siblings', a mark that
// goes) shifts at most one chunk, not half of thousands of keys.
//
// Keys are unique (ShareOrder ends with the name rank, and siblings have
// distinct names); an element is found by the key it was filed under.

#include <cstdint>
#include <span>
#include <vector>

#include "agora/allocator/sorter.hpp"

namespace agora::allocator {

struct SorterNode;

// DRF's key: (weighted share, allocation count, name), with the name as its
// rank among the sorter's names. Kept in the ordered sets themselves, so
// that ordering a set compares keys side by side and never reads the
// sorter nodes they stand for: a cycle over thousands of agents streams
// through the cache, and each sorter node read is a likely miss.
//
// The key also tells, without reading the node, whether it is a leaf and
// which client: enough to find (and prefetch) the likely first client of
// the next walk.
inline constexpr ClientId kNoClient = UINT32_MAX;

struct ShareKey {
  double share = 0.0;
  uint64_t count = 0;
  uint32_t rank = 0;
  ClientId client = kNoClient;  // The node's client if it is a leaf.
  SorterNode* node = nullptr;
};

struct ShareOrder {
  bool operator()(const ShareKey& a, const ShareKey& b) const {
    if (a.share != b.share) return a.share < b.share;
    if (a.count != b.count) return a.count < b.count;
    return a.rank < b.rank;
  }
};

class SortedKeys {
 public:
  // A position for walking: chunk and index among its live keys. Any
  // insertion or erasure may invalidate it.
  struct Pos {
    uint32_t chunk = 0;
    uint32_t index = 0;
  };

  bool empty() const { return size_ == 0; }
  size_t size() const { return size_; }
  void clear();
  // Replaces the contents. Precondition: `sorted` is sorted by ShareOrder.
  void assign(const std::vector<ShareKey>& sorted);

  void insert(const ShareKey& key);
  // Removes the element filed under `filed`. Precondition: present.
  void erase(const ShareKey& filed);
  // The element filed under `filed` is now filed under `key` (the same node):
  // in place when it keeps its place among its neighbours, moved otherwise.
  void replace(const ShareKey& filed, const ShareKey& key);

  Pos begin() const { return Pos{}; }
  // The key at `pos`, or null past the end.
  const ShareKey* at(Pos pos) const {
    if (pos.chunk >= chunks_.size() || pos.index >= chunks_[pos.chunk].size()) return nullptr;
    return &chunks_[pos.chunk].live()[pos.index];
  }
  // Precondition: at(pos) is not null.
  void next(Pos& pos) const {
    if (++pos.index >= chunks_[pos.chunk].size()) {
      ++pos.chunk;
      pos.index = 0;
    }
  }
  // The position of the first key after `key` (which need not be present).
  Pos upperBound(const ShareKey& key) const;
  // The first chunk's keys, in order: a prefix of the set (empty if the set
  // is), contiguous, for a quick look at the first few.
  std::span<const ShareKey> firstChunk() const {
    if (chunks_.empty()) return {};
    return {chunks_.front().live(), chunks_.front().size()};
  }

 private:
  static constexpr uint32_t kMaxChunk = 64;

  struct Chunk {
    std::vector<ShareKey> keys;  // Live from `first` on.
    uint32_t first = 0;
    uint32_t size() const { return static_cast<uint32_t>(keys.size()) - first; }
    const ShareKey& front() const { return keys[first]; }
    const ShareKey& back() const { return keys.back(); }
    ShareKey* live() { return keys.data() + first; }
    const ShareKey* live() const { return keys.data() + first; }
    void compact();  // Drops the dead prefix.
  };

  // The chunk `key` belongs in: the first whose back is not less than it,
  // else the last. Precondition: not empty.
  uint32_t chunkFor(const ShareKey& key) const;
  // Index of the element filed under `filed` among chunk c's live keys.
  uint32_t indexIn(uint32_t c, const ShareKey& filed) const;
  void eraseAt(uint32_t c, uint32_t i);

  std::vector<Chunk> chunks_;  // None empty.
  size_t size_ = 0;
};

}  // namespace agora::allocator
