#include "agora/common/id.hpp"

#include <array>
#include <cstdio>
#include <random>

namespace agora {

Status validateId(std::string_view id, std::string_view kind) {
  auto invalid = [&](std::string_view why) {
    std::string message = "Invalid ";
    message += kind;
    message += " '";
    message += quoteForLog(id);
    message += "': ";
    message += why;
    return Status::InvalidArgument(message);
  };
  if (id.empty()) return invalid("must not be empty");
  if (id.size() > kMaxIdLength) {
    return invalid("is " + std::to_string(id.size()) + " bytes long, more than the " +
                   std::to_string(kMaxIdLength) + " allowed");
  }
  if (id == "." || id == "..") return invalid("must not be '.' or '..'");
  for (unsigned char c : id) {
    if (c == '/') return invalid("contains '/'");
    if (c == '\\') return invalid("contains '\\'");
    if (c < 0x20 || c == 0x7f) return invalid("contains a control character");
  }
  return Status::OK();
}

namespace {
std::mt19937_64& randomEngine() {
  // One engine per thread, seeded from the OS. IDs need uniqueness, not
  // cryptographic strength.
  thread_local std::mt19937_64 engine([] {
    std::random_device device;
    return (static_cast<uint64_t>(device()) << 32) ^ device();
  }());
  return engine;
}
}  // namespace

std::string newUuidBytes() {
  std::array<unsigned char, 16> bytes;
  uint64_t hi = randomEngine()();
  uint64_t lo = randomEngine()();
  for (int i = 0; i < 8; ++i) {
    bytes[i] = static_cast<unsigned char>(hi >> (8 * i));
    bytes[8 + i] = static_cast<unsigned char>(lo >> (8 * i));
  }
  bytes[6] = static_cast<unsigned char>((bytes[6] & 0x0f) | 0x40);  // version 4
  bytes[8] = static_cast<unsigned char>((bytes[8] & 0x3f) | 0x80);  // RFC 4122 variant
  return std::string(bytes.begin(), bytes.end());
}

std::string newUuid() {
  std::string bytes = newUuidBytes();
  std::string out;
  out.reserve(36);
  static constexpr char kHex[] = "0123456789abcdef";
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    auto b = static_cast<unsigned char>(bytes[i]);
    out += kHex[b >> 4];
    out += kHex[b & 0xf];
  }
  return out;
}

std::string quoteForLog(std::string_view text, size_t maxLength) {
  std::string out;
  out.reserve(std::min(text.size(), maxLength) + 4);
  for (unsigned char c : text) {
    if (out.size() >= maxLength) {
      out += "...";
      break;
    }
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += static_cast<char>(c);
    } else {
      char buf[5];
      std::snprintf(buf, sizeof(buf), "\\x%02x", c);
      out += buf;
    }
  }
  return out;
}

std::string IdGenerator::next() {
  std::string counter = std::to_string(next_++);
  if (width_ > 0 && counter.size() < static_cast<size_t>(width_)) {
    counter.insert(0, static_cast<size_t>(width_) - counter.size(), '0');
  }
  return prefix_ + counter;
}

}  // namespace agora
