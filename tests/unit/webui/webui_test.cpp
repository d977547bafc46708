// WebUi: the embedded files and --webui_dir, content types, caching, 404s
// and paths that try to leave the directory.

#include "agora/webui/webui.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace agora::webui {
namespace {

namespace fs = std::filesystem;

HttpRequest get(std::string path) {
  HttpRequest request;
  request.method = "GET";
  request.path = std::move(path);
  return request;
}

std::optional<std::string> header(const HttpResponse& response, std::string_view name) {
  auto value = response.header(name);
  return value ? std::optional<std::string>(std::string(*value)) : std::nullopt;
}

TEST(WebUiTest, EmbedsTheAppFiles) {
  const auto& files = embeddedFiles();
  ASSERT_FALSE(files.empty());
  EXPECT_TRUE(std::is_sorted(files.begin(), files.end(),
                             [](const EmbeddedFile& a, const EmbeddedFile& b) { return a.path < b.path; }));
  bool index = false;
  for (const EmbeddedFile& file : files) {
    EXPECT_TRUE(file.path.starts_with("/")) << file.path;
    if (file.path == "/index.html") index = file.data.find("<!doctype html>") != std::string_view::npos;
  }
  EXPECT_TRUE(index);
}

TEST(WebUiTest, ServesTheEmbeddedIndexAtRoot) {
  auto ui = WebUi::create("");
  ASSERT_TRUE(ui.ok());
  HttpResponse response = ui->serve(get("/"));
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.content_type, "text/html; charset=utf-8");
  EXPECT_NE(response.body.find("js/app.js"), std::string::npos);
  EXPECT_EQ(header(response, "Cache-Control"), "no-cache");
  EXPECT_TRUE(header(response, "Content-Security-Policy").has_value());
  EXPECT_EQ(ui->serve(get("/index.html")).body, response.body);

  HttpResponse script = ui->serve(get("/js/app.js"));
  EXPECT_EQ(script.status, 200);
  EXPECT_EQ(script.content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(ui->counters().served, 3u);
}

TEST(WebUiTest, MatchingETagIs304WithoutBody) {
  auto ui = WebUi::create("");
  ASSERT_TRUE(ui.ok());
  HttpResponse first = ui->serve(get("/css/app.css"));
  auto etag = header(first, "ETag");
  ASSERT_TRUE(etag.has_value());
  HttpRequest again = get("/css/app.css");
  again.headers.emplace_back("if-none-match", *etag);
  HttpResponse second = ui->serve(again);
  EXPECT_EQ(second.status, 304);
  EXPECT_TRUE(second.body.empty());
  again.headers.back().second = "\"stale\"";
  EXPECT_EQ(ui->serve(again).status, 200);
}

TEST(WebUiTest, UnknownFilesAndDotSegmentsAre404) {
  auto ui = WebUi::create("");
  ASSERT_TRUE(ui.ok());
  for (const char* path : {"/nope.js", "/js", "/js/", "/../index.html", "/js/../index.html", "/./index.html",
                           "//index.html", "/index.html/.."}) {
    EXPECT_EQ(ui->serve(get(path)).status, 404) << path;
  }
  EXPECT_EQ(ui->counters().not_found, 8u);
  EXPECT_EQ(ui->counters().rejected, 5u);
}

TEST(WebUiTest, ContentTypes) {
  EXPECT_EQ(contentTypeFor("/a.html"), "text/html; charset=utf-8");
  EXPECT_EQ(contentTypeFor("/a.css"), "text/css; charset=utf-8");
  EXPECT_EQ(contentTypeFor("/a.js"), "text/javascript; charset=utf-8");
  EXPECT_EQ(contentTypeFor("/a.svg"), "image/svg+xml");
  EXPECT_EQ(contentTypeFor("/a.png"), "image/png");
  EXPECT_EQ(contentTypeFor("/a.bin"), "application/octet-stream");
  EXPECT_EQ(contentTypeFor("/Makefile"), "application/octet-stream");
}

class WebUiDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("agora-webui-test-" + std::to_string(::getpid()));
    fs::remove_all(root_);
    fs::create_directories(root_ / "app" / "js");
    write(root_ / "app" / "index.html", "<!doctype html>dev");
    write(root_ / "app" / "js" / "app.js", "export {};");
    write(root_ / "secret.txt", "outside");
    fs::create_symlink(root_ / "secret.txt", root_ / "app" / "leak.txt");
    fs::create_directory_symlink(root_, root_ / "app" / "up");
  }
  void TearDown() override { fs::remove_all(root_); }

  static void write(const fs::path& path, const std::string& content) { std::ofstream(path) << content; }

  fs::path root_;
};

TEST_F(WebUiDirTest, ServesTheFolderAndSeesEditsAtOnce) {
  auto ui = WebUi::create((root_ / "app").string());
  ASSERT_TRUE(ui.ok()) << ui.status();
  EXPECT_EQ(ui->serve(get("/")).body, "<!doctype html>dev");
  EXPECT_EQ(ui->serve(get("/js/app.js")).body, "export {};");
  write(root_ / "app" / "js" / "app.js", "export const x = 1;");
  EXPECT_EQ(ui->serve(get("/js/app.js")).body, "export const x = 1;");
  EXPECT_EQ(ui->serve(get("/js/missing.js")).status, 404);
  EXPECT_EQ(ui->serve(get("/js")).status, 404);  // A directory is no file.
}

TEST_F(WebUiDirTest, NoPathLeavesTheFolder) {
  auto ui = WebUi::create((root_ / "app").string());
  ASSERT_TRUE(ui.ok());
  for (const char* path : {"/../secret.txt", "/js/../../secret.txt", "/leak.txt", "/up/secret.txt",
                           "/../../../../../../etc/passwd"}) {
    HttpResponse response = ui->serve(get(path));
    EXPECT_EQ(response.status, 404) << path;
    EXPECT_EQ(response.body.find("outside"), std::string::npos) << path;
  }
  EXPECT_EQ(ui->counters().rejected, 5u);
}

TEST_F(WebUiDirTest, CreateChecksTheFolder) {
  auto missing = WebUi::create((root_ / "nope").string());
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("--webui_dir"), std::string::npos);
  auto noIndex = WebUi::create((root_ / "app" / "js").string());
  ASSERT_FALSE(noIndex.ok());
  EXPECT_NE(noIndex.status().message().find("index.html"), std::string::npos);
}

}  // namespace
}  // namespace agora::webui
