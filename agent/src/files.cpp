// /files/read and /files/browse (files.hpp): every path is resolved to one
// sandbox and checked again after symlinks, so nothing else can be read.

#include "agora/agent/files.hpp"

#include <sys/stat.h>

#include <charconv>
#include <filesystem>
#include <fstream>
#include <vector>

#include <fmt/format.h>

#include "agora/common/id.hpp"

namespace agora::agent {

namespace fs = std::filesystem;

namespace {

// The fixed shape of a sandbox below <work_dir>/slaves:
// <agent>/frameworks/<f>/executors/<e>/runs/<c>.
constexpr size_t kSandboxDepth = 7;

std::vector<std::string> components(const fs::path& path) {
  std::vector<std::string> out;
  for (const auto& part : path) {
    std::string text = part.string();
    if (text.empty() || text == "/" || text == ".") continue;
    out.push_back(text);
  }
  return out;
}

bool isSandboxShape(const std::vector<std::string>& parts, size_t first) {
  return parts.size() >= first + kSandboxDepth - 1 && parts[first] == "frameworks" &&
         parts[first + 2] == "executors" && parts[first + 4] == "runs";
}

Result<int64_t> integerParam(const HttpRequest& request, std::string_view name, int64_t fallback) {
  auto text = request.queryParam(name);
  if (!text || text->empty()) return fallback;
  int64_t value = 0;
  auto [end, error] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (error != std::errc() || end != text->data() + text->size()) {
    return Status::InvalidArgument(fmt::format("Query parameter '{}' must be an integer", name));
  }
  return value;
}

// The newest run of an executor ("runs/latest" in Mesos's virtual paths).
std::optional<fs::path> latestRun(const fs::path& runs) {
  std::error_code ec;
  std::optional<fs::path> best;
  fs::file_time_type bestTime;
  for (const auto& entry : fs::directory_iterator(runs, ec)) {
    if (!entry.is_directory(ec)) continue;
    auto time = entry.last_write_time(ec);
    if (ec) continue;
    if (!best || time > bestTime) {
      best = entry.path();
      bestTime = time;
    }
  }
  return best;
}

bool within(const fs::path& path, const fs::path& dir) {
  const std::string p = path.string();
  const std::string d = dir.string();
  return p == d || (p.size() > d.size() && p.compare(0, d.size(), d) == 0 && p[d.size()] == '/');
}

std::string modeString(mode_t mode) {
  std::string out = S_ISDIR(mode) ? "d" : S_ISLNK(mode) ? "l" : "-";
  const char* letters = "rwxrwxrwx";
  for (int i = 0; i < 9; ++i) out += (mode & (1 << (8 - i))) ? letters[i] : '-';
  return out;
}

// How many bytes at the end of `data` start a UTF-8 sequence that the data
// cuts short (0 when it ends on a character boundary). The JSON answer
// carries text: a cut character would come back as U+FFFD, and a reader
// advancing its offset by what it decoded would skip bytes.
size_t cutUtf8Tail(std::string_view data) {
  for (size_t i = 1; i <= std::min<size_t>(3, data.size()); ++i) {
    const auto c = static_cast<unsigned char>(data[data.size() - i]);
    if ((c & 0xC0) == 0x80) continue;  // A continuation byte: look further back.
    if (c < 0xC0) return 0;            // ASCII.
    const size_t need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
    return need > i ? i : 0;
  }
  return 0;
}

}  // namespace

Result<std::string> resolveSandboxPath(const SandboxFiles& files, const HttpRequest& request) {
  auto given = request.queryParam("path");
  if (!given || given->empty()) return Status::InvalidArgument("Missing query parameter 'path'");
  const std::string text(*given);
  if (text.find('\0') != std::string::npos) return Status::InvalidArgument("Invalid 'path'");
  const fs::path requested(text);
  for (const auto& part : components(requested)) {
    if (part == "..") return Status::PermissionDenied("Path " + quoteForLog(text) + " leaves the sandbox");
  }

  std::error_code ec;
  const fs::path root = (fs::absolute(files.workDir, ec) / "slaves").lexically_normal();
  fs::path sandbox;
  fs::path candidate;
  auto frameworkId = request.queryParam("framework_id");
  auto taskId = request.queryParam("task_id");
  if (frameworkId && taskId && !requested.is_absolute()) {
    // Relative to a task's sandbox.
    auto found = files.taskSandbox ? files.taskSandbox(std::string(*frameworkId), std::string(*taskId)) : std::nullopt;
    if (!found) {
      return Status::NotFound("No sandbox for task " + quoteForLog(std::string(*taskId)) + " of framework " +
                              quoteForLog(std::string(*frameworkId)));
    }
    sandbox = fs::absolute(*found, ec).lexically_normal();
    candidate = sandbox / requested;
  } else if (!requested.is_absolute()) {
    return Status::InvalidArgument("'path' must be absolute, or relative with framework_id and task_id");
  } else {
    const fs::path normal = requested.lexically_normal();
    std::vector<std::string> parts = components(normal);
    // Mesos's virtual form: /frameworks/F/executors/E/runs/<C|latest>/...
    const std::string agentId = files.agentId ? files.agentId() : "";
    if (isSandboxShape(parts, 0) && !agentId.empty()) {
      fs::path runs = root / agentId / "frameworks" / parts[1] / "executors" / parts[3] / "runs";
      if (parts[5] == "latest") {
        auto latest = latestRun(runs);
        if (!latest) return Status::NotFound("No run of executor " + quoteForLog(parts[3]));
        sandbox = *latest;
      } else {
        sandbox = runs / parts[5];
      }
      candidate = sandbox;
      for (size_t i = kSandboxDepth - 1; i < parts.size(); ++i) candidate /= parts[i];
    } else {
      // The real path, as /state shows it: <work_dir>/slaves/<agent>/frameworks/...
      std::vector<std::string> rootParts = components(root);
      bool under = parts.size() >= rootParts.size() + kSandboxDepth &&
                   std::equal(rootParts.begin(), rootParts.end(), parts.begin()) &&
                   isSandboxShape(parts, rootParts.size() + 1);
      if (!under) return Status::PermissionDenied("Path " + quoteForLog(text) + " is not inside a sandbox");
      sandbox = root;
      for (size_t i = rootParts.size(); i < rootParts.size() + kSandboxDepth; ++i) sandbox /= parts[i];
      candidate = normal;
    }
  }

  // Symlinks: the real file must still be inside the real sandbox.
  const fs::path realSandbox = fs::canonical(sandbox, ec);
  if (ec) return Status::NotFound("No sandbox " + quoteForLog(sandbox.string()));
  const fs::path real = fs::canonical(candidate, ec);
  if (ec) return Status::NotFound("No such file " + quoteForLog(text));
  if (!within(real, realSandbox)) {
    return Status::PermissionDenied("Path " + quoteForLog(text) + " leads out of its sandbox");
  }
  return real.string();
}

Result<nlohmann::json> readSandboxFile(const SandboxFiles& files, const HttpRequest& request) {
  AGORA_ASSIGN_OR_RETURN(int64_t offset, integerParam(request, "offset", -1));
  AGORA_ASSIGN_OR_RETURN(int64_t length, integerParam(request, "length", kMaxFileReadLength));
  if (offset < -1) return Status::InvalidArgument("'offset' must be -1 or more");
  if (length < 0) return Status::InvalidArgument("'length' must not be negative");
  length = std::min(length, kMaxFileReadLength);
  AGORA_ASSIGN_OR_RETURN(std::string path, resolveSandboxPath(files, request));
  std::error_code ec;
  if (fs::is_directory(path, ec)) return Status::InvalidArgument("Cannot read a directory");
  const auto size = static_cast<int64_t>(fs::file_size(path, ec));
  if (ec) return Status::NotFound("Cannot read " + quoteForLog(path) + ": " + ec.message());
  if (offset == -1) return nlohmann::json{{"data", ""}, {"offset", size}};
  std::string data;
  if (offset < size) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return Status::NotFound("Cannot open " + quoteForLog(path));
    in.seekg(offset);
    data.resize(static_cast<size_t>(std::min(length, size - offset)));
    in.read(data.data(), static_cast<std::streamsize>(data.size()));
    data.resize(static_cast<size_t>(in.gcount()));
    // End on a character boundary; the next read starts at the cut one.
    if (size_t cut = cutUtf8Tail(data); cut > 0 && cut < data.size()) data.resize(data.size() - cut);
  }
  return nlohmann::json{{"data", data}, {"offset", offset}};
}

