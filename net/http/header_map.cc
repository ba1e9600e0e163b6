#include "net/http/header_map.h"

#include "absl/strings/match.h"

namespace corio::http {

HeaderMap HeaderMap::CopyOf(const Headers& headers) {
  HeaderMap m;
  size_t bytes = 0;
  for (const Header& h : headers) bytes += h.name.size() + h.value.size();
  m.data_.reserve(bytes);
  m.index_.reserve(headers.size());
  for (const Header& h : headers) m.Add(h.name, h.value);
  return m;
}

void HeaderMap::Add(absl::string_view name, absl::string_view value) {
  Field f;
  f.name = static_cast<uint32_t>(data_.size());
  f.name_len = static_cast<uint32_t>(name.size());
  data_.append(name.data(), name.size());
  f.value = static_cast<uint32_t>(data_.size());
  f.value_len = static_cast<uint32_t>(value.size());
  data_.append(value.data(), value.size());
  index_.push_back(f);
}

void HeaderMap::Clear() {
  data_.clear();
  index_.clear();
}

std::optional<absl::string_view> HeaderMap::Get(absl::string_view name) const {
  for (size_t i = 0; i < index_.size(); ++i) {
    Header h = (*this)[i];
    if (absl::EqualsIgnoreCase(h.name, name)) return h.value;
  }
  return std::nullopt;
}

std::vector<absl::string_view> HeaderMap::GetAll(absl::string_view name) const {
  std::vector<absl::string_view> out;
  for (size_t i = 0; i < index_.size(); ++i) {
    Header h = (*this)[i];
    if (absl::EqualsIgnoreCase(h.name, name)) out.push_back(h.value);
  }
  return out;
}

}  // namespace corio::http
