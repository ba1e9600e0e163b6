// Guards the wire contract of corio.fetch.v1: field numbers and enum values never change once
// published, and the service keeps its method names and streaming shapes.
#include <string>

#include "google/protobuf/descriptor.h"
#include "gtest/gtest.h"
#include "net/fetch/fetch.grpc.pb.h"
#include "net/fetch/fetch.pb.h"
#include "net/fetch/health.grpc.pb.h"
#include "net/fetch/health.pb.h"

namespace corio::fetch::v1 {
namespace {

int FieldNumber(const google::protobuf::Descriptor* d, const std::string& name) {
  const google::protobuf::FieldDescriptor* f = d->FindFieldByName(name);
  return f == nullptr ? -1 : f->number();
}

TEST(FetchProtoTest, FieldNumbersAreStable) {
  const auto* req = FetchRequest::descriptor();
  EXPECT_EQ(FieldNumber(req, "url"), 1);
  EXPECT_EQ(FieldNumber(req, "method"), 2);
  EXPECT_EQ(FieldNumber(req, "headers"), 3);
  EXPECT_EQ(FieldNumber(req, "body"), 4);
  EXPECT_EQ(FieldNumber(req, "timeout"), 5);
  EXPECT_EQ(FieldNumber(req, "max_body_bytes"), 6);
  EXPECT_EQ(FieldNumber(req, "body_mode"), 7);
  EXPECT_EQ(FieldNumber(req, "max_redirects"), 8);
  const auto* many = FetchManyRequest::descriptor();
  EXPECT_EQ(FieldNumber(many, "requests"), 1);
  EXPECT_EQ(FieldNumber(many, "max_concurrency"), 2);
  const auto* resp = FetchResponse::descriptor();
  EXPECT_EQ(FieldNumber(resp, "index"), 1);
  EXPECT_EQ(FieldNumber(resp, "status"), 2);
  EXPECT_EQ(FieldNumber(resp, "reason"), 3);
  EXPECT_EQ(FieldNumber(resp, "headers"), 4);
  EXPECT_EQ(FieldNumber(resp, "body"), 5);
  EXPECT_EQ(FieldNumber(resp, "body_size"), 6);
  EXPECT_EQ(FieldNumber(resp, "final_url"), 7);
  EXPECT_EQ(FieldNumber(resp, "redirects"), 8);
  EXPECT_EQ(FieldNumber(resp, "timing"), 9);
  EXPECT_EQ(FieldNumber(resp, "error"), 10);
  EXPECT_EQ(FieldNumber(Header::descriptor(), "name"), 1);
  EXPECT_EQ(FieldNumber(Header::descriptor(), "value"), 2);
  EXPECT_EQ(FieldNumber(Error::descriptor(), "code"), 1);
  EXPECT_EQ(FieldNumber(Error::descriptor(), "message"), 2);
  EXPECT_EQ(FieldNumber(Redirect::descriptor(), "url"), 1);
  EXPECT_EQ(FieldNumber(Redirect::descriptor(), "status"), 2);
  EXPECT_EQ(FieldNumber(Redirect::descriptor(), "location"), 3);
  EXPECT_EQ(FieldNumber(Timing::descriptor(), "queued"), 1);
  EXPECT_EQ(FieldNumber(Timing::descriptor(), "headers"), 2);
  EXPECT_EQ(FieldNumber(Timing::descriptor(), "total"), 3);
}

TEST(FetchProtoTest, EnumsStartUnspecified) {
  EXPECT_EQ(BODY_MODE_UNSPECIFIED, 0);
  EXPECT_EQ(BODY_MODE_FULL, 1);
  EXPECT_EQ(BODY_MODE_SIZE_ONLY, 2);
  EXPECT_EQ(FetchRequest().body_mode(), BODY_MODE_UNSPECIFIED);
  EXPECT_FALSE(FetchRequest().has_max_redirects());  // "unset" is distinct from zero
}

TEST(FetchProtoTest, ServiceShape) {
  const auto* svc = google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
      "corio.fetch.v1.FetchService");
  ASSERT_NE(svc, nullptr);
  const auto* fetch = svc->FindMethodByName("Fetch");
  ASSERT_NE(fetch, nullptr);
  EXPECT_FALSE(fetch->client_streaming());
  EXPECT_FALSE(fetch->server_streaming());
  const auto* many = svc->FindMethodByName("FetchMany");
  ASSERT_NE(many, nullptr);
  EXPECT_FALSE(many->client_streaming());
  EXPECT_TRUE(many->server_streaming());
  EXPECT_EQ(many->output_type(), FetchResponse::descriptor());
}

TEST(FetchProtoTest, RoundTripKeepsBinaryHeaderValues) {
  FetchResponse r;
  r.set_index(7);
  Header* h = r.add_headers();
  h->set_name("X-Odd");
  h->set_value(std::string("\xff\x00\x80", 3));  // not UTF-8: a bytes field carries it
  std::string wire;
  ASSERT_TRUE(r.SerializeToString(&wire));
  FetchResponse back;
  ASSERT_TRUE(back.ParseFromString(wire));
  EXPECT_EQ(back.index(), 7);
  EXPECT_EQ(back.headers(0).value(), std::string("\xff\x00\x80", 3));
}

TEST(HealthProtoTest, MatchesTheGrpcHealthProtocol) {
  EXPECT_STREQ(grpc::health::v1::Health::service_full_name(), "grpc.health.v1.Health");
  EXPECT_EQ(grpc::health::v1::HealthCheckResponse::SERVING, 1);
  EXPECT_EQ(grpc::health::v1::HealthCheckResponse::NOT_SERVING, 2);
  EXPECT_EQ(grpc::health::v1::HealthCheckResponse::SERVICE_UNKNOWN, 3);
}

}  // namespace
}  // namespace corio::fetch::v1