Result<nlohmann::json> browseSandbox(const SandboxFiles& files, const HttpRequest& request) {
  AGORA_ASSIGN_OR_RETURN(std::string path, resolveSandboxPath(files, request));
  std::error_code ec;
  if (!fs::is_directory(path, ec)) return Status::InvalidArgument("Not a directory");
  const std::string shown(*request.queryParam("path"));
  nlohmann::json out = nlohmann::json::array();
  for (const auto& entry : fs::directory_iterator(path, ec)) {
    struct stat st {};
    if (::lstat(entry.path().c_str(), &st) != 0) continue;
    out.push_back({{"path", (fs::path(shown) / entry.path().filename()).string()},
                   {"size", static_cast<int64_t>(st.st_size)},
                   {"mode", modeString(st.st_mode)},
                   {"mtime", static_cast<int64_t>(st.st_mtime)},
                   {"nlink", static_cast<int64_t>(st.st_nlink)},
                   {"uid", static_cast<int64_t>(st.st_uid)},
                   {"gid", static_cast<int64_t>(st.st_gid)}});
  }
  return out;
}

void addFilesRoutes(HttpServer& server, SandboxFiles files, uint64_t* invalid) {
  auto answer = [invalid](const Result<nlohmann::json>& result) {
    if (result.ok()) return HttpResponse::json(200, *result);
    if (invalid != nullptr) ++*invalid;
    return HttpResponse::fromStatus(result.error());
  };
  for (const std::string prefix : {"", "/slave(1)"}) {
    server.route("GET", prefix + "/files/read",
                 [files, answer](const HttpRequest& request) { return answer(readSandboxFile(files, request)); });
    server.route("GET", prefix + "/files/browse",
                 [files, answer](const HttpRequest& request) { return answer(browseSandbox(files, request)); });
  }
}

}  // namespace agora::agent
