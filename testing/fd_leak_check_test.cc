// FdLeakCheck: counts open descriptors, and fails a test that leaves one open.
#include "testing/fd_leak_check.h"

#include <unistd.h>

#include "gtest/gtest-spi.h"
#include "gtest/gtest.h"

namespace corio::testing {
namespace {

TEST(OpenFdCountTest, CountsWhatIsOpen) {
  const int before = OpenFdCount();
  int p[2];
  ASSERT_EQ(pipe(p), 0);
  EXPECT_EQ(OpenFdCount(), before + 2);
  close(p[0]);
  close(p[1]);
  EXPECT_EQ(OpenFdCount(), before);
}

// The fixture, used as a scoped object.
class Scoped : public FdLeakCheck {
 public:
  void TestBody() override {}
};

int leaked[2] = {-1, -1};

TEST(FdLeakCheckTest, FailsWhenADescriptorIsLeftOpen) {
  EXPECT_NONFATAL_FAILURE(
      {
        Scoped check;
        int made = pipe(leaked);  // -O2's _FORTIFY_SOURCE: the result may not be dropped
        if (made != 0) ADD_FAILURE() << "pipe() failed";
      },
      "file descriptors were leaked");
  close(leaked[0]);
  close(leaked[1]);
}

TEST(FdLeakCheckTest, PassesWhenEverythingIsClosed) {
  Scoped check;
  int p[2];
  ASSERT_EQ(pipe(p), 0);
  close(p[0]);
  close(p[1]);
}

}  // namespace
}  // namespace corio::testing
