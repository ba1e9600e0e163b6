#include "testing/http_demo_site.h"

#include <cstdint>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"

namespace corio::testing {
namespace {

constexpr int kPages = 272;
constexpr int kSlowPages = 20;
constexpr size_t kPageSizes[] = {1024, 4096, 16384, 65536};

// An HTML page of exactly `size` (> 256) bytes.
std::string Page(absl::string_view title, size_t size) {
  std::string html = absl::StrCat("<!doctype html>\n<title>", title, "</title>\n<h1>", title,
                                  "</h1>\n<p>Served by corio's FakeHttpServer on loopback.</p>\n");
  const std::string filler =
      "<p>Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor.</p>\n";
  while (html.size() < size) html += filler;
  html.resize(size - 8);
  html += "\n</html>";
  return html;
}

std::string JsonDocument(int n) {
  std::string json = absl::StrCat("{\"document\":", n, ",\"items\":[");
  for (int i = 0; i < 400; ++i) {
    absl::StrAppend(&json, i > 0 ? "," : "", "{\"id\":", i, ",\"name\":\"item ", i,
                    "\",\"tags\":[\"demo\",\"corio\"]}");
  }
  json += "]}\n";
  return json;
}

std::string Incompressible(size_t size) {
  std::string out(size, '\0');
  uint64_t x = 0x9E3779B97F4A7C15ull;
  for (char& c : out) {
    x ^= x << 13;  // xorshift64
    x ^= x >> 7;
    x ^= x << 17;
    c = static_cast<char>(x >> 56);
  }
  return out;
}

}  // namespace

std::vector<std::string> InstallDemoSite(FakeHttpServer& server) {
  using Encoding = HttpResponse::Encoding;
  constexpr absl::string_view kHtml = "text/html; charset=utf-8";
  std::vector<std::string> pages;
  for (int n = 0; n < kPages; ++n) {
    const std::string path = absl::StrCat("/page/", n);
    const size_t size = kPageSizes[n % 4];
    server.Route(path, HttpResponse::Text(200, Page(absl::StrCat("corio demo page ", n), size),
                                          std::string(kHtml)));
    pages.push_back(path);
  }
  std::vector<std::string> slow;
  for (int n = 0; n < kSlowPages; ++n) {
    const std::string path = absl::StrCat("/slow/", n);
    const absl::Duration delay = absl::Milliseconds(200) * (n % 5 + 1);
    server.Route(path, HttpResponse::Text(200,
                                          Page(absl::StrCat("corio demo slow page ", n, " (",
                                                            absl::FormatDuration(delay), ")"),
                                               2048),
                                          std::string(kHtml))
                           .WithDelayBeforeHead(delay));
    slow.push_back(path);
  }
  server.Route("/redirect/1", HttpResponse::Redirect(302, "/redirect/2"));
  server.Route("/redirect/2", HttpResponse::Redirect(301, server.url("/redirect/3")));
  server.Route("/redirect/3", HttpResponse::Redirect(307, "/page/0"));
  std::vector<std::string> specials = {"/redirect/1"};
  for (int n = 0; n < 3; ++n) {
    const std::string path = absl::StrCat("/gzip/", n);
    server.Route(path, HttpResponse::Json(200, JsonDocument(n)).WithEncoding(Encoding::kGzip));
    specials.push_back(path);
  }
  server.Route("/deflate",
               HttpResponse::Json(200, JsonDocument(3)).WithEncoding(Encoding::kDeflate));
  server.Route("/chunked",
               HttpResponse::Text(200, Page("corio demo chunked page", 16384), std::string(kHtml))
                   .WithChunks(std::vector<size_t>(16, 1024)));
  server.Route("/large",
               HttpResponse::Text(200, Incompressible(8 << 20), "application/octet-stream"));
  for (const char* path : {"/deflate", "/chunked", "/large", "/missing"}) specials.push_back(path);

  // Slow pages and specials spread evenly through the fast pages.
  const size_t total = pages.size() + slow.size() + specials.size();
  std::vector<std::string> paths(total);
  auto spread = [&](const std::vector<std::string>& group, size_t offset) {
    for (size_t k = 0; k < group.size(); ++k) {
      size_t at = ((2 * k + 1) * total / (2 * group.size()) + offset) % total;
      while (!paths[at].empty()) at = (at + 1) % total;
      paths[at] = group[k];
    }
  };
  spread(slow, 0);
  spread(specials, 3);
  size_t next_page = 0;
  for (std::string& path : paths) {
    if (path.empty()) path = pages[next_page++];
  }
  std::string index = "<!doctype html>\n<title>corio demo</title>\n<ul>\n";
  std::vector<std::string> urls;
  for (const std::string& path : paths) {
    urls.push_back(server.url(path));
    absl::StrAppend(&index, "<li><a href=\"", path, "\">", path, "</a>\n");
  }
  index += "</ul>\n";
  server.Route("/", HttpResponse::Text(200, std::move(index), std::string(kHtml)));
  return urls;
}

}  // namespace corio::testing
