// HttpRequest and HttpResponse helpers, and URL decoding (http.hpp).

#include <cctype>
#include <strings.h>

#include "agora/common/http.hpp"

namespace agora {

namespace {

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

std::optional<std::string_view> findField(const std::vector<std::pair<std::string, std::string>>& fields,
                                          std::string_view name) {
  for (const auto& [key, value] : fields) {
    if (equalsIgnoreCase(key, name)) return value;
  }
  return std::nullopt;
}

}  // namespace

std::string percentEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  return out;
}

Result<std::string> percentDecode(std::string_view text, bool plusIsSpace) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%') {
      const int high = i + 1 < text.size() ? hexValue(text[i + 1]) : -1;
      const int low = i + 2 < text.size() ? hexValue(text[i + 2]) : -1;
      if (high < 0 || low < 0) {
        return Status::InvalidArgument("Malformed percent-encoding at offset " + std::to_string(i));
      }
      out.push_back(static_cast<char>(high * 16 + low));
      i += 2;
    } else if (c == '+' && plusIsSpace) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

Result<std::map<std::string, std::string, std::less<>>> parseQuery(std::string_view query) {
  std::map<std::string, std::string, std::less<>> params;
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view piece = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (piece.empty()) continue;
    const size_t eq = piece.find('=');
    auto name = percentDecode(piece.substr(0, eq), true);
    if (!name.ok()) return name.error().withContext("Invalid query parameter name");
    auto value = percentDecode(eq == std::string_view::npos ? std::string_view() : piece.substr(eq + 1), true);
    if (!value.ok()) return value.error().withContext("Invalid value of query parameter '" + *name + "'");
    params.emplace(std::move(name).value(), std::move(value).value());  // Keeps the first.
  }
  return params;
}

std::optional<std::string_view> HttpRequest::header(std::string_view name) const {
  return findField(headers, name);
}

std::optional<std::string_view> HttpRequest::queryParam(std::string_view name) const {
  auto it = query.find(name);
  if (it == query.end()) return std::nullopt;
  return it->second;
}

std::optional<std::string_view> HttpResponse::header(std::string_view name) const {
  if (equalsIgnoreCase(name, "content-type")) return content_type;
  return findField(headers, name);
}

HttpResponse HttpResponse::text(int status, std::string body) {
  HttpResponse response;
  response.status = status;
  response.body = std::move(body);
  return response;
}

HttpResponse HttpResponse::json(int status, const nlohmann::json& body) {
  HttpResponse response;
  response.status = status;
  response.content_type = "application/json";
  response.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return response;
}

HttpResponse HttpResponse::error(int status, std::string_view message) {
  return text(status, std::string(message));
}

HttpResponse HttpResponse::fromStatus(const Status& status) {
  switch (status.code()) {
    case Status::Code::kOk:
      return text(200, "");
    case Status::Code::kInvalidArgument:
      return error(400, status.message());
    case Status::Code::kPermissionDenied:
      return error(403, status.message());
    case Status::Code::kNotFound:
      return error(404, status.message());
    case Status::Code::kAlreadyExists:
    case Status::Code::kFailedPrecondition:
      return error(409, status.message());
    case Status::Code::kResourceExhausted:
      return error(413, status.message());
    case Status::Code::kUnavailable:
      return error(503, status.message());
    case Status::Code::kCorruption:
    case Status::Code::kIoError:
    case Status::Code::kInternal:
      break;
  }
  return error(500, status.message());
}

}  // namespace agora
