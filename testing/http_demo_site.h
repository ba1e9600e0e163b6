// The demo site behind `fetch --demo`: a few hundred URLs on a FakeHttpServer that show what a
// fetch run looks like, with no network: fast pages of several sizes, slow pages, a redirect
// chain, compressed pages, a chunked page, a large file and a 404.
//
//   auto server = corio::testing::FakeHttpServer::StartInBackground().value();
//   std::vector<std::string> urls = corio::testing::InstallDemoSite(*server);
//   ... fetch them all ...
//
// The URLs (kDemoSiteUrls of them, in the order to fetch them, slow ones spread through):
//   /page/N        272 HTML pages of 1, 4, 16 and 64 KiB (by N % 4)
//   /slow/N        20 pages answered after 0.2 s to 1 s (the server loop's clock)
//   /redirect/1    302 -> /redirect/2, 301 -> http://HOST:PORT/redirect/3 (absolute),
//                  307 -> /page/0
//   /gzip/N        3 JSON documents, gzip-encoded; /deflate: one zlib-deflated document
//   /chunked       16 KiB in 1 KiB chunks
//   /large         8 MiB of incompressible bytes
//   /missing       404
// Plus "/", an HTML index of them all (not in the list). Everything but /missing ends in 200.
// Threading: call it from any thread (Route* is thread-safe). Ownership: the routes live in
// the server; the URLs name its address.
#ifndef CORIO_TESTING_HTTP_DEMO_SITE_H_
#define CORIO_TESTING_HTTP_DEMO_SITE_H_

#include <string>
#include <vector>

#include "testing/http_server.h"

namespace corio::testing {

inline constexpr int kDemoSiteUrls = 300;

std::vector<std::string> InstallDemoSite(FakeHttpServer& server);

}  // namespace corio::testing

#endif  // CORIO_TESTING_HTTP_DEMO_SITE_H_
