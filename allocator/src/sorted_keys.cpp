#include "sorted_keys.hpp"

#include <algorithm>

#include "agora/common/check.hpp"

namespace agora::allocator {

void SortedKeys::Chunk::compact() {
  if (first == 0) return;
  keys.erase(keys.begin(), keys.begin() + first);
  first = 0;
}

void SortedKeys::clear() {
  chunks_.clear();
  size_ = 0;
}

void SortedKeys::assign(const std::vector<ShareKey>& sorted) {
  clear();
  // Half-full chunks: room to grow before the first split.
  constexpr size_t kFill = kMaxChunk / 2;
  for (size_t i = 0; i < sorted.size(); i += kFill) {
    Chunk chunk;
    chunk.keys.reserve(kMaxChunk + 1);
    chunk.keys.assign(sorted.begin() + static_cast<std::ptrdiff_t>(i),
                      sorted.begin() + static_cast<std::ptrdiff_t>(std::min(sorted.size(), i + kFill)));
    chunks_.push_back(std::move(chunk));
  }
  size_ = sorted.size();
}

uint32_t SortedKeys::chunkFor(const ShareKey& key) const {
  ShareOrder less;
  auto it = std::partition_point(chunks_.begin(), chunks_.end(),
                                 [&](const Chunk& chunk) { return less(chunk.back(), key); });
  if (it == chunks_.end()) --it;
  return static_cast<uint32_t>(it - chunks_.begin());
}

uint32_t SortedKeys::indexIn(uint32_t c, const ShareKey& filed) const {
  const Chunk& chunk = chunks_[c];
  const ShareKey* first = chunk.live();
  const ShareKey* last = first + chunk.size();
  const ShareKey* it = first->node == filed.node ? first : std::lower_bound(first, last, filed, ShareOrder());
  AGORA_CHECK(it != last && it->node == filed.node, "sorter key not where it was filed");
  return static_cast<uint32_t>(it - first);
}

void SortedKeys::insert(const ShareKey& key) {
  ++size_;
  if (chunks_.empty()) {
    chunks_.emplace_back();
    chunks_.back().keys.reserve(kMaxChunk + 1);
    chunks_.back().keys.push_back(key);
    return;
  }
  ShareOrder less;
  // Past everyone (an allocation's usual destination) or before everyone:
  // no search.
  uint32_t c = !less(key, chunks_.back().back())    ? static_cast<uint32_t>(chunks_.size() - 1)
               : less(key, chunks_.front().front()) ? 0
                                                    : chunkFor(key);
  Chunk& chunk = chunks_[c];
  if (c == 0 && less(key, chunk.front()) && chunk.first > 0) {
    chunk.keys[--chunk.first] = key;  // Before everything, into the dead prefix.
    return;
  }
  if (!less(key, chunk.back())) {
    chunk.keys.push_back(key);
  } else {
    ShareKey* first = chunk.live();
    auto at = std::lower_bound(first, first + chunk.size(), key, less) - chunk.keys.data();
    chunk.keys.insert(chunk.keys.begin() + at, key);
  }
  if (chunk.size() > kMaxChunk) {
    chunk.compact();
    Chunk upper;
    upper.keys.reserve(kMaxChunk + 1);  // Room to grow to a split without reallocating.
    upper.keys.assign(chunk.keys.begin() + kMaxChunk / 2, chunk.keys.end());
    chunk.keys.resize(kMaxChunk / 2);
    chunks_.insert(chunks_.begin() + c + 1, std::move(upper));
  }
}

void SortedKeys::eraseAt(uint32_t c, uint32_t i) {
  --size_;
  Chunk& chunk = chunks_[c];
  if (i == 0) {
    ++chunk.first;  // DRF's usual case: O(1).
  } else {
    chunk.keys.erase(chunk.keys.begin() + chunk.first + i);
  }
  if (chunk.size() == 0) {
    chunks_.erase(chunks_.begin() + c);
    return;
  }
  if (chunk.first > kMaxChunk) chunk.compact();  // A queue through one chunk: keep the dead prefix bounded.
  // A small chunk joins a neighbour with room, so that chunks stay many
  // keys each and the chunk list short. (Not for the first key: a chunk
  // emptied from the front goes soon anyway, and merging it on the way
  // would copy keys on DRF's usual move.)
  if (i > 0 && chunk.size() < kMaxChunk / 4) {
    uint32_t into = c;
    if (c + 1 < chunks_.size() && chunk.size() + chunks_[c + 1].size() <= kMaxChunk) {
      into = c;
    } else if (c > 0 && chunk.size() + chunks_[c - 1].size() <= kMaxChunk) {
      into = c - 1;
    } else {
      return;
    }
    Chunk& left = chunks_[into];
    Chunk& right = chunks_[into + 1];
    left.compact();
    left.keys.insert(left.keys.end(), right.live(), right.live() + right.size());
    chunks_.erase(chunks_.begin() + into + 1);
  }
}

void SortedKeys::erase(const ShareKey& filed) {
  uint32_t c = !chunks_.empty() && chunks_.front().front().node == filed.node ? 0 : chunkFor(filed);
  eraseAt(c, indexIn(c, filed));
}

void SortedKeys::replace(const ShareKey& filed, const ShareKey& key) {
  ShareOrder less;
  Chunk& head = chunks_.front();
  if (head.front().node == filed.node) {
    // The first (the client a walk just gave something to): stays first,
    // or leaves the front, most often for the back.
    const ShareKey* next =
        head.size() > 1 ? &head.live()[1] : (chunks_.size() > 1 ? &chunks_[1].front() : nullptr);
    if (next == nullptr || less(key, *next)) {
      head.live()[0] = key;
      return;
    }
    // DRF's usual move, to past the last key: an append to the last chunk
    // (while it has room) and an offset bump here, without the general
    // erase and insert.
    Chunk& tail = chunks_.back();
    if (!less(key, tail.back()) && tail.size() < kMaxChunk) {
      tail.keys.push_back(key);
      ++size_;
      eraseAt(0, 0);
      return;
    }
    eraseAt(0, 0);
    insert(key);
    return;
  }
  uint32_t c = chunkFor(filed);
  uint32_t i = indexIn(c, filed);
  Chunk& chunk = chunks_[c];
  const ShareKey* previous = i > 0 ? &chunk.live()[i - 1] : (c > 0 ? &chunks_[c - 1].back() : nullptr);
  const ShareKey* next = i + 1 < chunk.size() ? &chunk.live()[i + 1]
                                              : (c + 1 < chunks_.size() ? &chunks_[c + 1].front() : nullptr);
  if ((previous == nullptr || less(*previous, key)) && (next == nullptr || less(key, *next))) {
    chunk.live()[i] = key;
    return;
  }
  eraseAt(c, i);
  insert(key);
}

SortedKeys::Pos SortedKeys::upperBound(const ShareKey& key) const {
  ShareOrder less;
  auto it = std::partition_point(chunks_.begin(), chunks_.end(),
                                 [&](const Chunk& chunk) { return !less(key, chunk.back()); });
  if (it == chunks_.end()) return Pos{static_cast<uint32_t>(chunks_.size()), 0};
  const ShareKey* first = it->live();
  const ShareKey* found = std::upper_bound(first, first + it->size(), key, less);
  return Pos{static_cast<uint32_t>(it - chunks_.begin()), static_cast<uint32_t>(found - first)};
}

}  // namespace agora::allocator
