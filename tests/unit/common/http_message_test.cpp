#include <gtest/gtest.h>

#include "agora/common/http.hpp"

namespace agora {
namespace {

TEST(PercentDecodeTest, DecodesAndRejectsMalformedEscapes) {
  EXPECT_EQ(percentDecode("/a%20b%2Fc").value(), "/a b/c");
  EXPECT_EQ(percentDecode("a+b").value(), "a+b");
  EXPECT_EQ(percentDecode("a+b", true).value(), "a b");
  EXPECT_EQ(percentDecode("%e2%82%AC").value(), "\xe2\x82\xac");
  for (const char* bad : {"%", "%2", "%zz", "/x%g0", "%%41"}) {
    auto result = percentDecode(bad);
    EXPECT_EQ(result.status().code(), Status::Code::kInvalidArgument) << bad;
  }
  EXPECT_EQ(percentDecode("ab%zz").status().message(), "Malformed percent-encoding at offset 2");
}

TEST(ParseQueryTest, ParsesPairs) {
  auto query = parseQuery("a=1&b=x%20y&c&&a=2&d=e=f");
  ASSERT_TRUE(query.ok());
  EXPECT_EQ(*query, (std::map<std::string, std::string, std::less<>>{
                        {"a", "1"}, {"b", "x y"}, {"c", ""}, {"d", "e=f"}}));
  EXPECT_TRUE(parseQuery("").value().empty());
  EXPECT_FALSE(parseQuery("a=%zz").ok());
  EXPECT_FALSE(parseQuery("%zz=1").ok());
}

TEST(HttpResponseTest, FromStatusMapsCodes) {
  EXPECT_EQ(HttpResponse::fromStatus(Status::InvalidArgument("x")).status, 400);
  EXPECT_EQ(HttpResponse::fromStatus(Status::PermissionDenied("x")).status, 403);
  EXPECT_EQ(HttpResponse::fromStatus(Status::NotFound("x")).status, 404);
  EXPECT_EQ(HttpResponse::fromStatus(Status::FailedPrecondition("x")).status, 409);
  EXPECT_EQ(HttpResponse::fromStatus(Status::ResourceExhausted("x")).status, 413);
  EXPECT_EQ(HttpResponse::fromStatus(Status::Unavailable("x")).status, 503);
  EXPECT_EQ(HttpResponse::fromStatus(Status::Internal("x")).status, 500);
  EXPECT_EQ(HttpResponse::fromStatus(Status::NotFound("no such task")).body, "no such task");
}

TEST(HttpResponseTest, JsonNeverThrowsOnInvalidUtf8) {
  HttpResponse response = HttpResponse::json(200, {{"name", "\xff"}});
  EXPECT_EQ(response.content_type, "application/json");
  EXPECT_EQ(response.body, "{\"name\":\"\xef\xbf\xbd\"}");
}

TEST(HttpRequestTest, HeaderLookupIgnoresCase) {
  HttpRequest request;
  request.headers = {{"content-type", "application/json"}, {"x-a", "1"}, {"x-a", "2"}};
  EXPECT_EQ(request.header("Content-Type"), "application/json");
  EXPECT_EQ(request.header("X-A"), "1");
  EXPECT_EQ(request.header("missing"), std::nullopt);
}

}  // namespace
}  // namespace agora
