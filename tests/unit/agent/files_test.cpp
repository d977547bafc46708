// /files/read and /files/browse: reads inside sandboxes, nothing outside.

#include <gtest/gtest.h>

#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "agora/agent/files.hpp"

namespace agora::agent {
namespace {

namespace fs = std::filesystem;

class FilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "agora-files-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    workDir_ = pattern;
    sandbox_ = workDir_ + "/slaves/A1/frameworks/F1/executors/E1/runs/C1";
    fs::create_directories(sandbox_);
    std::ofstream(sandbox_ + "/stdout") << "hello world\n";
    std::ofstream(workDir_ + "/secret") << "top secret\n";
    fs::create_symlink(workDir_ + "/secret", sandbox_ + "/escape");
    fs::create_directories(workDir_ + "/meta");
    files_.workDir = workDir_;
    files_.agentId = [] { return std::string("A1"); };
    files_.taskSandbox = [this](const std::string& framework, const std::string& task) -> std::optional<std::string> {
      if (framework == "F1" && task == "t1") return sandbox_;
      return std::nullopt;
    };
  }
  void TearDown() override { fs::remove_all(workDir_); }

  static HttpRequest get(std::map<std::string, std::string, std::less<>> query) {
    HttpRequest request;
    request.method = "GET";
    request.path = "/files/read";
    request.query = std::move(query);
    return request;
  }
  Status::Code readError(std::map<std::string, std::string, std::less<>> query) {
    auto result = readSandboxFile(files_, get(std::move(query)));
    return result.ok() ? Status::Code::kOk : result.error().code();
  }

  std::string workDir_;
  std::string sandbox_;
  SandboxFiles files_;
};

TEST_F(FilesTest, ReadsByAbsoluteVirtualAndTaskRelativePaths) {
  auto read = readSandboxFile(files_, get({{"path", sandbox_ + "/stdout"}, {"offset", "0"}}));
  ASSERT_TRUE(read.ok()) << read.error();
  EXPECT_EQ((*read)["data"], "hello world\n");
  EXPECT_EQ((*read)["offset"], 0);

  read = readSandboxFile(files_, get({{"path", "/frameworks/F1/executors/E1/runs/latest/stdout"}, {"offset", "6"}}));
  ASSERT_TRUE(read.ok()) << read.error();
  EXPECT_EQ((*read)["data"], "world\n");

  read = readSandboxFile(files_, get({{"framework_id", "F1"}, {"task_id", "t1"}, {"path", "stdout"},
                                      {"offset", "0"}, {"length", "5"}}));
  ASSERT_TRUE(read.ok()) << read.error();
  EXPECT_EQ((*read)["data"], "hello");

  // No offset: the size, for tail -f.
  read = readSandboxFile(files_, get({{"path", sandbox_ + "/stdout"}}));
  ASSERT_TRUE(read.ok());
  EXPECT_EQ((*read)["data"], "");
  EXPECT_EQ((*read)["offset"], 12);
  // Past the end: nothing.
  read = readSandboxFile(files_, get({{"path", sandbox_ + "/stdout"}, {"offset", "100"}}));
  ASSERT_TRUE(read.ok());
  EXPECT_EQ((*read)["data"], "");
}

// A read whose length ends inside a multi-byte character stops before it,
// so that readers advancing by the bytes they got never skip or repeat.
TEST_F(FilesTest, ReadsEndOnUtf8CharacterBoundaries) {
  std::ofstream(sandbox_ + "/utf8") << "ab\xE2\x82\xAC!";  // "ab€!": the euro sign is 3 bytes.
  auto readAt = [&](int offset, int length) {
    auto read = readSandboxFile(files_, get({{"path", sandbox_ + "/utf8"}, {"offset", std::to_string(offset)},
                                             {"length", std::to_string(length)}}));
    EXPECT_TRUE(read.ok()) << read.error();
    return read.ok() ? (*read)["data"].get<std::string>() : "";
  };
  EXPECT_EQ(readAt(0, 3), "ab");
  EXPECT_EQ(readAt(0, 4), "ab");
  EXPECT_EQ(readAt(0, 5), "ab\xE2\x82\xAC");
  EXPECT_EQ(readAt(2, 10), "\xE2\x82\xAC!");
  EXPECT_EQ(readAt(2, 1), "\xE2");  // Never an empty answer short of the end: no reader is stuck.
}

TEST_F(FilesTest, NothingOutsideTheSandboxes) {
  using Code = Status::Code;
  EXPECT_EQ(readError({{"path", workDir_ + "/secret"}, {"offset", "0"}}), Code::kPermissionDenied);
  EXPECT_EQ(readError({{"path", "/etc/passwd"}, {"offset", "0"}}), Code::kPermissionDenied);
  EXPECT_EQ(readError({{"path", sandbox_ + "/../../../../../../../secret"}}), Code::kPermissionDenied);
  EXPECT_EQ(readError({{"framework_id", "F1"}, {"task_id", "t1"}, {"path", "../../../../../../../secret"}}),
            Code::kPermissionDenied);
  EXPECT_EQ(readError({{"path", sandbox_ + "/escape"}, {"offset", "0"}}), Code::kPermissionDenied);  // Symlink out.
  EXPECT_EQ(readError({{"path", workDir_ + "/slaves/A1/frameworks/F1"}}), Code::kPermissionDenied);
  EXPECT_EQ(readError({{"path", sandbox_ + "/missing"}}), Code::kNotFound);
  EXPECT_EQ(readError({{"framework_id", "F1"}, {"task_id", "t9"}, {"path", "stdout"}}), Code::kNotFound);
  EXPECT_EQ(readError({{"path", "stdout"}}), Code::kInvalidArgument);
  EXPECT_EQ(readError({}), Code::kInvalidArgument);
  EXPECT_EQ(readError({{"path", sandbox_ + "/stdout"}, {"offset", "-5"}}), Code::kInvalidArgument);
  EXPECT_EQ(readError({{"path", sandbox_ + "/stdout"}, {"offset", "x"}}), Code::kInvalidArgument);
  EXPECT_EQ(readError({{"path", sandbox_ + "/stdout"}, {"length", "-1"}}), Code::kInvalidArgument);
  EXPECT_EQ(readError({{"path", sandbox_}, {"offset", "0"}}), Code::kInvalidArgument);  // A directory.
}

TEST_F(FilesTest, Browse) {
  auto listing = browseSandbox(files_, get({{"path", sandbox_}}));
  ASSERT_TRUE(listing.ok()) << listing.error();
  ASSERT_EQ(listing->size(), 2u);  // stdout and the escape link (listed, not followed).
  EXPECT_FALSE(browseSandbox(files_, get({{"path", workDir_}})).ok());
}

}  // namespace
}  // namespace agora::agent
