// HeaderMap: HTTP header fields that own their bytes — in the order received,
// duplicates kept, lookups ignoring ASCII case. A Response's headers (unlike
// the parser's views, they survive the connection's buffer moving on to the
// next response).
//
//   std::optional<absl::string_view> type =
//   response.headers().Get("content-type"); for (absl::string_view c :
//   response.headers().GetAll("Set-Cookie")) ... for (const
//   corio::http::Header& h : response.headers()) ... h.name, h.value
//
// Storage: one string holding every name and value, and one index; copying a
// HeaderMap copies both (the views it hands out point into its own storage and
// stay valid until it changes). Threading: a value type; not synchronized.
#ifndef CORIO_NET_HTTP_HEADER_MAP_H_
#define CORIO_NET_HTTP_HEADER_MAP_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "net/http/parser.h"

namespace corio::http {

class HeaderMap {
 public:
  HeaderMap() = default;
  HeaderMap(const HeaderMap& other) = default;
  HeaderMap& operator=(const HeaderMap& other) = default;
  HeaderMap(HeaderMap&& other) noexcept = default;
  HeaderMap& operator=(HeaderMap&& other) noexcept = default;

  // A copy of the parser's (view) headers.
  static HeaderMap CopyOf(const Headers& headers);

  void Add(absl::string_view name, absl::string_view value);
  void Clear();

  size_t size() const { return index_.size(); }
  bool empty() const { return index_.empty(); }
  Header operator[](size_t i) const {
    const Field& f = index_[i];
    return Header{absl::string_view(data_.data() + f.name, f.name_len),
                  absl::string_view(data_.data() + f.value, f.value_len)};
  }
  // The first field named `name` (any case), if any.
  std::optional<absl::string_view> Get(absl::string_view name) const;
  std::vector<absl::string_view> GetAll(absl::string_view name) const;
  bool Has(absl::string_view name) const { return Get(name).has_value(); }

  class Iterator {
   public:
    Iterator(const HeaderMap* m, size_t i) : m_(m), i_(i) {}
    Header operator*() const { return (*m_)[i_]; }
    Iterator& operator++() {
      ++i_;
      return *this;
    }
    bool operator==(const Iterator& o) const { return i_ == o.i_; }
    bool operator!=(const Iterator& o) const { return i_ != o.i_; }

   private:
    const HeaderMap* m_;
    size_t i_;
  };
  Iterator begin() const { return Iterator(this, 0); }
  Iterator end() const { return Iterator(this, index_.size()); }

 private:
  struct Field {
    uint32_t name, name_len, value, value_len;
  };
  std::string data_;
  std::vector<Field> index_;
};

}  // namespace corio::http

#endif  // CORIO_NET_HTTP_HEADER_MAP_H_
