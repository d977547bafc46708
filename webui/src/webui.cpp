// WebUi (webui.hpp): the UI's files, embedded or from --webui_dir.

#include "agora/webui/webui.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

namespace agora::webui {

namespace {

namespace fs = std::filesystem;

constexpr uintmax_t kMaxFileBytes = 32 * 1024 * 1024;

// The browser may fetch only from the master itself: no CDN, no inline
// script, nothing framed elsewhere.
constexpr std::string_view kContentSecurityPolicy =
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

std::string etagOf(std::string_view data) {
  uint64_t hash = 14695981039346656037ull;  // FNV-1a.
  for (unsigned char c : data) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  return fmt::format("\"{:016x}-{:x}\"", hash, data.size());
}

// True when `path` has a "..", "." or empty segment (after the first "/").
bool hasDotSegment(std::string_view path) {
  size_t start = 1;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    std::string_view segment = path.substr(start, slash == std::string_view::npos ? path.npos : slash - start);
    if (segment == ".." || segment == "." || (segment.empty() && slash != std::string_view::npos)) return true;
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return false;
}

HttpResponse notFound() { return HttpResponse::error(404, "No such file"); }

}  // namespace

std::string_view contentTypeFor(std::string_view path) {
  static constexpr std::pair<std::string_view, std::string_view> kTypes[] = {
      {".html", "text/html; charset=utf-8"},  {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"}, {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},          {".svg", "image/svg+xml"},
      {".png", "image/png"},                  {".ico", "image/x-icon"},
      {".txt", "text/plain; charset=utf-8"},  {".woff2", "font/woff2"},
  };
  for (const auto& [extension, type] : kTypes) {
    if (path.ends_with(extension)) return type;
  }
  return "application/octet-stream";
}

Result<WebUi> WebUi::create(const std::string& dir) {
  if (dir.empty()) return WebUi("");
  std::error_code error;
  fs::path canonical = fs::canonical(dir, error);
  if (error) return Status::InvalidArgument("Invalid flag --webui_dir '" + dir + "': " + error.message());
  if (!fs::is_regular_file(canonical / "index.html", error)) {
    return Status::InvalidArgument("Invalid flag --webui_dir '" + dir + "': no index.html in it");
  }
  return WebUi(canonical.string());
}

std::optional<std::string> WebUi::read(const std::string& path) {
  if (dir_.empty()) {
    const auto& files = embeddedFiles();
    auto it = std::lower_bound(files.begin(), files.end(), path,
                               [](const EmbeddedFile& file, const std::string& p) { return file.path < p; });
    if (it == files.end() || it->path != path) return std::nullopt;
    return std::string(it->data);
  }
  // Resolve symbolic links, then insist on staying inside the folder.
  std::error_code error;
  fs::path file = fs::canonical(fs::path(dir_) / path.substr(1), error);
  if (error) return std::nullopt;
  const std::string resolved = file.string();
  if (!resolved.starts_with(dir_ + "/")) {
    ++counters_.rejected;
    return std::nullopt;
  }
  if (!fs::is_regular_file(file, error) || fs::file_size(file, error) > kMaxFileBytes || error) return std::nullopt;
  std::ifstream in(file, std::ios::binary);
  std::ostringstream content;
  content << in.rdbuf();
  if (!in && !in.eof()) return std::nullopt;
  return std::move(content).str();
}

HttpResponse WebUi::serve(const HttpRequest& request) {
  const std::string path = request.path == "/" ? "/index.html" : request.path;
  if (hasDotSegment(path)) {
    ++counters_.rejected;
    ++counters_.not_found;
    return notFound();
  }
  std::optional<std::string> content;
  try {
    content = read(path);
  } catch (const std::exception&) {  // Allocation or stream failures: a 404, not a crash.
    content.reset();
  }
  if (!content) {
    ++counters_.not_found;
    return notFound();
  }
  ++counters_.served;
  HttpResponse response;
  const std::string etag = etagOf(*content);
  response.headers.emplace_back("Cache-Control", "no-cache");
  response.headers.emplace_back("ETag", etag);
  response.headers.emplace_back("X-Content-Type-Options", "nosniff");
  response.headers.emplace_back("Content-Security-Policy", std::string(kContentSecurityPolicy));
  response.content_type = std::string(contentTypeFor(path));
  if (request.header("if-none-match") == etag) {
    response.status = 304;
    return response;
  }
  response.status = 200;
  response.body = std::move(*content);
  return response;
}

}  // namespace agora::webui
