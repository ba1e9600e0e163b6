#include "testing/memory_stream.h"

#include <algorithm>
#include <cstring>
#include <optional>

#include "absl/strings/str_cat.h"
#include "tasks/event.h"

namespace corio::testing {
namespace {

// Whether the awaiting task is cancelled; never suspends.
struct CancelCheck {
  bool cancelled = false;
  bool await_ready() const noexcept { return false; }
  template <typename P>
  bool await_suspend(std::coroutine_handle<P> h) noexcept {
    cancelled = tasks_internal::IsCancelled(tasks_internal::RootOf(h));
    return false;
  }
  bool await_resume() const noexcept { return cancelled; }
};

}  // namespace

// One end's inbound buffer and state. Index: the reading end.
struct End {
  MemoryStream::Options options;
  std::string inbound;     // written by the peer, unread
  bool eof = false;        // the peer shut down / closed, or InjectEof
  bool closed = false;     // this end was closed
  bool shut_down = false;  // this end shut its writing side down
  std::optional<absl::Status> fail_read, fail_write;
  size_t bytes_read = 0, bytes_written = 0;
  Event changed;  // something this end's reader or writer may be waiting for happened
};

struct MemoryStream::Shared {
  End end[2];
  bool reset = false;
  void Changed() {
    end[0].changed.Set();
    end[1].changed.Set();
  }
};

namespace {

absl::Status ResetError(const End& self, absl::string_view op) {
  return absl::UnavailableError(
      absl::StrCat(op, " ", self.options.name, ": connection reset by peer"));
}

}  // namespace

Task<absl::StatusOr<size_t>> MemoryStream::Read(absl::Span<char> buf) {
  std::shared_ptr<Shared> s = shared_;  // the frame keeps the buffers alive
  End& self = s->end[side_];
  const std::string peer = s->end[1 - side_].options.name;
  if (self.closed) co_return absl::FailedPreconditionError("read from a closed MemoryStream");
  CancelCheck check;  // named: no braced temporary inside a co_await (GCC 12)
  const bool cancelled = co_await check;
  if (cancelled) co_return absl::CancelledError(absl::StrCat("read from ", peer, " cancelled"));
  for (;;) {
    if (self.closed) co_return absl::CancelledError("MemoryStream closed while reading");
    if (s->reset) co_return ResetError(s->end[1 - side_], "read from");
    if (self.fail_read.has_value()) {
      absl::Status e = *std::move(self.fail_read);
      self.fail_read.reset();
      co_return e;
    }
    if (!self.inbound.empty() && !buf.empty()) {
      size_t n = std::min(buf.size(), self.inbound.size());
      if (self.options.max_read > 0) n = std::min(n, self.options.max_read);
      std::memcpy(buf.data(), self.inbound.data(), n);
      self.inbound.erase(0, n);
      self.bytes_read += n;
      s->Changed();  // a writer waiting for room may go on
      co_return n;
    }
    if (self.eof || buf.empty()) co_return size_t{0};
    self.changed.Clear();
    absl::Status w = co_await self.changed.Wait();
    if (!w.ok()) co_return w;  // cancelled: nothing taken
  }
}

namespace {

// Appends what fits of `data` to the peer's buffer; `until_any`: return once some was written.
Task<absl::StatusOr<size_t>> WriteOn(std::shared_ptr<MemoryStream::Shared> s, int side,
                                     absl::string_view data, bool until_any) {
  End& self = s->end[side];
  End& peer = s->end[1 - side];
  if (self.closed) co_return absl::FailedPreconditionError("write to a closed MemoryStream");
  CancelCheck check;  // named: no braced temporary inside a co_await (GCC 12)
  const bool cancelled = co_await check;
  if (cancelled) {
    co_return absl::CancelledError(absl::StrCat("write to ", peer.options.name, " cancelled"));
  }
  size_t done = 0;
  for (;;) {
    absl::Status error;
    if (self.closed) {
      error = absl::CancelledError("MemoryStream closed while writing");
    } else if (s->reset) {
      error = ResetError(peer, "write to");
    } else if (self.fail_write.has_value()) {
      error = *std::move(self.fail_write);
      self.fail_write.reset();
    } else if (self.shut_down) {
      error = absl::FailedPreconditionError(
          absl::StrCat("write to ", peer.options.name, " after Shutdown"));
    } else if (peer.closed) {
      error = absl::FailedPreconditionError(
          absl::StrCat("write to ", peer.options.name, ": Broken pipe"));
    }
    if (!error.ok()) {
      if (done > 0 && until_any) co_return done;
      if (done > 0) {
        co_return absl::Status(error.code(), absl::StrCat(error.message(), " (after ", done, " of ",
                                                          data.size(), " bytes)"));
      }
      co_return error;
    }
    const size_t room = peer.options.capacity > peer.inbound.size()
                            ? peer.options.capacity - peer.inbound.size()
                            : 0;
    const size_t n = std::min(room, data.size() - done);
    if (n > 0) {
      peer.inbound.append(data.data() + done, n);
      done += n;
      self.bytes_written += n;
      s->Changed();
    }
    if (done == data.size() || (until_any && done > 0)) co_return done;
    self.changed.Clear();
    absl::Status w = co_await self.changed.Wait();
    if (!w.ok()) {
      if (until_any && done > 0) co_return done;
      if (done == 0) co_return w;
      co_return absl::Status(
          w.code(), absl::StrCat(w.message(), " (after ", done, " of ", data.size(), " bytes)"));
    }
  }
}

}  // namespace

Task<absl::Status> MemoryStream::WriteAll(absl::string_view data) {
  absl::StatusOr<size_t> n = co_await WriteOn(shared_, side_, data, /*until_any=*/false);
  co_return n.status();
}

Task<absl::StatusOr<size_t>> MemoryStream::Write(absl::string_view data) {
  if (data.empty()) return []() -> Task<absl::StatusOr<size_t>> { co_return size_t{0}; }();
  return WriteOn(shared_, side_, data, /*until_any=*/true);
}

Task<absl::Status> MemoryStream::Shutdown() {
  std::shared_ptr<Shared> s = shared_;
  if (s->end[side_].closed)
    co_return absl::FailedPreconditionError("shutdown of a closed MemoryStream");
  if (s->reset) co_return ResetError(s->end[1 - side_], "shutdown of");
  s->end[side_].shut_down = true;
  s->end[1 - side_].eof = true;
  s->Changed();
  co_return absl::OkStatus();
}

void MemoryStream::Close() {
  End& self = shared_->end[side_];
  if (self.closed) return;
  self.closed = true;
  self.inbound.clear();
  shared_->end[1 - side_].eof = true;
  shared_->Changed();
}

bool MemoryStream::IsIdleUsable() {
  const End& self = shared_->end[side_];
  return !self.closed && !shared_->reset && !self.eof && self.inbound.empty();
}

std::string MemoryStream::PeerName() const { return shared_->end[1 - side_].options.name; }

void MemoryStream::set_max_read(size_t n) { shared_->end[side_].options.max_read = n; }

void MemoryStream::InjectEof() {
  shared_->end[side_].eof = true;
  shared_->Changed();
}

void MemoryStream::InjectReset() {
  shared_->reset = true;
  shared_->end[0].inbound.clear();
  shared_->end[1].inbound.clear();
  shared_->Changed();
}

void MemoryStream::FailNextRead(absl::Status error) {
  shared_->end[side_].fail_read = std::move(error);
  shared_->Changed();
}

void MemoryStream::FailNextWrite(absl::Status error) {
  shared_->end[side_].fail_write = std::move(error);
  shared_->Changed();
}

size_t MemoryStream::unread() const { return shared_->end[side_].inbound.size(); }
size_t MemoryStream::bytes_read() const { return shared_->end[side_].bytes_read; }
size_t MemoryStream::bytes_written() const { return shared_->end[side_].bytes_written; }

std::pair<std::unique_ptr<MemoryStream>, std::unique_ptr<MemoryStream>> MemoryStreamPair(
    MemoryStream::Options first, MemoryStream::Options second) {
  auto shared = std::make_shared<MemoryStream::Shared>();
  // end[i].options describe end i: its name (the peer's PeerName), capacity and max_read.
  shared->end[0].options = std::move(first);
  shared->end[1].options = std::move(second);
  return {std::make_unique<MemoryStream>(shared, 0), std::make_unique<MemoryStream>(shared, 1)};
}

}  // namespace corio::testing
