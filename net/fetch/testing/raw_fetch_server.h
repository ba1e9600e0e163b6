// RawFetchServer: a stand-in for a fetch server that answers corio.fetch.v1.FetchService's
// Fetch and FetchMany with hand-made wire bytes, for tests of how clients take answers that
// do not parse (a proto3 string that is not UTF-8, as a fetch server once sent for a Latin-1
// reason phrase; a corrupt message). Each request is answered by the host of its URL:
//
//   http://poison.test/...    200 with reason "Gr\xfc\xdfe" (not UTF-8: does not parse)
//   http://corrupt.test/...   a message cut short (does not parse; no index can be read)
//   anything else             200 "OK"
//
//   auto server = corio::fetch::testing::RawFetchServer::Start();
//   client_options.target = server->address();      // "127.0.0.1:PORT"
//   ... server->calls() ...                           // calls received
//
// Threading: thread-safe; gRPC's threads serve the calls.
#ifndef CORIO_NET_FETCH_TESTING_RAW_FETCH_SERVER_H_
#define CORIO_NET_FETCH_TESTING_RAW_FETCH_SERVER_H_

#include <atomic>
#include <memory>
#include <string>

#include "grpcpp/generic/async_generic_service.h"
#include "grpcpp/grpcpp.h"

namespace corio::fetch::testing {

class RawFetchServer {
 public:
  static std::unique_ptr<RawFetchServer> Start();
  ~RawFetchServer();

  std::string address() const { return address_; }
  int calls() const { return calls_.load(); }

 private:
  class Service;
  RawFetchServer() = default;

  std::unique_ptr<Service> service_;
  std::unique_ptr<grpc::Server> server_;
  std::string address_;
  std::atomic<int> calls_{0};
};

}  // namespace corio::fetch::testing

#endif  // CORIO_NET_FETCH_TESTING_RAW_FETCH_SERVER_H_
