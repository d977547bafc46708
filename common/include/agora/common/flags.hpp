#pragma once

// Daemon and tool configuration: flags declared once, given on the command
// line, in the environment or in a config file (DESIGN.md "Processes and
// addresses"; docs/configuration.md for operators).
//
//   struct MasterFlags {
//     int64_t port = 0;
//     std::string workDir;
//     Duration allocationInterval{};
//   };
//
//   MasterFlags f;
//   Flags flags("agora-master");
//   flags.add(&f.port, "port", "HTTP port to listen on", 5050, inRange<int64_t>(1, 65535));
//   flags.add(&f.workDir, "work_dir", "Where the master keeps its registry", "");
//   flags.add(&f.allocationInterval, "allocation_interval", "Batch allocation period",
//             std::chrono::seconds(1));
//   if (Status s = flags.parse(argc, argv); !s.ok()) {
//     std::cerr << "agora-master: " << s.message() << std::endl;  // One clear line.
//     return EXIT_FAILURE;
//   }
//   if (flags.helpRequested()) { std::cout << flags.usage(); return EXIT_SUCCESS; }
//
// Sources, highest precedence first:
//   1. the command line: --name=value, --name value, and for booleans --name
//      (true) and --no-name (false);
//   2. the environment: AGORA_NAME=value (the flag's name in upper case);
//   3. the config file named by --config=FILE (or AGORA_CONFIG): either a JSON
//      object {"name": value, ...} or lines of name=value, with blank lines
//      and lines starting with '#' ignored;
//   4. the declared default.
// Every value is checked at parse time, whatever its source, so a bad value
// in the config file is an error even if the command line overrides it.
//
// Why not CLI11: CLI11 2.1 (Debian 12) can read an environment variable per
// option and INI/TOML files, but it does not tell afterwards which source
// set an option (what /flags must show), it reports errors in its own words
// and through exceptions, and --no-name needs a second declaration per
// boolean. A small parser that owns those three behaviours is shorter than
// the glue around CLI11 would be.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "agora/common/clock.hpp"
#include "agora/common/result.hpp"
#include "agora/common/status.hpp"

namespace agora {

// A size in bytes, as operators write it: "512MB", "4GB", "1024B" (binary
// multiples, as Mesos: 1KB = 1024B). A distinct type so that a flag knows to
// parse units.
struct Bytes {
  uint64_t value = 0;
  bool operator==(const Bytes&) const = default;
};

// Parses "<non-negative integer><unit>", unit one of B, KB, MB, GB, TB (case
// sensitive, as Mesos). A bare number is rejected: the unit is required.
Result<Bytes> parseBytes(std::string_view text);

// The largest exact unit: "512MB", "1GB", "1000B".
std::string formatBytes(Bytes bytes);

// Where a flag's effective value came from.
enum class FlagSource { kDefault, kConfigFile, kEnvironment, kCommandLine };

// "default", "config_file", "environment", "command_line".
std::string_view flagSourceName(FlagSource source);

// A validator checks a parsed value and explains a rejection without naming
// the flag or the value (the caller adds both), e.g. "must be between 1 and
// 65535".
template <typename T>
using FlagValidator = std::function<Status(const T&)>;

// Accepts lo <= value <= hi.
template <typename T>
FlagValidator<T> inRange(T lo, T hi) {
  return [lo, hi](const T& value) {
    if (value >= lo && value <= hi) return Status::OK();
    return Status::InvalidArgument(fmt::format("must be between {} and {}", lo, hi));
  };
}

// Accepts one of the listed strings.
FlagValidator<std::string> oneOf(std::vector<std::string> allowed);

// Accepts a string that `parse` accepts (e.g. parseLogLevel), so a string
// flag is checked at start by the same function that later reads it. `parse`
// returns errors like "Invalid <thing> '<text>': <why>"; only <why> is kept.
template <typename T>
FlagValidator<std::string> parsesWith(Result<T> (*parse)(std::string_view));

class Flags {
 public:
  // `program` names the binary in usage(); `envPrefix` is prepended to the
  // upper-cased flag name to find its environment variable.
  explicit Flags(std::string program, std::string envPrefix = "AGORA_");

  Flags(const Flags&) = delete;
  Flags& operator=(const Flags&) = delete;

  // Declares a flag that stores into `*target` (which must outlive this
  // object, and is set to `defaultValue` now). T is one of std::string,
  // int64_t, double, bool, Duration or Bytes. `name` is lower case letters,
  // digits and '_' (checked: a bad name or a second declaration aborts, it is
  // a bug). `validator`, if given, also sees the default.
  // T is deduced from `target` alone, so `add(&port, "port", "...", 5050)`
  // and `add(&dir, "work_dir", "...", "/var/lib/agora")` work.
  template <typename T>
  void add(T* target, std::string name, std::string help, std::type_identity_t<T> defaultValue,
           FlagValidator<std::type_identity_t<T>> validator = nullptr);

