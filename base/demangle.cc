#include "base/demangle.h"

#include <cxxabi.h>

#include <cstdlib>

namespace corio {

std::string Demangle(const char* mangled) {
  int status = 0;
  char* out = abi::__cxa_demangle(mangled, nullptr, nullptr, &status);
  if (status != 0 || out == nullptr) return mangled;
  std::string s(out);
  std::free(out);
  return s;
}

}  // namespace corio
