// RemoteFetcher: `fetch --server=TARGET` — each URL is fetched by a corio fetch server
// (corio.fetch.v1.FetchService) instead of by this process. One FetchClient (one gRPC channel,
// thread-safe, balanced round robin over every server of TARGET) serves every loop; each loop
// feeds a FetchStream, which batches its URLs into FetchMany calls and sends an item whose
// server died mid-call to another server, so no URL is silently lost.
//
//   auto client = fetch::FetchClient::Create({.target = "ipv4:127.0.0.1:50051,127.0.0.2:50051"});
//   LoopFetcherFactory factory = RemoteFetcherFactory(**client, options, body_files);
//
// What differs from a local run: the fetch's own policy (TLS verification, address policy,
// body limits, redirect rules) is the server's; --cacert/--insecure/--retries/--limit_per_host
// apply to local runs only (the servers retry per their configuration). Bodies asked for
// (--output=body, --output_dir) travel whole in the gRPC responses (bounded by
// --max_body_bytes).
// Threading and ownership: see fetcher.h; the FetchClient must outlive every fetcher.
#ifndef CORIO_CMD_FETCH_CMD_REMOTE_FETCHER_H_
#define CORIO_CMD_FETCH_CMD_REMOTE_FETCHER_H_

#include "cmd/fetch_cmd/body_file.h"
#include "cmd/fetch_cmd/fetcher.h"
#include "cmd/fetch_cmd/options.h"
#include "net/fetch/client.h"
#include "net/fetch/fetch.pb.h"

namespace corio::fetch_cmd {

// `body_files` may be null (no --output_dir); it must outlive the fetchers.
LoopFetcherFactory RemoteFetcherFactory(fetch::FetchClient& client, FetchOptions options,
                                        const BodyFiles* body_files);

// The FetchRequest for one URL under `options` (exposed for tests).
fetch::v1::FetchRequest MakeFetchRequest(const FetchOptions& options, const std::string& url);

}  // namespace corio::fetch_cmd

#endif  // CORIO_CMD_FETCH_CMD_REMOTE_FETCHER_H_
