#include "cmd/fetch_cmd/body_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/status_matchers.h"

namespace corio::fetch_cmd {
namespace {

class BodyFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/corio_body_file_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    root_ = tmpl;
  }
  void TearDown() override {
    std::error_code ignored;
    std::filesystem::remove_all(root_, ignored);
  }
  std::string Read(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    std::stringstream s;
    s << f.rdbuf();
    return s.str();
  }
  int Entries(const std::string& dir) {
    int n = 0;
    std::string cmd = "ls -A " + dir + " | wc -l";
    FILE* p = popen(cmd.c_str(), "r");
    if (fscanf(p, "%d", &n) != 1) n = -1;
    pclose(p);
    return n;
  }
  std::string root_;
};

TEST_F(BodyFilesTest, CommitWritesExactlyTheBodyUnderItsName) {
  auto dir = BodyFiles::Open(root_ + "/out");  // created
  ASSERT_TRUE(dir.ok()) << dir.status();
  auto f = (*dir)->Start(7, "https://example.com/a");
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE(f->Write("hello ").ok());
  ASSERT_TRUE(f->Write("world").ok());
  absl::StatusOr<std::string> name = f->Commit();
  ASSERT_TRUE(name.ok());
  EXPECT_EQ(*name, "000007_example.com_a");
  EXPECT_EQ(Read(root_ + "/out/" + *name), "hello world");
  EXPECT_EQ(Entries(root_ + "/out"), 1) << "no temporary file left";
}

TEST_F(BodyFilesTest, AnAbandonedFileLeavesNothing) {
  auto dir = BodyFiles::Open(root_);
  ASSERT_TRUE(dir.ok());
  {
    auto f = (*dir)->Start(1, "http://h/x");
    ASSERT_TRUE(f.ok());
    ASSERT_TRUE(f->Write("partial").ok());
  }
  EXPECT_EQ(Entries(root_), 0);
}

TEST_F(BodyFilesTest, PlantedLinksAreReplacedNotWrittenThrough) {
  const std::string victim = root_ + "/victim";
  { std::ofstream(victim) << "precious"; }
  ASSERT_EQ(mkdir((root_ + "/out").c_str(), 0755), 0);
  ASSERT_EQ(symlink(victim.c_str(), (root_ + "/out/000001_h_x").c_str()), 0);
  ASSERT_EQ(link(victim.c_str(), (root_ + "/out/000002_h_y").c_str()), 0);
  auto dir = BodyFiles::Open(root_ + "/out");
  ASSERT_TRUE(dir.ok());
  for (auto [index, url] : {std::pair<int, const char*>{1, "http://h/x"}, {2, "http://h/y"}}) {
    auto f = (*dir)->Start(index, url);
    ASSERT_TRUE(f.ok());
    ASSERT_TRUE(f->Write("attacker-controlled body").ok());
    ASSERT_TRUE(f->Commit().ok());
  }
  EXPECT_EQ(Read(victim), "precious");
  EXPECT_EQ(Read(root_ + "/out/000001_h_x"), "attacker-controlled body");
}

TEST_F(BodyFilesTest, DirectoryThatCannotBeMadeIsAnError) {
  auto dir = BodyFiles::Open(root_ + "/missing/parent/out");
  EXPECT_FALSE(dir.ok());
  EXPECT_THAT(std::string(dir.status().message()), ::testing::HasSubstr("missing/parent/out"));
}

}  // namespace
}  // namespace corio::fetch_cmd
