#include "agora/common/json_body.hpp"

#include <string>

#include "agora/common/id.hpp"

namespace agora {

size_t findExcessNesting(std::string_view text, size_t maxDepth) {
  size_t depth = 0;
  bool inString = false;
  bool escaped = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (inString) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        inString = false;
      }
      continue;
    }
    switch (c) {
      case '"':
        inString = true;
        break;
      case '[':
      case '{':
        if (++depth > maxDepth) return i;
        break;
      case ']':
      case '}':
        // Unbalanced closers are the parser's to report.
        if (depth > 0) --depth;
        break;
      default:
        break;
    }
  }
  return std::string_view::npos;
}



Result<nlohmann::json> parseJsonBody(std::string_view text, size_t maxDepth, size_t maxBytes) {
  if (text.size() > maxBytes) {
    return Status::ResourceExhausted("JSON body of " + std::to_string(text.size()) +
                                     " bytes is over the limit of " + std::to_string(maxBytes));
  }
  if (const size_t at = findExcessNesting(text, maxDepth); at != std::string_view::npos) {
    return Status::InvalidArgument("Invalid JSON: nested deeper than " + std::to_string(maxDepth) +
                                   " at byte " + std::to_string(at));
  }
  try {
    return nlohmann::json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::parse_error& e) {
    // e.what() quotes the offending input: keep it short and printable.
    return Status::InvalidArgument("Invalid JSON at byte " + std::to_string(e.byte) + ": " +
                                   quoteForLog(e.what(), 200));
  } catch (const nlohmann::json::exception& e) {
    return Status::InvalidArgument("Invalid JSON: " + quoteForLog(e.what(), 200));
  }
}

}  // namespace agora
