#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "agora/common/quantities.hpp"

namespace agora {
namespace {

TEST(ScalarTest, FixedPointNeverDrifts) {
  Scalar sum;
  for (int i = 0; i < 10; ++i) sum += Scalar::of(0.1);
  EXPECT_EQ(sum, Scalar::of(1.0));
  EXPECT_EQ(Scalar::of(0.1) + Scalar::of(0.2), Scalar::of(0.3));
}

TEST(ScalarTest, RoundsToThousandths) {
  EXPECT_EQ(Scalar::of(0.0004).millis(), 0);
  EXPECT_EQ(Scalar::of(0.0005).millis(), 1);
  EXPECT_EQ(Scalar::of(1.23456).millis(), 1235);
}

TEST(ScalarTest, PrintsShortestForm) {
  EXPECT_EQ(Scalar::of(4).toString(), "4");
  EXPECT_EQ(Scalar::of(0.5).toString(), "0.5");
  EXPECT_EQ(Scalar::of(1.25).toString(), "1.25");
  EXPECT_EQ(Scalar::of(0.001).toString(), "0.001");
  EXPECT_EQ(Scalar::of(-0.5).toString(), "-0.5");
  EXPECT_EQ(Scalar::of(-2).toString(), "-2");
  EXPECT_EQ(Scalar().toString(), "0");
}

TEST(ScalarTest, RejectsNonFiniteAndHuge) {
  EXPECT_NE(Scalar::fromDouble(std::nan("")).error().message().find("NaN"), std::string::npos);
  EXPECT_NE(Scalar::fromDouble(std::numeric_limits<double>::infinity()).error().message().find("infinite"),
            std::string::npos);
  EXPECT_NE(Scalar::fromDouble(1e300).error().message().find("out of range"), std::string::npos);
}

TEST(ResourceQuantitiesTest, ParseAndPrint) {
  auto q = ResourceQuantities::parse("mem:2048;cpus:4;cpus:0.5");
  ASSERT_TRUE(q.ok()) << q.error();
  EXPECT_EQ(q->get("cpus"), Scalar::of(4.5));
  EXPECT_EQ(q->get("mem"), Scalar::of(2048));
  EXPECT_EQ(q->get("disk"), Scalar());
  EXPECT_EQ(q->toString(), "cpus:4.5;mem:2048");
  EXPECT_TRUE(ResourceQuantities::parse("")->empty());
}

TEST(ResourceQuantitiesTest, ParseErrorsNameTheItem) {
  EXPECT_NE(ResourceQuantities::parse("cpus").error().message().find("'cpus'"), std::string::npos);
  EXPECT_NE(ResourceQuantities::parse("cpus:abc").error().message().find("'abc' is not a number"),
            std::string::npos);
  EXPECT_NE(ResourceQuantities::parse("cpus:-1").error().message().find("negative"), std::string::npos);
  EXPECT_NE(ResourceQuantities::parse("mem:nan").error().message().find("NaN"), std::string::npos);
}

TEST(ResourceQuantitiesTest, Arithmetic) {
  ResourceQuantities a{{"cpus", 2}, {"mem", 1024}};
  ResourceQuantities b{{"cpus", 0.5}, {"disk", 10}};
  EXPECT_EQ((a + b).toString(), "cpus:2.5;disk:10;mem:1024");
  EXPECT_EQ((a - b).toString(), "cpus:1.5;mem:1024");  // saturating: no negative disk
  EXPECT_EQ((b - a).toString(), "disk:10");
  EXPECT_TRUE((a + b).contains(a));
  EXPECT_FALSE(a.contains(b));
  EXPECT_EQ(a.min(b).toString(), "cpus:0.5");
  EXPECT_EQ(a + b - b, a);
}

TEST(ResourceQuantitiesTest, ZeroEntriesVanish) {
  ResourceQuantities q{{"cpus", 1}};
  q.set("cpus", Scalar());
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q, ResourceQuantities());
}

}  // namespace
}  // namespace agora
