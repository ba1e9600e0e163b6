#include "cmd/fetch_cmd/options.h"

#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace corio::fetch_cmd {
namespace {

using ::testing::HasSubstr;

ParsedArgs Parse(std::vector<const char*> args) {
  args.insert(args.begin(), "fetch");
  return ParseArgs(static_cast<int>(args.size()), args.data());
}

TEST(ParseArgsTest, Defaults) {
  ParsedArgs a = Parse({"http://a/"});
  ASSERT_EQ(a.outcome, ParsedArgs::kRun) << a.error;
  EXPECT_EQ(a.options.urls, std::vector<std::string>{"http://a/"});
  EXPECT_EQ(a.options.method, "GET");
  EXPECT_EQ(a.options.output, OutputMode::kSummary);
  EXPECT_FALSE(a.options.demo);
}

TEST(ParseArgsTest, NoUrlsMeansDemo) {
  ParsedArgs a = Parse({});
  ASSERT_EQ(a.outcome, ParsedArgs::kRun);
  EXPECT_TRUE(a.options.demo);
}

TEST(ParseArgsTest, EveryFlagParses) {
  // --cacert must name a readable file.
  char ca[] = "/tmp/corio_options_test_ca_XXXXXX";
  const int ca_fd = mkstemp(ca);
  ASSERT_GE(ca_fd, 0);
  close(ca_fd);
  const std::string cacert_flag = std::string("--cacert=") + ca;
  ParsedArgs a = Parse({"--concurrency=5", "--limit_per_host", "2", "--threads=3", "--timeout=2s",
                        "--connect_timeout=500ms", "--max_redirects=0", "--method=PUT",
                        "--header=X-A: 1, 2: 3", "--header", "X-B:two", "--data=body",
                        cacert_flag.c_str(), "--insecure", "--retries=4", "--max_body_bytes=99",
                        "--output=jsonl", "--output_dir=/tmp/out-dir-for-test", "--", "-weird"});
  ASSERT_EQ(a.outcome, ParsedArgs::kRun) << a.error;
  const FetchOptions& o = a.options;
  EXPECT_EQ(o.concurrency, 5);
  EXPECT_EQ(o.limit_per_host, 2);
  EXPECT_EQ(o.threads, 3);
  EXPECT_EQ(o.timeout, absl::Seconds(2));
  EXPECT_EQ(o.connect_timeout, absl::Milliseconds(500));
  EXPECT_EQ(o.max_redirects, 0);
  EXPECT_EQ(o.method, "PUT");
  ASSERT_EQ(o.headers.size(), 2u);
  EXPECT_EQ(o.headers[0], std::make_pair(std::string("X-A"), std::string("1, 2: 3")));
  EXPECT_EQ(o.headers[1], std::make_pair(std::string("X-B"), std::string("two")));
  EXPECT_EQ(o.data, "body");
  EXPECT_TRUE(o.insecure);
  EXPECT_EQ(o.retries, 4);
  EXPECT_EQ(o.max_body_bytes, 99u);
  EXPECT_EQ(o.output, OutputMode::kJsonl);
  EXPECT_EQ(o.urls, std::vector<std::string>{"-weird"});
  EXPECT_EQ(o.cacert, ca);
  unlink(ca);
}

TEST(ParseArgsTest, DataMakesItAPostUnlessAMethodIsGiven) {
  EXPECT_EQ(Parse({"--data=x", "http://a/"}).options.method, "POST");
  EXPECT_EQ(Parse({"--data=x", "--method=PATCH", "http://a/"}).options.method, "PATCH");
}

TEST(ParseArgsTest, RepeatedRunsStartFromDefaults) {
  ASSERT_EQ(Parse({"--concurrency=9", "http://a/"}).options.concurrency, 9);
  EXPECT_EQ(Parse({"http://a/"}).options.concurrency, 64);
}

TEST(ParseArgsTest, UsageErrors) {
  const std::vector<std::vector<const char*>> kBad = {
      {"--concurrency=abc", "http://a/"},
      {"--concurrency=0", "http://a/"},
      {"--output=xml", "http://a/"},
      {"--timeout=banana", "http://a/"},
      {"--timeout=-1s", "http://a/"},
      {"--unknown-flag", "http://a/"},
      {"--nothing=1", "http://a/"},
      {"--input=/nonexistent/list.txt"},
      {"--input=/"},
      {"--header=NoColon", "http://a/"},
      {"--header=Bad Name: v", "http://a/"},
      {"--method=GET X", "http://a/"},
      {"--noconcurrency", "http://a/"},
      {"--insecure=maybe", "http://a/"},
      {"--concurrency"},
      {"--demo", "http://a/"},
      {"--output=body", "--output_dir=/tmp", "http://a/"},
      // From the audit: each was accepted (or failed later, per URL or with exit 1).
      {"--cacert=/nonexistent/ca.pem", "http://a/"},
      {"--cacert=/", "http://a/"},
      {"--input="},
      {"--output_dir=/nonexistent/deep/dir", "http://a/"},
      // ... and these printed more than one line.
      {"--output=a\nb", "http://a/"},
      {"--bogus\nflag", "http://a/"},
      {"--header=X: a\r\nInjected: b", "http://a/"},
  };
  for (const auto& args : kBad) {
    ParsedArgs a = Parse(args);
    EXPECT_EQ(a.outcome, ParsedArgs::kUsageError) << args[0];
    EXPECT_FALSE(a.error.empty());
    EXPECT_EQ(a.error.find('\n'), std::string::npos) << "one line: " << a.error;
  }
  EXPECT_THAT(Parse({"--output=xml", "http://a/"}).error, HasSubstr("xml"));
  EXPECT_THAT(Parse({"--timeout=banana", "http://a/"}).error, HasSubstr("--timeout"));
}

TEST(ParseArgsTest, Help) {
  EXPECT_EQ(Parse({"--help"}).outcome, ParsedArgs::kHelp);
  EXPECT_EQ(Parse({"-h"}).outcome, ParsedArgs::kHelp);
  EXPECT_THAT(HelpText(), HasSubstr("Examples:"));
  EXPECT_THAT(HelpText(), HasSubstr("--limit_per_host"));
}

}  // namespace
}  // namespace corio::fetch_cmd
