#include "fs.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>

namespace agora::containerizer::fs {

Status errnoStatus(std::string_view what, const std::string& path, int err) {
  std::string message(what);
  message += " '";
  message += path;
  message += "': ";
  message += std::strerror(err);
  switch (err) {
    case ENOENT:
      return Status::NotFound(message);
    case EACCES:
    case EPERM:
    case EROFS:
      return Status::PermissionDenied(message);
    case EBUSY:
      return Status::Unavailable(message);
    default:
      return Status::IoError(message);
  }
}

std::string join(const std::string& a, const std::string& b) {
  if (a.empty()) return b;
  if (b.empty()) return a;
  if (a.back() == '/') return a + b;
  return a + "/" + b;
}

bool exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

bool isDirectory(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

Result<std::string> read(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errnoStatus("Failed to open", path, errno);
  std::string out;
  char buffer[4096];
  while (true) {
    ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return errnoStatus("Failed to read", path, err);
    }
    if (n == 0) break;
    out.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

Status write(const std::string& path, std::string_view value) {
  int fd = ::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
  if (fd < 0) return errnoStatus("Failed to open", path, errno);
  ssize_t n;
  do {
    n = ::write(fd, value.data(), value.size());
  } while (n < 0 && errno == EINTR);
  int err = errno;
  ::close(fd);
  if (n < 0) return errnoStatus("Failed to write '" + std::string(value) + "' to", path, err);
  if (static_cast<size_t>(n) != value.size()) {
    return Status::IoError("Short write of '" + std::string(value) + "' to '" + path + "'");
  }
  return Status::OK();
}

Status mkdir(const std::string& path, bool existOk) {
  if (::mkdir(path.c_str(), 0755) == 0) return Status::OK();
  if (errno == EEXIST) {
    if (existOk) return Status::OK();
    return Status::AlreadyExists("Cgroup '" + path + "' already exists");
  }
  return errnoStatus("Failed to create", path, errno);
}

Status rmdir(const std::string& path) {
  if (::rmdir(path.c_str()) == 0 || errno == ENOENT) return Status::OK();
  return errnoStatus("Failed to remove", path, errno);
}

Result<std::vector<std::string>> subdirectories(const std::string& path) {
  DIR* dir = ::opendir(path.c_str());
  if (dir == nullptr) return errnoStatus("Failed to list", path, errno);
  std::vector<std::string> names;
  while (struct dirent* entry = ::readdir(dir)) {
    std::string_view name(entry->d_name);
    if (name == "." || name == "..") continue;
    bool directory = entry->d_type == DT_DIR;
    if (entry->d_type == DT_UNKNOWN) directory = isDirectory(join(path, std::string(name)));
    if (directory) names.emplace_back(name);
  }
  ::closedir(dir);
  std::sort(names.begin(), names.end());
  return names;
}

std::optional<uint64_t> parseUint(std::string_view text) {
  size_t begin = text.find_first_not_of(" \t\n");
  if (begin == std::string_view::npos) return std::nullopt;
  size_t end = text.find_last_not_of(" \t\n");
  text = text.substr(begin, end - begin + 1);
  uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    uint64_t digit = static_cast<uint64_t>(c - '0');
    if (value > (UINT64_MAX - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
  }
  return value;
}

std::vector<std::string> words(std::string_view text) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    size_t start = i;
    while (i < text.size() && !std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    if (i > start) out.emplace_back(text.substr(start, i - start));
  }
  return out;
}

std::map<std::string, uint64_t, std::less<>> parseKeyValues(std::string_view text) {
  std::map<std::string, uint64_t, std::less<>> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    std::vector<std::string> fields = words(text.substr(pos, eol - pos));
    if (fields.size() == 2) {
      if (auto value = parseUint(fields[1])) out[fields[0]] = *value;
    }
    pos = eol + 1;
  }
  return out;
}

}  // namespace agora::containerizer::fs
