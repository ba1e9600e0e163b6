// Coroutine frame allocation for corio tasks: per-thread free lists in 16-byte size classes
// matching glibc's chunk sizes (up to 1 KiB), bounded, in front of malloc. A task's frame is freed
// where it finishes, usually on the thread that allocated it, so spawning and finishing tasks in a
// loop reuses warm frames instead of going through malloc.
//
// Threading: lock-free per thread; a frame may be freed on any thread.
#ifndef CORIO_TASKS_FRAME_ALLOCATOR_H_
#define CORIO_TASKS_FRAME_ALLOCATOR_H_

#include <cstddef>

#include "base/config.h"  // first: a clear error below C++20

namespace corio::tasks_internal {

void* AllocateFrame(std::size_t size);
void FreeFrame(void* p, std::size_t size) noexcept;

// Benchmarks only: turn recycling off (plain malloc/free) to measure what it saves.
void SetFrameRecyclingForBenchmark(bool on);

}  // namespace corio::tasks_internal

#endif  // CORIO_TASKS_FRAME_ALLOCATOR_H_
