#pragma once

// Limits shared by the wire layers.

#include <cstddef>

namespace agora {

// Default upper bound on one daemon-to-daemon message (an encoded
// Envelope), enforced by the transport and again before parsing.
inline constexpr size_t kDefaultMaxMessageBytes = 16 * 1024 * 1024;

}  // namespace agora
