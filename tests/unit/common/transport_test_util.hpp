#pragma once

// Helpers for tests that run real sockets on an io_context.

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>

#include <utility>
#include <boost/asio/io_context.hpp>

namespace agora::testing {

// Runs `loop` until `done()` holds. The deadline only stops a hung test;
// nothing asserts on how long it took.
template <typename Predicate>
bool runUntil(boost::asio::io_context& loop, Predicate done,
              std::chrono::seconds deadline = std::chrono::seconds(30)) {
  const auto end = std::chrono::steady_clock::now() + deadline;
  while (!done()) {
    if (std::chrono::steady_clock::now() > end) return false;
    loop.restart();
    loop.run_for(std::chrono::milliseconds(5));
  }
  return true;
}

// A temporary directory, removed with its contents.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "agora-test-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) std::abort();
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace agora::testing
