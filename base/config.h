// corio's build requirements, checked where every corio header starts: corio is C++20
// (coroutines, concepts, <coroutine>). Below C++20 the build stops here with the fix, instead of
// failing deep inside a coroutine header.
//
// A downstream Bazel workspace inherits nothing from corio's .bazelrc; it needs
//   build --cxxopt=-std=c++20 --host_cxxopt=-std=c++20
// in its own .bazelrc (examples/consumer/.bazelrc has the full set, sanitizer configs included).
#ifndef CORIO_BASE_CONFIG_H_
#define CORIO_BASE_CONFIG_H_

#if !defined(__cplusplus) || __cplusplus < 202002L
#error \
    "corio needs C++20: build with --cxxopt=-std=c++20 (Bazel: add 'build --cxxopt=-std=c++20 --host_cxxopt=-std=c++20' to your .bazelrc; other build systems: -std=c++20)"
#endif

#endif  // CORIO_BASE_CONFIG_H_
