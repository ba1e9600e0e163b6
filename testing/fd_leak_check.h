// FdLeakCheck: fails the current test if it leaves file descriptors open (sockets, pipes,
// epoll fds). Use as a test fixture base or a scoped object:
//
//   class TcpTest : public corio::testing::FdLeakCheck {};   // checked after each test
//
// Counts /proc/self/fd entries when constructed and again when destroyed.
#ifndef CORIO_TESTING_FD_LEAK_CHECK_H_
#define CORIO_TESTING_FD_LEAK_CHECK_H_

#include <dirent.h>

#include "gtest/gtest.h"

namespace corio::testing {

inline int OpenFdCount() {
  int n = 0;
  if (DIR* d = opendir("/proc/self/fd")) {
    while (readdir(d) != nullptr) ++n;
    closedir(d);
  }
  return n;
}

class FdLeakCheck : public ::testing::Test {
 protected:
  FdLeakCheck() : before_(OpenFdCount()) {}
  ~FdLeakCheck() override { EXPECT_EQ(OpenFdCount(), before_) << "file descriptors were leaked"; }

 private:
  const int before_;
};

}  // namespace corio::testing

#endif  // CORIO_TESTING_FD_LEAK_CHECK_H_
