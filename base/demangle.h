// Demangle: a C++ type or symbol name as a person reads it ("std::runtime_error"), for
// diagnostics. Returns the input unchanged if it is not a mangled name.
#ifndef CORIO_BASE_DEMANGLE_H_
#define CORIO_BASE_DEMANGLE_H_

#include <string>

namespace corio {
std::string Demangle(const char* mangled);
}  // namespace corio

#endif  // CORIO_BASE_DEMANGLE_H_