  // Reads the command line `args` (without argv[0]), the environment `env`
  // and the config file if one is named, and stores each flag's value by the
  // precedence above (applying the config file first, the command line
  // last). On error returns InvalidArgument (IoError for an unreadable config
  // file) whose message is one line naming the flag, the value and the
  // source. Flags not given keep their defaults. Call once.
  Status parse(const std::vector<std::string>& args, const std::map<std::string, std::string>& env);

  // The same, from main()'s arguments and the process environment.
  Status parse(int argc, const char* const* argv);

  // True if --help was given; parse() then returns OK without checking
  // anything else, and the caller should print usage() and exit 0.
  bool helpRequested() const { return help_; }

  // Arguments after a bare "--", for tools that run a command
  // (`agora run ... -- CMD ARGS`). Any other non-flag argument is an error.
  const std::vector<std::string>& positionals() const { return positionals_; }

  // Every flag, sorted by name, with its type, default and help text.
  std::string usage() const;

  // For /flags: {"flags": {"port": "5050", ...}, "sources": {"port":
  // "command_line", ...}}. Values are strings, as Mesos's /flags renders
  // them, so existing tools keep working; "sources" is Agora's addition.
  nlohmann::json toJson() const;

  // The effective value of a declared flag as text, and its source.
  // Precondition: `name` was declared (checked).
  std::string value(std::string_view name) const;
  FlagSource source(std::string_view name) const;

 private:
  struct Flag {
    std::string name;
    std::string typeName;  // For usage(): "INT", "DURATION", ...
    std::string help;
    std::string defaultText;
    bool isBool = false;
    FlagSource source = FlagSource::kDefault;
    // Parses, validates and stores `text`; the error names neither the
    // flag nor the value.
    std::function<Status(std::string_view text)> set;
    std::function<std::string()> format;  // The current value as text.
  };

  void declare(Flag flag);
  Flag& find(std::string_view name);
  const Flag& find(std::string_view name) const;
  // Sets `flag` from `text`, or explains in one line why not.
  Status assign(Flag& flag, std::string_view text, FlagSource source, std::string_view where);
  Status loadConfigFile(const std::string& path);
  Status unknownFlag(std::string_view name, std::string_view where) const;

  std::string program_;
  std::string envPrefix_;
  std::map<std::string, Flag, std::less<>> flags_;
  std::string config_;  // --config, declared by the constructor.
  bool help_ = false;
  std::vector<std::string> positionals_;
};

// --- Implementation details -------------------------------------------------

namespace flags_internal {
// Text -> value for each supported type; errors name neither flag nor value.
Status parseValue(std::string_view text, std::string* out);
Status parseValue(std::string_view text, int64_t* out);
Status parseValue(std::string_view text, double* out);
Status parseValue(std::string_view text, bool* out);
Status parseValue(std::string_view text, Duration* out);
Status parseValue(std::string_view text, Bytes* out);

std::string formatValue(const std::string& value);
std::string formatValue(int64_t value);
std::string formatValue(double value);
std::string formatValue(bool value);
std::string formatValue(Duration value);
std::string formatValue(Bytes value);

template <typename T> constexpr const char* kTypeName = nullptr;
template <> inline constexpr const char* kTypeName<std::string> = "STRING";
template <> inline constexpr const char* kTypeName<int64_t> = "INT";
template <> inline constexpr const char* kTypeName<double> = "NUMBER";
template <> inline constexpr const char* kTypeName<bool> = "BOOL";
template <> inline constexpr const char* kTypeName<Duration> = "DURATION";
template <> inline constexpr const char* kTypeName<Bytes> = "BYTES";

[[noreturn]] void invalidDefault(const std::string& name, const Status& status);

// "Invalid <thing> '<text>': <why>" -> "<why>", for errors that the flag
// error message would otherwise repeat the value in.
Status explanation(const Status& status);
}  // namespace flags_internal

template <typename T>
FlagValidator<std::string> parsesWith(Result<T> (*parse)(std::string_view)) {
  return [parse](const std::string& value) {
    return flags_internal::explanation(parse(value).status());
  };
}

template <typename T>
void Flags::add(T* target, std::string name, std::string help, std::type_identity_t<T> defaultValue,
                FlagValidator<std::type_identity_t<T>> validator) {
  static_assert(flags_internal::kTypeName<T> != nullptr,
                "flag type must be std::string, int64_t, double, bool, Duration or Bytes");
  if (validator) {
    Status status = validator(defaultValue);
    if (!status.ok()) flags_internal::invalidDefault(name, status);
  }
  *target = defaultValue;
  Flag flag;
  flag.name = std::move(name);
  flag.typeName = flags_internal::kTypeName<T>;
  flag.help = std::move(help);
  flag.defaultText = flags_internal::formatValue(defaultValue);
  flag.isBool = std::is_same_v<T, bool>;
  flag.set = [target, validator = std::move(validator)](std::string_view text) {
    T parsed{};
    AGORA_RETURN_IF_ERROR(flags_internal::parseValue(text, &parsed));
    if (validator) AGORA_RETURN_IF_ERROR(validator(parsed));
    *target = std::move(parsed);
    return Status::OK();
  };
  flag.format = [target] { return flags_internal::formatValue(*target); };
  declare(std::move(flag));
}

}  // namespace agora
