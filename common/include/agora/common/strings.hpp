#pragma once

// Small string helpers shared by flag and schedule parsers.

#include <string_view>
#include <vector>

namespace agora {

// Splits `text` on every `separator`, keeping empty pieces: "a,,b" gives
// {"a", "", "b"}, "" gives {""}. The pieces view `text`.
std::vector<std::string_view> splitText(std::string_view text, char separator);

}  // namespace agora
