// Sanitizer suppressions for programs that link gRPC (or pass Abseil values between threads).
// The sanitizers call these hooks at startup, from the executable (link statically); in other
// builds nothing calls them.
//
// ThreadSanitizer:
// Debian's gRPC, protobuf and Abseil libraries are not built with -fsanitize=thread, so TSan
// cannot see the synchronization inside them (Abseil mutexes, gRPC's atomics) and reports
// races between gRPC's own threads (its pollers, its executor) on memory and file descriptors
// that gRPC does synchronize. These patterns silence reports that have a frame in those
// libraries; races between corio's own instrumented frames are still reported.
extern "C" const char* __tsan_default_suppressions() {
  return "race:libgrpc.so\n"
         "race:libgrpc++.so\n"
         "race:libgpr.so\n"
         "race:libgrpc++_reflection.so\n"
         "race:libabsl_\n"
         "race:libprotobuf.so\n"
         "race:libupb.so\n"
         "race:libcares.so\n"
         "race:libssl.so\n"
         "race:libcrypto.so\n";
}

// Accesses that interceptors (memcpy, malloc, ...) make on behalf of uninstrumented libraries
// are not tracked either, for the same reason.
extern "C" const char* __tsan_default_options() { return "ignore_noninstrumented_modules=1"; }

// LeakSanitizer: Debian's c-ares, as gRPC's DNS resolver drives it, leaks a few bytes per
// lookup of "localhost" (allocated inside libcares, not reachable from gRPC or corio).
extern "C" const char* __lsan_default_suppressions() { return "leak:libcares.so\n"; }
