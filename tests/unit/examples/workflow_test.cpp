#include "workflow.hpp"

#include <gtest/gtest.h>

namespace agora::examples {
namespace {

TEST(WorkflowTest, ParsesStepsInDependencyOrder) {
  Result<Workflow> w = Workflow::parse(R"({"steps": [
    {"name": "load", "command": "l", "deps": ["transform"], "resources": "cpus:1;mem:64"},
    {"name": "transform", "command": "t", "deps": ["extract"], "fanout": 3},
    {"name": "extract", "command": "e", "retries": 2}]})");
  ASSERT_TRUE(w.ok()) << w.error().message();
  ASSERT_EQ(w->steps.size(), 3u);
  EXPECT_EQ(w->steps[0].name, "extract");
  EXPECT_EQ(w->steps[0].retries, 2);
  EXPECT_EQ(w->steps[1].name, "transform");
  EXPECT_EQ(w->steps[1].fanout, 3);
  EXPECT_EQ(w->steps[2].name, "load");
  ASSERT_TRUE(w->steps[2].resources.has_value());
  EXPECT_EQ(w->steps[2].resources->cpus, 1);
}

TEST(WorkflowTest, ErrorsNameTheStep) {
  auto error = [](const char* json) {
    Result<Workflow> w = Workflow::parse(json);
    return w.ok() ? std::string("ok") : w.error().message();
  };
  EXPECT_NE(error("{").find("not valid JSON"), std::string::npos);
  EXPECT_NE(error(R"({"steps": []})").find("non-empty"), std::string::npos);
  EXPECT_NE(error(R"({"steps": [{"name": "a"}]})").find("Step 'a': no \"command\""), std::string::npos);
  EXPECT_NE(error(R"({"steps": [{"name": "a", "command": "x"}, {"name": "a", "command": "y"}]})").find("twice"),
            std::string::npos);
  EXPECT_NE(error(R"({"steps": [{"name": "a", "command": "x", "deps": ["b"]}]})").find("unknown step 'b'"),
            std::string::npos);
  EXPECT_NE(error(R"({"steps": [{"name": "a", "command": "x", "deps": ["b"]},
                                {"name": "b", "command": "y", "deps": ["a"]}]})").find("cycle"),
            std::string::npos);
  EXPECT_NE(error(R"({"steps": [{"name": "a", "command": "x", "fanout": 0}]})").find("fanout"), std::string::npos);
  EXPECT_NE(error(R"({"steps": [{"name": "a/b", "command": "x"}]})").find("step name"), std::string::npos);
  EXPECT_NE(error(R"({"steps": [{"name": "a", "command": "x", "resources": "cpus:-1"}]})").find("Step 'a'"),
            std::string::npos);
  EXPECT_FALSE(Workflow::load("/nonexistent/workflow.json").ok());
}

}  // namespace
}  // namespace agora::examples
