#include "net/http/request.h"

#include "gtest/gtest.h"

namespace corio::http {
namespace {

TEST(RequestTest, Defaults) {
  Request r;
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.body_mode, BodyMode::kStream);
  EXPECT_FALSE(r.timeout.has_value());
  EXPECT_FALSE(r.max_body_bytes.has_value());
}

TEST(RequestTest, IdempotentMethods) {
  for (const char* m : {"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"}) {
    EXPECT_TRUE(IsIdempotentMethod(m)) << m;
  }
  for (const char* m : {"POST", "PATCH", "CONNECT", "get"})
    EXPECT_FALSE(IsIdempotentMethod(m)) << m;
}

}  // namespace
}  // namespace corio::http
