#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "agora/common/metrics.hpp"

namespace agora {
namespace {

TEST(MetricsTest, PrometheusNamesAreSanitized) {
  EXPECT_EQ(prometheusName("master/tasks_running"), "agora_master_tasks_running");
  EXPECT_EQ(prometheusName("allocator/roles/eng.db/shares/dominant"), "agora_allocator_roles_eng_db_shares_dominant");
}

TEST(MetricsTest, RendersGaugesAndCounters) {
  MetricsSnapshot snapshot{{"master/tasks_running", 3}, {"master/dropped_messages", 7}, {"master/cpus_percent", 0.25}};
  std::string text = renderPrometheus(snapshot);
  EXPECT_NE(text.find("# TYPE agora_master_tasks_running gauge\nagora_master_tasks_running 3\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("# TYPE agora_master_dropped_messages_total counter\nagora_master_dropped_messages_total 7\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("agora_master_cpus_percent 0.25\n"), std::string::npos) << text;
}

TEST(MetricsTest, PerFrameworkMetricsBecomeLabels) {
  MetricsSnapshot snapshot{{"master/frameworks/batch/m1-0000/offers/sent", 3},
                           {"master/frameworks/my%20%22job%22%5C/m1-0001/offers/sent", 1},
                           {"master/frameworks/batch/m1-0000/tasks/active/task_running", 2},
                           {"master/frameworks/batch/m1-0000/tasks/terminal/task_killed", 1},
                           {"master/frameworks/batch/m1-0000/calls/accept", 4},
                           {"master/frameworks/batch/m1-0000/subscribed", 1},
                           {"master/frameworks/bad%zz/m1-0002/events", 5},
                           {"master/frameworks/no-id", 9}};
  std::string text = renderPrometheus(snapshot);
  // One family, one TYPE line, both frameworks as samples.
  EXPECT_NE(text.find("# TYPE agora_master_frameworks_offers_sent_total counter\n"
                      "agora_master_frameworks_offers_sent_total{framework_id=\"m1-0000\",framework_name=\"batch\"} 3\n"
                      "agora_master_frameworks_offers_sent_total{framework_id=\"m1-0001\",framework_name=\"my \\\"job\\\"\\\\\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("# TYPE agora_master_frameworks_tasks_active_task_running gauge\n"), std::string::npos) << text;
  EXPECT_NE(text.find("# TYPE agora_master_frameworks_tasks_terminal_task_killed_total counter\n"), std::string::npos);
  EXPECT_NE(text.find("# TYPE agora_master_frameworks_calls_accept_total counter\n"), std::string::npos);
  EXPECT_NE(text.find("# TYPE agora_master_frameworks_subscribed gauge\n"), std::string::npos);
  // A name that does not decode is kept as it came.
  EXPECT_NE(text.find("agora_master_frameworks_events_total{framework_id=\"m1-0002\",framework_name=\"bad%zz\"} 5\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("agora_master_frameworks_no_id 9\n"), std::string::npos) << text;
  size_t types = 0;
  for (size_t at = text.find("# TYPE agora_master_frameworks_offers_sent"); at != std::string::npos;
       at = text.find("# TYPE agora_master_frameworks_offers_sent", at + 1)) {
    ++types;
  }
  EXPECT_EQ(types, 1u);
}

TEST(MetricsTest, NonFiniteValuesUsePrometheusSpelling) {
  std::string text = renderPrometheus({{"x", std::numeric_limits<double>::infinity()}, {"y", std::nan("")}});
  EXPECT_NE(text.find("agora_x +Inf"), std::string::npos);
  EXPECT_NE(text.find("agora_y NaN"), std::string::npos);
}

}  // namespace
}  // namespace agora
