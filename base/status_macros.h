// Status propagation macros, for functions and for coroutines.
//
//   absl::StatusOr<int> ParsePort(absl::string_view s);
//   absl::Status Listen(absl::string_view port_text) {
//     CORIO_ASSIGN_OR_RETURN(int port, ParsePort(port_text));
//     CORIO_RETURN_IF_ERROR(Bind(port));
//     return absl::OkStatus();
//   }
//   corio::Task<absl::Status> Serve() {
//     CORIO_CO_ASSIGN_OR_RETURN(auto conn, co_await listener.Accept());
//     CORIO_CO_RETURN_IF_ERROR(co_await conn.WriteAll(data));
//     co_return absl::OkStatus();
//   }
//
// The CO_ forms use `co_return` and work in coroutines returning Task<Status> or
// Task<StatusOr<T>>. The expression is evaluated exactly once.
#ifndef CORIO_BASE_STATUS_MACROS_H_
#define CORIO_BASE_STATUS_MACROS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace corio::base_internal {

inline const absl::Status& GetStatus(const absl::Status& s) { return s; }
template <typename T>
const absl::Status& GetStatus(const absl::StatusOr<T>& s) {
  return s.status();
}

}  // namespace corio::base_internal

#define CORIO_STATUS_CONCAT_INNER_(a, b) a##b
#define CORIO_STATUS_CONCAT_(a, b) CORIO_STATUS_CONCAT_INNER_(a, b)

#define CORIO_RETURN_IF_ERROR(expr)                                    \
  do {                                                                 \
    auto&& corio_status_ = (expr);                                     \
    if (!corio_status_.ok()) {                                         \
      return ::corio::base_internal::GetStatus(corio_status_);         \
    }                                                                  \
  } while (false)

#define CORIO_CO_RETURN_IF_ERROR(expr)                                 \
  do {                                                                 \
    auto&& corio_status_ = (expr);                                     \
    if (!corio_status_.ok()) {                                         \
      co_return ::corio::base_internal::GetStatus(corio_status_);      \
    }                                                                  \
  } while (false)

#define CORIO_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, rexpr, ret) \
  auto tmp = (rexpr);                                      \
  if (!tmp.ok()) {                                         \
    ret std::move(tmp).status();                           \
  }                                                        \
  lhs = *std::move(tmp)

#define CORIO_ASSIGN_OR_RETURN(lhs, rexpr)                                                   \
  CORIO_ASSIGN_OR_RETURN_IMPL_(CORIO_STATUS_CONCAT_(corio_statusor_, __LINE__), lhs, rexpr, \
                               return)

#define CORIO_CO_ASSIGN_OR_RETURN(lhs, rexpr)                                                \
  CORIO_ASSIGN_OR_RETURN_IMPL_(CORIO_STATUS_CONCAT_(corio_statusor_, __LINE__), lhs, rexpr, \
                               co_return)

#endif  // CORIO_BASE_STATUS_MACROS_H_
