#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "agora/common/flags.hpp"

namespace agora {
namespace {

using std::chrono::seconds;
using ::testing::HasSubstr;
using ::testing::Not;

// A small daemon's flags, one of each type.
struct TestFlags {
  std::string workDir;
  int64_t port = 0;
  double ratio = 0;
  bool verbose = false;
  bool color = true;
  Duration interval{};
  Bytes cache;
  std::string format;
};

class FlagsTest : public ::testing::Test {
 protected:
  FlagsTest() {
    flags_.add(&f_.workDir, "work_dir", "Where state lives", "/var/lib/agora");
    flags_.add(&f_.port, "port", "HTTP port", 5050, inRange<int64_t>(1, 65535));
    flags_.add(&f_.ratio, "ratio", "A fraction", 0.5);
    flags_.add(&f_.verbose, "verbose", "Say more", false);
    flags_.add(&f_.color, "color", "Use colours", true);
    flags_.add(&f_.interval, "interval", "How often", seconds(1));
    flags_.add(&f_.cache, "cache", "Cache size", Bytes{64 << 20});
    flags_.add(&f_.format, "format", "Output format", std::string("text"), oneOf({"text", "json"}));
    dir_ = std::filesystem::temp_directory_path() /
           ("agora_flags_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  ~FlagsTest() override { std::filesystem::remove_all(dir_); }

  std::string writeFile(const std::string& name, const std::string& content) {
    std::string path = (dir_ / name).string();
    std::ofstream(path) << content;
    return path;
  }

  Status parse(std::vector<std::string> args, std::map<std::string, std::string> env = {}) {
    return flags_.parse(args, env);
  }

  TestFlags f_;
  Flags flags_{"agora-test"};
  std::filesystem::path dir_;
};

TEST_F(FlagsTest, DefaultsApplyWhenNothingIsGiven) {
  ASSERT_TRUE(parse({}).ok());
  EXPECT_EQ(f_.workDir, "/var/lib/agora");
  EXPECT_EQ(f_.port, 5050);
  EXPECT_EQ(f_.ratio, 0.5);
  EXPECT_FALSE(f_.verbose);
  EXPECT_TRUE(f_.color);
  EXPECT_EQ(f_.interval, seconds(1));
  EXPECT_EQ(f_.cache, Bytes{64 << 20});
  EXPECT_EQ(flags_.source("port"), FlagSource::kDefault);
}

TEST_F(FlagsTest, CommandLineForms) {
  ASSERT_TRUE(parse({"--port=6060", "--work_dir", "/tmp/w", "--verbose", "--no-color", "--ratio=0.25",
                     "--interval=15secs", "--cache=1GB", "--format", "json"})
                  .ok());
  EXPECT_EQ(f_.port, 6060);
  EXPECT_EQ(f_.workDir, "/tmp/w");
  EXPECT_TRUE(f_.verbose);
  EXPECT_FALSE(f_.color);
  EXPECT_EQ(f_.ratio, 0.25);
  EXPECT_EQ(f_.interval, seconds(15));
  EXPECT_EQ(f_.cache, Bytes{1ull << 30});
  EXPECT_EQ(f_.format, "json");
  EXPECT_EQ(flags_.source("port"), FlagSource::kCommandLine);
  EXPECT_EQ(flags_.source("color"), FlagSource::kCommandLine);
}

TEST_F(FlagsTest, BooleansTakeExplicitValues) {
  ASSERT_TRUE(parse({"--verbose=true", "--color=false"}).ok());
  EXPECT_TRUE(f_.verbose);
  EXPECT_FALSE(f_.color);
}

TEST_F(FlagsTest, EnvironmentVariablesAreUpperCaseWithPrefix) {
  ASSERT_TRUE(parse({}, {{"AGORA_PORT", "7070"}, {"AGORA_VERBOSE", "true"}, {"AGORA_UNRELATED", "x"},
                         {"port", "1"}})
                  .ok());
  EXPECT_EQ(f_.port, 7070);
  EXPECT_TRUE(f_.verbose);
  EXPECT_EQ(flags_.source("port"), FlagSource::kEnvironment);
}

TEST_F(FlagsTest, ConfigFileOfLines) {
  std::string path = writeFile("agora.conf",
                               "# The test daemon\n"
                               "\n"
                               "port = 8080\n"
                               "work_dir=/srv/agora\n"
                               "  # indented comment\n"
                               "--interval=2mins\n"
                               "verbose=true\n");
  ASSERT_TRUE(parse({"--config=" + path}).ok()) << parse({"--config=" + path});
  EXPECT_EQ(f_.port, 8080);
  EXPECT_EQ(f_.workDir, "/srv/agora");
  EXPECT_EQ(f_.interval, std::chrono::minutes(2));
  EXPECT_TRUE(f_.verbose);
  EXPECT_EQ(flags_.source("port"), FlagSource::kConfigFile);
  EXPECT_EQ(flags_.source("config"), FlagSource::kCommandLine);
}

TEST_F(FlagsTest, ConfigFileAsJsonNamedByEnvironment) {
  std::string path = writeFile("agora.json",
                               R"({"port": 9090, "verbose": true, "ratio": 0.75, "interval": "3secs",
                                   "work_dir": [{"name": "cpus"}]})");
  ASSERT_TRUE(parse({}, {{"AGORA_CONFIG", path}}).ok());
  EXPECT_EQ(f_.port, 9090);
  EXPECT_TRUE(f_.verbose);
  EXPECT_EQ(f_.ratio, 0.75);
  EXPECT_EQ(f_.interval, seconds(3));
  EXPECT_EQ(f_.workDir, R"([{"name":"cpus"}])");  // Structured values stay JSON text.
  EXPECT_EQ(flags_.source("config"), FlagSource::kEnvironment);
}

TEST_F(FlagsTest, PrecedenceIsCommandLineThenEnvironmentThenConfigThenDefault) {
  std::string path = writeFile("agora.conf", "port=1001\nwork_dir=/config\ninterval=3secs\n");
  ASSERT_TRUE(parse({"--config=" + path, "--port=1003"},
                    {{"AGORA_PORT", "1002"}, {"AGORA_WORK_DIR", "/env"}})
                  .ok());
  EXPECT_EQ(f_.port, 1003);
  EXPECT_EQ(f_.workDir, "/env");
  EXPECT_EQ(f_.interval, seconds(3));
  EXPECT_EQ(f_.ratio, 0.5);
  EXPECT_EQ(flags_.source("port"), FlagSource::kCommandLine);
  EXPECT_EQ(flags_.source("work_dir"), FlagSource::kEnvironment);
  EXPECT_EQ(flags_.source("interval"), FlagSource::kConfigFile);
  EXPECT_EQ(flags_.source("ratio"), FlagSource::kDefault);
}

TEST_F(FlagsTest, ToJsonShowsValuesAndSources) {
  ASSERT_TRUE(parse({"--port=6000", "--interval=90secs"}, {{"AGORA_VERBOSE", "1"}}).ok());
  nlohmann::json json = flags_.toJson();
  EXPECT_EQ(json["flags"]["port"], "6000");
  EXPECT_EQ(json["flags"]["interval"], "90secs");
  EXPECT_EQ(json["flags"]["verbose"], "true");
  EXPECT_EQ(json["flags"]["cache"], "64MB");
  EXPECT_EQ(json["flags"]["work_dir"], "/var/lib/agora");
  EXPECT_EQ(json["sources"]["port"], "command_line");
  EXPECT_EQ(json["sources"]["verbose"], "environment");
  EXPECT_EQ(json["sources"]["work_dir"], "default");
  EXPECT_EQ(json["flags"].size(), json["sources"].size());
  EXPECT_EQ(flags_.value("ratio"), "0.5");
}

TEST_F(FlagsTest, HelpListsEveryFlagWithDefaultAndHelp) {
  ASSERT_TRUE(parse({"--port=abc", "--help"}).ok());  // --help wins over later checks.
  ASSERT_TRUE(flags_.helpRequested());
  std::string usage = flags_.usage();
  EXPECT_THAT(usage, HasSubstr("Usage: agora-test"));
  EXPECT_THAT(usage, HasSubstr("AGORA_<NAME>"));
  EXPECT_THAT(usage, HasSubstr("--port=INT\n      HTTP port (default: 5050)"));
  EXPECT_THAT(usage, HasSubstr("--[no-]verbose\n      Say more (default: false)"));
  EXPECT_THAT(usage, HasSubstr("--interval=DURATION\n      How often (default: 1secs)"));
  EXPECT_THAT(usage, HasSubstr("--cache=BYTES\n      Cache size (default: 64MB)"));
  EXPECT_THAT(usage, HasSubstr("--ratio=NUMBER\n      A fraction (default: 0.5)"));
  EXPECT_THAT(usage, HasSubstr("--config=STRING"));
  EXPECT_THAT(usage, HasSubstr("(default: none)"));
  nlohmann::json json = flags_.toJson();
  for (const auto& [name, value] : json["flags"].items()) EXPECT_THAT(usage, ::testing::ContainsRegex("--(\\[no-\\])?" + name));
}

// Each error is one line naming the flag, the value and the source.
void expectOneLineError(const Status& status, const std::vector<std::string>& parts) {
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.code(), Status::Code::kInvalidArgument) << status;
  EXPECT_THAT(status.message(), Not(HasSubstr("\n")));
  for (const std::string& part : parts) EXPECT_THAT(status.message(), HasSubstr(part));
}

TEST_F(FlagsTest, BadValuesNameTheFlagValueAndSource) {
  expectOneLineError(parse({"--port=abc"}), {"--port", "'abc'", "command line", "not an integer"});
  expectOneLineError(parse({"--port=70000"}), {"--port", "'70000'", "between 1 and 65535"});
  expectOneLineError(parse({"--port=99999999999999999999"}), {"--port", "out of range"});
  expectOneLineError(parse({"--interval=15"}), {"--interval", "'15'", "missing unit"});
  expectOneLineError(parse({"--cache=12XB"}), {"--cache", "'12XB'", "unknown unit"});
  expectOneLineError(parse({"--ratio=nan"}), {"--ratio", "'nan'"});
  expectOneLineError(parse({"--verbose=maybe"}), {"--verbose", "'maybe'", "true or false"});
  expectOneLineError(parse({"--format=xml"}), {"--format", "'xml'", "one of: text, json"});
  expectOneLineError(parse({}, {{"AGORA_PORT", "x"}}), {"--port", "'x'", "environment variable AGORA_PORT"});
  std::string path = writeFile("bad.conf", "# ok\nport=0\n");
  expectOneLineError(parse({"--config=" + path}), {"--port", "'0'", "bad.conf", "line 2"});
}

TEST_F(FlagsTest, UnknownFlagsAndMalformedArguments) {
  expectOneLineError(parse({"--prot=5050"}), {"Unknown flag --prot", "did you mean --port?"});
  expectOneLineError(parse({"--zzzzzz"}), {"Unknown flag --zzzzzz"});
  expectOneLineError(parse({"--no-port"}), {"Unknown flag --no-port"});
  expectOneLineError(parse({"--no-verbose=true"}), {"--no-verbose takes no value"});
  expectOneLineError(parse({"--port"}), {"--port needs a value"});
  expectOneLineError(parse({"--port", "--verbose"}), {"--port needs a value"});
  expectOneLineError(parse({"stray"}), {"Unexpected argument 'stray'"});
  expectOneLineError(parse({"--port=1", "--port=2"}), {"--port is given more than once"});
}

TEST_F(FlagsTest, ConfigFileErrors) {
  expectOneLineError(parse({"--config=" + writeFile("a.conf", "port 5050\n")}), {"Expected name=value", "line 1"});
  expectOneLineError(parse({"--config=" + writeFile("b.conf", "bogus=1\n")}), {"Unknown flag --bogus", "b.conf"});
  expectOneLineError(parse({"--config=" + writeFile("c.json", "{\"port\": ")}), {"Failed to parse", "c.json"});
  expectOneLineError(parse({"--config=" + writeFile("d.json", "{\"port\": null}")}), {"--port", "d.json"});
  expectOneLineError(parse({"--config=" + writeFile("e.conf", "config=/x\n")}), {"--config cannot be set"});
  Status missing = parse({"--config=" + (dir_ / "missing.conf").string()});
  EXPECT_EQ(missing.code(), Status::Code::kIoError);
  EXPECT_THAT(missing.message(), HasSubstr("missing.conf': No such file or directory"));
}

TEST_F(FlagsTest, ArgumentsAfterDoubleDashArePositional) {
  ASSERT_TRUE(parse({"--port=1", "--", "echo", "--port=2"}).ok());
  EXPECT_EQ(f_.port, 1);
  EXPECT_EQ(flags_.positionals(), (std::vector<std::string>{"echo", "--port=2"}));
}

TEST(FlagsMainTest, ParsesArgvAndTheProcessEnvironment) {
  std::string workDir;
  Flags flags("agora-test");
  flags.add(&workDir, "work_dir", "Where state lives", std::string());
  ::setenv("AGORA_WORK_DIR", "/from/env", 1);
  const char* argv[] = {"agora-test"};
  Status status = flags.parse(1, argv);
  ::unsetenv("AGORA_WORK_DIR");
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(workDir, "/from/env");
}

TEST(BytesTest, ParsesAndFormats) {
  EXPECT_EQ(parseBytes("512MB").value(), Bytes{512ull << 20});
  EXPECT_EQ(parseBytes("10B").value(), Bytes{10});
  EXPECT_EQ(parseBytes("4KB").value(), Bytes{4096});
  EXPECT_EQ(parseBytes("2TB").value(), Bytes{2ull << 40});
  for (const char* junk : {"", "12", "MB", "-1MB", "1.5GB", "1 MB", "1mb", "99999999999TB"}) {
    EXPECT_FALSE(parseBytes(junk).ok()) << junk;
  }
  EXPECT_EQ(formatBytes(Bytes{1ull << 30}), "1GB");
  EXPECT_EQ(formatBytes(Bytes{1000}), "1000B");
  EXPECT_EQ(formatBytes(Bytes{0}), "0B");
}

}  // namespace
}  // namespace agora
