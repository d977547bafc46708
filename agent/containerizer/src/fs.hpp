#pragma once

// Small file-system helpers for cgroup files: every error is a Status that
// names the path and carries the errno text.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agora/common/result.hpp"
#include "agora/common/status.hpp"

namespace agora::containerizer::fs {

// "<what> '<path>': <strerror(err)>", IoError (NotFound for ENOENT,
// PermissionDenied for EACCES/EPERM/EROFS, Unavailable for EBUSY).
Status errnoStatus(std::string_view what, const std::string& path, int err);

std::string join(const std::string& a, const std::string& b);

bool exists(const std::string& path);
bool isDirectory(const std::string& path);

Result<std::string> read(const std::string& path);
// Writes `value` in one write(2) call, as cgroup files require (O_TRUNC, so
// a fake tree of regular files holds exactly the last value written).
Status write(const std::string& path, std::string_view value);

// mkdir; OK if it exists already when `existOk`.
Status mkdir(const std::string& path, bool existOk);
// rmdir; OK if it does not exist.
Status rmdir(const std::string& path);

// Names of the subdirectories of `path`, sorted; NotFound if absent.
Result<std::vector<std::string>> subdirectories(const std::string& path);

// Parses an unsigned decimal integer, surrounding whitespace allowed.
std::optional<uint64_t> parseUint(std::string_view text);
// Parses "key value" lines (cpu.stat, memory.stat, memory.events, ...).
// Values that are not integers are skipped.
std::map<std::string, uint64_t, std::less<>> parseKeyValues(std::string_view text);
// Splits on whitespace.
std::vector<std::string> words(std::string_view text);

}  // namespace agora::containerizer::fs
