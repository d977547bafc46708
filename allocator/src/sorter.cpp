#include "agora/allocator/sorter.hpp"

#include "agora/common/check.hpp"
#include "drf_sorter.hpp"
#include "random_sorter.hpp"

namespace agora::allocator {

std::vector<std::string> Sorter::sort() {
  std::vector<std::string> out;
  walk([&](ClientId client) {
    out.push_back(path(client));
    return true;
  });
  return out;
}

ClientId Sorter::checkedFind(std::string_view path) const {
  auto id = find(path);
  AGORA_CHECK(id.has_value(), "unknown sorter client");
  return *id;
}

void Sorter::allocated(std::string_view path, const ResourceQuantities& quantities) {
  allocated(checkedFind(path), QuantityVector::from(quantities, names()));
}

void Sorter::unallocated(std::string_view path, const ResourceQuantities& quantities) {
  unallocated(checkedFind(path), QuantityVector::from(quantities, names()));
}

ResourceQuantities Sorter::allocation(std::string_view path) const {
  return allocation(checkedFind(path)).toQuantities(names());
}

uint64_t Sorter::allocationCount(std::string_view path) const {
  return allocationCount(checkedFind(path));
}

void Sorter::addTotal(const ResourceQuantities& quantities) {
  addTotal(QuantityVector::from(quantities, names()));
}

void Sorter::removeTotal(const ResourceQuantities& quantities) {
  removeTotal(QuantityVector::from(quantities, names()));
}

std::unique_ptr<Sorter> makeSorter(SorterKind kind, std::shared_ptr<ResourceNames> names, uint64_t seed) {
  switch (kind) {
    case SorterKind::kDrf:
      return std::make_unique<DrfSorter>(std::move(names));
    case SorterKind::kRandom:
      return std::make_unique<RandomSorter>(std::move(names), seed);
  }
  return nullptr;
}

}  // namespace agora::allocator
