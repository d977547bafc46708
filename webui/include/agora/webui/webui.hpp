#pragma once

// The web UI's files as the master serves them at "/" (DESIGN.md, issue 6):
// compiled into the binary (webui/embed.cmake turns webui/app into
// embeddedFiles()), or read from --webui_dir at each request, so that a UI
// developer edits and reloads without rebuilding.
//
//   Result<WebUi> ui = WebUi::create(flagValue);   // "" = the embedded files
//   server.route("GET", "/*", [&](const HttpRequest& r) { return ui->serve(r); });
//
// Responses: "/" is "/index.html"; a file gets its content type by
// extension, `Cache-Control: no-cache` and an ETag of its content (a
// matching If-None-Match gets 304), so a browser revalidates on every load
// and never runs a stale UI after an upgrade. An unknown file is 404. With a
// directory, no request reaches a file outside it: ".." segments, and
// symbolic links leading out, are 404 as well (counted apart).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agora/common/http.hpp"
#include "agora/common/result.hpp"

namespace agora::webui {

struct EmbeddedFile {
  std::string_view path;  // URL path, e.g. "/js/app.js".
  std::string_view data;
};

// Every file of webui/app, sorted by path (generated at build time).
const std::vector<EmbeddedFile>& embeddedFiles();

// "text/javascript; charset=utf-8" for "app.js"; application/octet-stream
// for unknown extensions.
std::string_view contentTypeFor(std::string_view path);

struct WebUiCounters {
  uint64_t served = 0;      // 200 and 304 answers.
  uint64_t not_found = 0;   // 404s, the rejected ones below included.
  uint64_t rejected = 0;    // Paths that tried to leave the directory.
};

class WebUi {
 public:
  // `dir` empty: the embedded files. Otherwise the folder must exist and
  // hold index.html (InvalidArgument naming the flag otherwise).
  static Result<WebUi> create(const std::string& dir);

  // Answers a GET for `request.path`. Never throws.
  HttpResponse serve(const HttpRequest& request);

  // The directory served, empty for the embedded files.
  const std::string& dir() const { return dir_; }
  const WebUiCounters& counters() const { return counters_; }

 private:
  explicit WebUi(std::string dir) : dir_(std::move(dir)) {}
  // The file's content, nullopt if there is no such file to serve.
  std::optional<std::string> read(const std::string& path);

  std::string dir_;  // Canonical, or empty.
  WebUiCounters counters_;
};

}  // namespace agora::webui
