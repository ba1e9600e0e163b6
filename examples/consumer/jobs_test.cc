// Builds protos downstream with corio's proto macro: corio's own (@corio//net/fetch) and one
// of this workspace's that imports them.
#include <string>

#include "jobs.grpc.pb.h"
#include "jobs.pb.h"
#include "gtest/gtest.h"
#include "net/fetch/fetch.grpc.pb.h"
#include "net/fetch/fetch.pb.h"

TEST(JobsTest, MessagesRoundTripAcrossWorkspaces) {
  consumer::Job job;
  job.set_name("crawl");
  job.mutable_work()->add_requests()->set_url("http://example.com/");
  std::string wire;
  ASSERT_TRUE(job.SerializeToString(&wire));
  consumer::Job back;
  ASSERT_TRUE(back.ParseFromString(wire));
  EXPECT_EQ(back.work().requests(0).url(), "http://example.com/");
  EXPECT_STREQ(consumer::Jobs::service_full_name(), "consumer.Jobs");
  EXPECT_STREQ(corio::fetch::v1::FetchService::service_full_name(),
               "corio.fetch.v1.FetchService");
}
