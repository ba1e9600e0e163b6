#include "cmd/fetch_cmd/progress.h"

#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cmd/fetch_cmd/format.h"

namespace corio::fetch_cmd {
namespace {

std::string ShortDuration(double secs) {
  const int64_t s = static_cast<int64_t>(secs + 0.5);
  if (s < 60) return absl::StrCat(s, "s");
  if (s < 3600) return absl::StrFormat("%dm%02ds", s / 60, s % 60);
  return absl::StrFormat("%dh%02dm", s / 3600, (s % 3600) / 60);
}

}  // namespace

bool ShouldShowProgress(bool stderr_is_tty, std::optional<uint64_t> known_total) {
  constexpr uint64_t kLongList = 20;
  return stderr_is_tty && (!known_total.has_value() || *known_total >= kLongList);
}

std::string ProgressLine(const ProgressSnapshot& s, int width) {
  const double secs = absl::ToDoubleSeconds(s.elapsed);
  const double rate = secs > 0 ? static_cast<double>(s.done) / secs : 0;
  std::string counts = s.total ? absl::StrCat(s.done, "/", *s.total) : absl::StrCat(s.done, "/?");
  std::string tail;
  if (s.total && *s.total > 0) {
    absl::StrAppendFormat(&tail, " %3d%%",
                          static_cast<int>(100.0 * static_cast<double>(s.done) /
                                           static_cast<double>(*s.total)));
  }
  absl::StrAppendFormat(&tail, "  %.0f/s", rate);
  if (s.failed > 0) absl::StrAppend(&tail, "  ", s.failed, " failed");
  absl::StrAppend(&tail, "  ", HumanBytes(s.bytes));
  if (s.total && rate > 0 && *s.total >= s.done) {
    absl::StrAppend(&tail, "  ETA ",
                    ShortDuration(static_cast<double>(*s.total - s.done) / rate));
  }
  std::string text = absl::StrCat(counts, tail);
  // The bar takes what is left, between 10 and 40 columns; none on a very narrow terminal.
  const int room = width - static_cast<int>(text.size()) - 3;
  if (room >= 10) {
    const int bar = std::min(room, 40);
    int filled = 0;
    if (s.total && *s.total > 0) {
      filled = static_cast<int>(static_cast<double>(bar) * static_cast<double>(s.done) /
                                static_cast<double>(*s.total));
      filled = std::clamp(filled, 0, bar);
    } else {
      filled = static_cast<int>(s.done % static_cast<uint64_t>(bar));  // unknown: a moving mark
    }
    text = absl::StrCat("[", std::string(filled, '#'), std::string(bar - filled, '.'), "] ", text);
  }
  if (width > 0 && static_cast<int>(text.size()) > width) text.resize(width);
  return text;
}

}  // namespace corio::fetch_cmd
