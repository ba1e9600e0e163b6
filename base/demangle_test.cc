#include "base/demangle.h"

#include <stdexcept>
#include <typeinfo>

#include "gtest/gtest.h"

namespace corio {
namespace {

TEST(DemangleTest, TypeNamesReadAsWritten) {
  EXPECT_EQ(Demangle(typeid(std::runtime_error).name()), "std::runtime_error");
  EXPECT_EQ(Demangle("not a mangled name"), "not a mangled name");
}

}  // namespace
}  // namespace corio
