#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include <spdlog/sinks/ostream_sink.h>

#include "agora/common/flags.hpp"
#include "agora/common/logging.hpp"

namespace agora {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::SizeIs;

// ISO 8601 UTC with milliseconds (POSIX extended regex, as gmock uses).
constexpr const char* kIso8601 = "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}[.][0-9]{3}Z";

// Captures every line the component loggers write, and puts the default
// settings back afterwards.
class LoggingTest : public ::testing::Test {
 protected:
  void capture(LogLevel level, LogFormat format) {
    LoggingOptions options;
    options.level = level;
    options.format = format;
    options.sinks.push_back(std::make_shared<spdlog::sinks::ostream_sink_mt>(out_));
    initLogging(std::move(options));
  }
  ~LoggingTest() override { initLogging(LoggingOptions()); }

  std::vector<std::string> lines() const {
    std::vector<std::string> result;
    std::istringstream in(out_.str());
    for (std::string line; std::getline(in, line);) result.push_back(line);
    return result;
  }

  std::ostringstream out_;
};

TEST_F(LoggingTest, JsonLinesAreValidJsonWithTheFields) {
  capture(LogLevel::kInfo, LogFormat::kJson);
  logger("master")->info("Registered agent {} at {}", "a1", "host1");
  logFields(*logger("allocator"), LogLevel::kWarning, "Offer rescinded",
            {{"offer_id", "o1"}, {"cpus", 0.5}, {"msg", "clash"}});

  std::vector<std::string> out = lines();
  ASSERT_THAT(out, SizeIs(2));
  nlohmann::json first = nlohmann::json::parse(out[0]);
  EXPECT_EQ(first["level"], "info");
  EXPECT_EQ(first["component"], "master");
  EXPECT_EQ(first["msg"], "Registered agent a1 at host1");
  std::string ts = first["ts"];
  EXPECT_THAT(ts, MatchesRegex(kIso8601));

  nlohmann::json second = nlohmann::json::parse(out[1]);
  EXPECT_EQ(second["level"], "warning");
  EXPECT_EQ(second["component"], "allocator");
  EXPECT_EQ(second["msg"], "Offer rescinded");
  EXPECT_EQ(second["offer_id"], "o1");
  EXPECT_EQ(second["cpus"], 0.5);
  EXPECT_EQ(second["msg_"], "clash");
}

TEST_F(LoggingTest, LevelFilterDropsLowerLevelsAndCanChangeAtRunTime) {
  capture(LogLevel::kWarning, LogFormat::kJson);
  auto log = logger("agent");
  log->debug("hidden debug");
  log->info("hidden info");
  log->warn("shown warning");
  log->error("shown error");
  setLogLevel(LogLevel::kDebug);
  log->debug("shown debug");
  log->trace("hidden trace");

  std::vector<std::string> levels;
  for (const std::string& line : lines()) levels.push_back(nlohmann::json::parse(line)["level"]);
  EXPECT_EQ(levels, (std::vector<std::string>{"warning", "error", "debug"}));
  EXPECT_THAT(out_.str(), Not(HasSubstr("hidden")));
}

TEST_F(LoggingTest, TextLinesCarryTimeLevelComponentAndFields) {
  capture(LogLevel::kInfo, LogFormat::kText);
  logFields(*logger("master"), LogLevel::kInfo, "Launching task",
            {{"task_id", "t1"}, {"name", "two words"}, {"cpus", 2}});
  std::vector<std::string> out = lines();
  ASSERT_THAT(out, SizeIs(1));
  EXPECT_THAT(out[0], MatchesRegex(std::string(kIso8601) +
                                   R"( INFO master: Launching task cpus=2 name="two words" task_id=t1)"));
}

TEST_F(LoggingTest, TrailingPeriodIsDroppedButEllipsisKept) {
  capture(LogLevel::kInfo, LogFormat::kJson);
  logger("master")->info("Recovered the registry.");
  logger("master")->info("Cut text...");
  std::vector<std::string> out = lines();
  ASSERT_THAT(out, SizeIs(2));
  EXPECT_EQ(nlohmann::json::parse(out[0])["msg"], "Recovered the registry");
  EXPECT_EQ(nlohmann::json::parse(out[1])["msg"], "Cut text...");
}

TEST_F(LoggingTest, InvalidUtf8StillGivesValidJson) {
  capture(LogLevel::kInfo, LogFormat::kJson);
  logger("master")->info("bad \xff\xfe bytes");
  std::vector<std::string> out = lines();
  ASSERT_THAT(out, SizeIs(1));
  EXPECT_THAT(nlohmann::json::parse(out[0])["msg"].get<std::string>(), HasSubstr("bad"));
}

TEST_F(LoggingTest, LoggersCreatedBeforeInitFollowIt) {
  auto early = logger("early_component");
  capture(LogLevel::kError, LogFormat::kJson);
  early->warn("filtered");
  early->error("kept");
  std::vector<std::string> out = lines();
  ASSERT_THAT(out, SizeIs(1));
  EXPECT_EQ(nlohmann::json::parse(out[0])["component"], "early_component");
}

TEST(LoggingFlagsTest, DeclaresAndValidatesTheFlags) {
  {
    Flags flags("agora-test");
    LoggingFlags logging;
    logging.declare(flags);
    ASSERT_TRUE(flags.parse({"--logging_level=WARNING", "--log_format=json"}, {}).ok());
    LoggingOptions options = logging.options();
    EXPECT_EQ(options.level, LogLevel::kWarning);
    EXPECT_EQ(options.format, LogFormat::kJson);
  }
  {
    Flags flags("agora-test");
    LoggingFlags logging;
    logging.declare(flags);
    Status status = flags.parse({"--logging_level=loud"}, {});
    EXPECT_EQ(status.message(),
              "Invalid value 'loud' for flag --logging_level from the command line: expected trace, "
              "debug, info, warning or error");
  }
  {
    Flags flags("agora-test");
    LoggingFlags logging;
    logging.declare(flags);
    Status status = flags.parse({}, {{"AGORA_LOG_FORMAT", "xml"}});
    EXPECT_THAT(status.message(), HasSubstr("--log_format"));
    EXPECT_THAT(status.message(), HasSubstr("expected text or json"));
  }
}

TEST(LogLevelTest, ParsesNamesAndRejectsOthers) {
  EXPECT_EQ(parseLogLevel("trace").value(), LogLevel::kTrace);
  EXPECT_EQ(parseLogLevel("warn").value(), LogLevel::kWarning);
  EXPECT_EQ(parseLogLevel("ERROR").value(), LogLevel::kError);
  EXPECT_FALSE(parseLogLevel("verbose").ok());
  EXPECT_EQ(parseLogFormat("json").value(), LogFormat::kJson);
  EXPECT_FALSE(parseLogFormat("JSONL").ok());
}

}  // namespace
}  // namespace agora
