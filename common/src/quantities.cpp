#include "agora/common/quantities.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "agora/common/id.hpp"

namespace agora {

Result<Scalar> Scalar::fromDouble(double value) {
  if (std::isnan(value)) return Status::InvalidArgument("value is NaN");
  if (std::isinf(value)) return Status::InvalidArgument("value is infinite");
  if (std::fabs(value) > kMaxValue) {
    return Status::InvalidArgument("value " + std::to_string(value) + " is out of range (at most " +
                                   std::to_string(static_cast<int64_t>(kMaxValue)) + ")");
  }
  return Scalar(std::llround(value * kScale));
}

Scalar Scalar::of(double value) {
  Result<Scalar> s = fromDouble(value);
  if (!s.ok()) {
    std::cerr << "Scalar::of(" << value << "): " << s.error() << std::endl;
    std::abort();
  }
  return *s;
}

std::string Scalar::toString() const {
  // Formatted into a fixed buffer: g++ 12 reports a false -Wrestrict on
  // small std::string appends at -O3.
  int64_t whole = millis_ / kScale;
  int64_t frac = millis_ % kScale;
  if (frac < 0) frac = -frac;
  char buf[32];
  const char* sign = (millis_ < 0 && whole == 0) ? "-" : "";
  int n = std::snprintf(buf, sizeof(buf), "%s%lld", sign, static_cast<long long>(whole));
  if (frac != 0) {
    int digits = 3;
    while (frac % 10 == 0) {
      frac /= 10;
      --digits;
    }
    std::snprintf(buf + n, sizeof(buf) - static_cast<size_t>(n), ".%0*lld", digits, static_cast<long long>(frac));
  }
  return buf;
}

std::ostream& operator<<(std::ostream& os, Scalar s) { return os << s.toString(); }

ResourceQuantities::ResourceQuantities(std::initializer_list<std::pair<std::string_view, double>> entries) {
  for (const auto& [name, value] : entries) add(name, Scalar::of(value));
}

Result<ResourceQuantities> ResourceQuantities::parse(std::string_view text) {
  ResourceQuantities out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find(';', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view item = text.substr(start, end - start);
    start = end + 1;
    if (item.empty()) continue;
    size_t colon = item.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      return Status::InvalidArgument("Invalid quantity '" + quoteForLog(item) + "': expected NAME:VALUE");
    }
    std::string_view name = item.substr(0, colon);
    std::string value(item.substr(colon + 1));
    char* parsedEnd = nullptr;
    double number = std::strtod(value.c_str(), &parsedEnd);
    if (value.empty() || parsedEnd != value.c_str() + value.size()) {
      return Status::InvalidArgument("Invalid quantity '" + quoteForLog(item) + "': '" + quoteForLog(value) +
                                     "' is not a number");
    }
    Result<Scalar> scalar = Scalar::fromDouble(number);
    if (!scalar.ok()) return scalar.error().withContext("Invalid quantity '" + quoteForLog(item) + "'");
    if (scalar->isNegative()) {
      return Status::InvalidArgument("Invalid quantity '" + quoteForLog(item) + "': must not be negative");
    }
    out.add(name, *scalar);
  }
  return out;
}

Scalar ResourceQuantities::get(std::string_view name) const {
  auto it = std::lower_bound(entries_.begin(), entries_.end(), name,
                             [](const Entry& e, std::string_view n) { return e.first < n; });
  return it != entries_.end() && it->first == name ? it->second : Scalar();
}

void ResourceQuantities::set(std::string_view name, Scalar value) {
  auto it = std::lower_bound(entries_.begin(), entries_.end(), name,
                             [](const Entry& e, std::string_view n) { return e.first < n; });
  bool found = it != entries_.end() && it->first == name;
  if (value.isZero()) {
    if (found) entries_.erase(it);
  } else if (found) {
    it->second = value;
  } else {
    entries_.insert(it, Entry(std::string(name), value));
  }
}

bool ResourceQuantities::contains(const ResourceQuantities& other) const {
  for (const auto& [name, value] : other.entries_) {
    if (get(name) < value) return false;
  }
  return true;
}

ResourceQuantities& ResourceQuantities::operator+=(const ResourceQuantities& other) {
  for (const auto& [name, value] : other.entries_) add(name, value);
  return *this;
}

ResourceQuantities& ResourceQuantities::operator-=(const ResourceQuantities& other) {
  for (const auto& [name, value] : other.entries_) {
    Scalar left = get(name) - value;
    set(name, left.isNegative() ? Scalar() : left);
  }
  return *this;
}

ResourceQuantities ResourceQuantities::operator+(const ResourceQuantities& other) const {
  ResourceQuantities out = *this;
  out += other;
  return out;
}

ResourceQuantities ResourceQuantities::operator-(const ResourceQuantities& other) const {
  ResourceQuantities out = *this;
  out -= other;
  return out;
}

ResourceQuantities ResourceQuantities::min(const ResourceQuantities& other) const {
  ResourceQuantities out;
  for (const auto& [name, value] : entries_) out.set(name, std::min(value, other.get(name)));
  return out;
}

std::string ResourceQuantities::toString() const {
  std::string out;
  for (const auto& [name, value] : entries_) {
    if (!out.empty()) out += ';';
    out += name;
    out += ':';
    out += value.toString();
  }
  return out;
}

std::ostream& operator<<(std::ostream& os, const ResourceQuantities& q) { return os << q.toString(); }

}  // namespace agora
