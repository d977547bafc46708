#include "sorter_tree.hpp"

#include <algorithm>

#include "agora/common/check.hpp"

namespace agora::allocator {

namespace {

void deleteSubtree(SorterNode* node) {
  for (SorterNode* child : node->children) deleteSubtree(child);
  delete node;
}

}  // namespace

SorterTree::SorterTree(std::shared_ptr<ResourceNames> names)
    : Sorter(std::move(names)), root_(std::make_unique<SorterNode>()) {
  root_->kind = SorterNode::Kind::kInternal;
}

SorterTree::~SorterTree() {
  for (SorterNode* child : root_->children) deleteSubtree(child);
}

double SorterTree::weightOf(std::string_view path) const {
  auto it = weights_.find(std::string(path));
  return it == weights_.end() ? 1.0 : it->second;
}

void SorterTree::insertChild(SorterNode* parent, SorterNode* child, uint32_t index) {
  auto& ch = parent->children;
  ch.insert(ch.begin() + index, child);
  for (size_t i = index; i < ch.size(); ++i) ch[i]->indexInParent = static_cast<uint32_t>(i);
}

void SorterTree::eraseChild(SorterNode* parent, uint32_t index) {
  auto& ch = parent->children;
  ch.erase(ch.begin() + index);
  for (size_t i = index; i < ch.size(); ++i) ch[i]->indexInParent = static_cast<uint32_t>(i);
}

SorterNode* SorterTree::internalNode(std::string_view path, SorterNode* parent, std::string_view name) {
  if (auto it = byPath_.find(std::string(path)); it != byPath_.end()) {
    SorterNode* node = it->second;
    if (node->kind == SorterNode::Kind::kLeaf) {
      // A client gains descendants: it becomes internal, and a virtual leaf
      // takes over its client identity, allocation and activity.
      auto* virt = new SorterNode();
      virt->kind = SorterNode::Kind::kVirtualLeaf;
      virt->name = ".";
      virt->path = node->path;
      virt->parent = node;
      virt->client = node->client;
      virt->active = node->active;
      virt->activeLeaves = node->active ? 1 : 0;
      virt->marked = node->marked;
      virt->markedLeaves = node->marked ? 1 : 0;
      virt->allocation = node->allocation;
      virt->count = node->count;
      virt->weight = node->weight;
      node->kind = SorterNode::Kind::kInternal;
      node->active = false;
      node->marked = false;  // Its markedLeaves stay: the subtree's count.
      node->virtualLeaf = virt;
      clients_[virt->client] = virt;
      insertChild(node, virt, static_cast<uint32_t>(node->children.size()));
      childAdded(node, virt);
    }
    return node;
  }
  auto* node = new SorterNode();
  node->kind = SorterNode::Kind::kInternal;
  node->name = std::string(name);
  node->path = std::string(path);
  node->parent = parent;
  node->weight = weightOf(path);
  byPath_.emplace(node->path, node);
  insertChild(parent, node, static_cast<uint32_t>(parent->children.size()));
  childAdded(parent, node);
  return node;
}

ClientId SorterTree::add(std::string_view path) {
  AGORA_CHECK(!path.empty() && !contains(path), "sorter client is empty or present");
  SorterNode* parent = root_.get();
  size_t start = 0;
  for (size_t slash = path.find('/'); slash != std::string_view::npos; slash = path.find('/', start)) {
    AGORA_CHECK(slash > start, "empty path component");
    parent = internalNode(path.substr(0, slash), parent, path.substr(start, slash - start));
    start = slash + 1;
  }
  AGORA_CHECK(start < path.size(), "empty path component");

  auto* leaf = new SorterNode();
  leaf->path = std::string(path);
  leaf->weight = weightOf(path);
  if (auto it = byPath_.find(leaf->path); it != byPath_.end()) {
    // An internal node becomes a client too: through a virtual leaf.
    leaf->kind = SorterNode::Kind::kVirtualLeaf;
    leaf->name = ".";
    parent = it->second;
    parent->virtualLeaf = leaf;
  } else {
    leaf->name = std::string(path.substr(start));
    byPath_.emplace(leaf->path, leaf);
  }
  leaf->parent = parent;
  if (freeIds_.empty()) {
    leaf->client = static_cast<ClientId>(clients_.size());
    clients_.push_back(leaf);
  } else {
    leaf->client = freeIds_.back();
    freeIds_.pop_back();
    clients_[leaf->client] = leaf;
  }
  ++clientCount_;
  insertChild(parent, leaf, static_cast<uint32_t>(parent->children.size()));
  childAdded(parent, leaf);
  return leaf->client;
}

void SorterTree::unlink(SorterNode* node) {
  childRemoving(node->parent, node);
  eraseChild(node->parent, node->indexInParent);
}

void SorterTree::remove(std::string_view path) {
  SorterNode* leaf = checked(path);
  if (!leaf->allocation.isZero()) {
    QuantityVector all = leaf->allocation;
    unallocated(leaf->client, all);
  }
  setActive(leaf, false);
  setMarked(leaf->client, false);
  clients_[leaf->client] = nullptr;
  freeIds_.push_back(leaf->client);
  --clientCount_;
  SorterNode* parent = leaf->parent;
  unlink(leaf);
  if (leaf->kind == SorterNode::Kind::kVirtualLeaf) {
    parent->virtualLeaf = nullptr;
  } else {
    byPath_.erase(leaf->path);
  }
  delete leaf;

  // Internal nodes that are left empty go; one left holding only its
  // virtual leaf becomes a plain leaf again.
  while (parent != root_.get()) {
    if (parent->children.empty()) {
      SorterNode* up = parent->parent;
      unlink(parent);
      byPath_.erase(parent->path);
      delete parent;
      parent = up;
      continue;
    }
    if (parent->children.size() == 1 && parent->virtualLeaf != nullptr) {
      SorterNode* virt = parent->virtualLeaf;
      unlink(virt);
      parent->kind = SorterNode::Kind::kLeaf;
      parent->virtualLeaf = nullptr;
      parent->client = virt->client;
      parent->active = virt->active;
      parent->marked = virt->marked;
      parent->allocation = virt->allocation;
      parent->count = virt->count;
      clients_[parent->client] = parent;
      delete virt;
      keyChanged(parent);
    }
    break;
  }
}

SorterNode* SorterTree::checked(std::string_view path) const {
  auto it = byPath_.find(std::string(path));
  AGORA_CHECK(it != byPath_.end(), "unknown sorter client");
  SorterNode* node = it->second;
  if (node->kind == SorterNode::Kind::kInternal) node = node->virtualLeaf;
  AGORA_CHECK(node != nullptr, "sorter path is not a client");
  return node;
}

bool SorterTree::contains(std::string_view path) const { return find(path).has_value(); }

std::optional<ClientId> SorterTree::find(std::string_view path) const {
  auto it = byPath_.find(std::string(path));
  if (it == byPath_.end()) return std::nullopt;
  const SorterNode* node = it->second;
  if (node->kind == SorterNode::Kind::kInternal) node = node->virtualLeaf;
  if (node == nullptr) return std::nullopt;
  return node->client;
}

SorterNode* SorterTree::clientNode(ClientId client) const {
  AGORA_CHECK(client < clients_.size() && clients_[client] != nullptr, "unknown sorter client id");
  return clients_[client];
}

const std::string& SorterTree::path(ClientId client) const { return clientNode(client)->path; }

void SorterTree::setActive(SorterNode* leaf, bool active) {
  if (leaf->active == active) return;
  leaf->active = active;
  for (SorterNode* n = leaf; n != nullptr; n = n->parent) {
    n->activeLeaves = active ? n->activeLeaves + 1 : n->activeLeaves - 1;
  }
}

void SorterTree::setMarked(ClientId client, bool marked) {
  SorterNode* leaf = clientNode(client);
  if (leaf->marked == marked) return;
  leaf->marked = marked;
  for (SorterNode* n = leaf; n != nullptr; n = n->parent) {
    n->markedLeaves = marked ? n->markedLeaves + 1 : n->markedLeaves - 1;
    if (n != root_.get() && n->markedLeaves == (marked ? 1u : 0u)) markedChanged(n);
  }
}

bool SorterTree::isMarked(ClientId client) const { return clientNode(client)->marked; }

void SorterTree::walkMarked(SorterVisitor visitor) {
  walk([&](ClientId client) { return !clientNode(client)->marked || visitor(client); });
}

void SorterTree::activate(std::string_view path) { setActive(checked(path), true); }
void SorterTree::deactivate(std::string_view path) { setActive(checked(path), false); }
bool SorterTree::isActive(std::string_view path) const { return checked(path)->active; }

void SorterTree::updateWeight(std::string_view path, double weight) {
  AGORA_CHECK(weight > 0, "weight must be positive");
  weights_[std::string(path)] = weight;
  auto it = byPath_.find(std::string(path));
  if (it == byPath_.end()) return;
  for (SorterNode* node : {it->second, it->second->virtualLeaf}) {
    if (node == nullptr) continue;
    node->weight = weight;
    keyChanged(node);
  }
}

void SorterTree::addTotal(const QuantityVector& quantities) {
  total_.add(quantities);
  refreshInverseTotal();
  totalChanged();
}

void SorterTree::removeTotal(const QuantityVector& quantities) {
  total_.subtract(quantities);
  refreshInverseTotal();
  totalChanged();
}

void SorterTree::refreshInverseTotal() {
  const auto& total = total_.raw();
  inverseTotal_.assign(total.size(), 0.0);
  for (size_t i = 0; i < total.size(); ++i) {
    if (total[i] > 0) inverseTotal_[i] = 1.0 / static_cast<double>(total[i]);
  }
}

void SorterTree::allocated(ClientId client, const QuantityVector& quantities) {
  // The root is nobody's child: its sums would order nothing.
  // One pass from the leaf up: a node's key depends on its own fields
  // only, and it is filed among its siblings, which this does not change.
  for (SorterNode* n = clientNode(client); n != root_.get(); n = n->parent) {
    n->allocation.add(quantities);
    ++n->count;
    keyChanged(n);
  }
}

void SorterTree::unallocated(ClientId client, const QuantityVector& quantities) {
  for (SorterNode* n = clientNode(client); n != root_.get(); n = n->parent) {
    n->allocation.subtract(quantities);
    keyChanged(n);
  }
}

const QuantityVector& SorterTree::allocation(ClientId client) const { return clientNode(client)->allocation; }
uint64_t SorterTree::allocationCount(ClientId client) const { return clientNode(client)->count; }
double SorterTree::share(ClientId client) const { return computeShare(clientNode(client)); }

double SorterTree::computeShare(const SorterNode* node) const {
  // Multiplying by cached inverses instead of dividing: a share is computed
  // on every allocation, for each node on the client's path, in both
  // sorters. Equal allocations still give equal shares (ties stay ties), and
  // the order of different ones is kept up to rounding in the last place.
  double share = 0;
  const auto& alloc = node->allocation.raw();
  size_t n = std::min(alloc.size(), inverseTotal_.size());
  for (size_t i = 0; i < n; ++i) {
    share = std::max(share, static_cast<double>(std::max<int64_t>(alloc[i], 0)) * inverseTotal_[i]);
  }
  return share / node->weight;
}

}  // namespace agora::allocator
