#include "tasks/frame_allocator.h"

#include <cstdlib>
#include <new>

namespace corio::tasks_internal {
namespace {

// Classes are glibc's usable chunk sizes, 16k + 8 (a chunk is the request plus an 8-byte
// header, rounded up to 16): rounding a request up to anything else would cost a bigger chunk.
constexpr std::size_t kGranularity = 16;
constexpr std::size_t kMaxSize = 1024;
constexpr std::size_t kClasses = kMaxSize / kGranularity + 1;
constexpr int kMaxCachedPerClass = 512;

// Under AddressSanitizer frames go straight to malloc/free, so a use of a freed frame or a
// double destroy is reported instead of being hidden by the free lists.
#if defined(__SANITIZE_ADDRESS__)
bool g_recycling = false;
#else
bool g_recycling = true;
#endif

struct FreeBlock {
  FreeBlock* next;
};

struct Cache {
  FreeBlock* head[kClasses] = {};
  int count[kClasses] = {};
  ~Cache() {
    for (std::size_t c = 0; c < kClasses; ++c) {
      while (head[c] != nullptr) {
        FreeBlock* b = head[c];
        head[c] = b->next;
        std::free(b);
      }
    }
  }
};

thread_local Cache t_cache;

inline std::size_t ClassOf(std::size_t size) { return (size + 7) / kGranularity; }
inline std::size_t ClassSize(std::size_t c) { return c * kGranularity + 8; }

}  // namespace

void* AllocateFrame(std::size_t size) {
  if (size <= kMaxSize) {
    const std::size_t c = ClassOf(size);
    if (g_recycling) {
      if (FreeBlock* b = t_cache.head[c]) {
        t_cache.head[c] = b->next;
        --t_cache.count[c];
        return b;
      }
    }
    size = ClassSize(c);  // so the block can serve its whole class later
  }
  void* p = std::malloc(size);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}

void FreeFrame(void* p, std::size_t size) noexcept {
  if (size <= kMaxSize && g_recycling) {
    const std::size_t c = ClassOf(size);
    if (t_cache.count[c] < kMaxCachedPerClass) {
      auto* b = static_cast<FreeBlock*>(p);
      b->next = t_cache.head[c];
      t_cache.head[c] = b;
      ++t_cache.count[c];
      return;
    }
  }
  std::free(p);
}

void SetFrameRecyclingForBenchmark(bool on) { g_recycling = on; }

}  // namespace corio::tasks_internal
