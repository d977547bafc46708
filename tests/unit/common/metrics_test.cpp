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

TEST(MetricsTest, NonFiniteValuesUsePrometheusSpelling) {
  std::string text = renderPrometheus({{"x", std::numeric_limits<double>::infinity()}, {"y", std::nan("")}});
  EXPECT_NE(text.find("agora_x +Inf"), std::string::npos);
  EXPECT_NE(text.find("agora_y NaN"), std::string::npos);
}

}  // namespace
}  // namespace agora
