#include "net/http/parser.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "net/http/chars.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace corio::http {
namespace {

struct TokenTable {
  bool t[256];
  constexpr TokenTable() : t() {
    for (int c = 0; c < 256; ++c) t[c] = IsTokenChar(static_cast<unsigned char>(c));
  }
};
constexpr TokenTable kToken;

struct HexTable {
  signed char v[256];
  constexpr HexTable() : v() {
    for (int c = 0; c < 256; ++c) {
      v[c] = static_cast<signed char>(HexDigitValue(static_cast<unsigned char>(c)));
    }
  }
};
constexpr HexTable kHex;

// The first byte in [p, end) that is a control character (< 0x20 or DEL), or `end`.
// Field values are VCHAR / obs-text / SP / HTAB: this finds where one ends (CR) or where a
// forbidden byte (NUL, bare LF, ...) or an HTAB (allowed, rare) sits.
const char* FindControl(const char* p, const char* end) {
#if defined(__SSE2__)
  const __m128i limit = _mm_set1_epi8(0x1F);
  const __m128i del = _mm_set1_epi8(0x7F);
  while (end - p >= 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    // v <= 0x1F (unsigned): max(v, 0x1F) == 0x1F.
    const __m128i low = _mm_cmpeq_epi8(_mm_max_epu8(v, limit), limit);
    const int mask = _mm_movemask_epi8(_mm_or_si128(low, _mm_cmpeq_epi8(v, del)));
    if (mask != 0) return p + __builtin_ctz(static_cast<unsigned>(mask));
    p += 16;
  }
#endif
  while (p < end && !IsControl(static_cast<unsigned char>(*p))) ++p;
  return p;
}

absl::Status Malformed(absl::string_view what) {
  return absl::DataLossError(absl::StrCat("http: malformed response: ", what));
}

std::string Shown(absl::string_view bytes) {
  return absl::StrCat("\"", absl::CHexEscape(bytes.substr(0, 40)), bytes.size() > 40 ? "..." : "",
                      "\"");
}

std::string Size(size_t bytes) {
  if (bytes % 1024 == 0) return absl::StrCat(bytes / 1024, " KiB");
  return absl::StrCat(bytes, " bytes");
}

// "http: header line exceeds 8 KiB".
absl::Status TooLong(absl::string_view what, size_t limit) {
  return absl::ResourceExhaustedError(absl::StrCat("http: ", what, " exceeds ", Size(limit)));
}

// Calls f(element) for each trimmed, non-empty element of a comma-separated value.
template <typename F>
void ForEachListElement(absl::string_view value, F f) {
  while (!value.empty()) {
    const size_t comma = value.find(',');
    absl::string_view e = value.substr(0, comma);
    e = absl::StripAsciiWhitespace(e);
    if (!e.empty()) f(e);
    if (comma == absl::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
}

// One field line, parsed in place in a single pass.
struct FieldLine {
  const char* name;
  size_t name_len;
  const char* value;
  size_t value_len;
  const char* next;  // the byte after the line's LF
};

// Parses the field line at `p` (not the empty line). Returns nullopt-like `next == nullptr`
// if the line is not complete in [p, end).
absl::StatusOr<FieldLine> ParseFieldLineAt(const char* p, const char* end) {
  FieldLine f{};
  if (*p == ' ' || *p == '\t') {
    return Malformed("obsolete line folding (a field line starting with whitespace)");
  }
  const char* q = p;
  while (q < end && kToken.t[static_cast<unsigned char>(*q)]) ++q;
  if (q == end) return f;  // incomplete
  if (q == p) {
    return Malformed(
        absl::StrCat("field line without a name: ", Shown(absl::string_view(p, end - p))));
  }
  if (*q != ':') {
    return Malformed(
        absl::StrCat("invalid character in field name: ", Shown(absl::string_view(p, end - p))));
  }
  f.name = p;
  f.name_len = q - p;
  ++q;
  while (q < end && (*q == ' ' || *q == '\t')) ++q;
  const char* value = q;
  for (;;) {
    q = FindControl(q, end);
    if (q == end) return f;  // incomplete
    if (*q == '\t') {
      ++q;
      continue;
    }
    if (*q == '\r') {
      if (q + 1 == end) return f;  // the LF may come next
      if (q[1] != '\n') return Malformed("bare CR");
      break;
    }
    if (*q == '\n') return Malformed("bare LF line ending");
    return Malformed(
        absl::StrCat("control character in the value of ", absl::string_view(f.name, f.name_len)));
  }
  const char* value_end = q;
  while (value_end > value && (value_end[-1] == ' ' || value_end[-1] == '\t')) --value_end;
  f.value = value;
  f.value_len = value_end - value;
  f.next = q + 2;
  return f;
}

// The CR of the CRLF ending the line at `p`, or nullptr if not complete in [p, end). A bare
// LF before it is an error (a bare CR inside is caught by the line's own checks).
absl::StatusOr<const char*> FindLineEnd(const char* p, const char* end) {
  const void* lf = std::memchr(p, '\n', end - p);
  if (lf == nullptr) return nullptr;
  const char* l = static_cast<const char*>(lf);
  if (l == p || l[-1] != '\r') return Malformed("bare LF line ending");
  return l - 1;
}

bool IsBws(char c) { return c == ' ' || c == '\t'; }

// qdtext (RFC 9110 §5.6.4): HTAB, SP, %x21, %x23-5B, %x5D-7E, obs-text.
bool IsQdText(unsigned char c) {
  return c == '\t' || c == ' ' || c == 0x21 || (c >= 0x23 && c <= 0x5B) ||
         (c >= 0x5D && c <= 0x7E) || c >= 0x80;
}

// The extensions after the `digits` hex digits of a chunk-size line (RFC 9112 §7.1.1), which
// are skipped but must follow the grammar:
//   chunk-ext      = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
//   chunk-ext-name = token
//   chunk-ext-val  = token / quoted-string
// BWS is *( SP / HTAB ); nothing, not even whitespace, may follow the last extension.
absl::Status CheckChunkExtensions(absl::string_view line, size_t digits) {
  const size_t n = line.size();
  size_t i = digits;
  auto skip_bws = [&] {
    while (i < n && IsBws(line[i])) ++i;
  };
  auto token = [&] {
    const size_t start = i;
    while (i < n && kToken.t[static_cast<unsigned char>(line[i])]) ++i;
    return i > start;
  };
  auto bad = [&] { return Malformed(absl::StrCat("chunk extension ", Shown(line))); };
  for (bool first = true; i < n; first = false) {
    skip_bws();
    if (i == n || line[i] != ';') {
      // Before any extension: no extension at all, just a size with junk after it.
      if (first) return Malformed(absl::StrCat("invalid chunk size ", Shown(line)));
      return bad();
    }
    ++i;
    skip_bws();
    if (!token()) return bad();
    const size_t after_name = i;
    skip_bws();
    if (i == n || line[i] != '=') {
      i = after_name;  // no value; the whitespace belongs to the next extension, if any
      continue;
    }
    ++i;
    skip_bws();
    if (i < n && line[i] == '"') {
      for (++i;; ++i) {
        if (i == n) return bad();  // unterminated
        const unsigned char c = static_cast<unsigned char>(line[i]);
        if (c == '"') break;
        if (c == '\\') {  // quoted-pair: "\" ( HTAB / SP / VCHAR / obs-text )
          if (++i == n) return bad();
          const unsigned char e = static_cast<unsigned char>(line[i]);
          if (IsControl(e) && e != '\t') return bad();
        } else if (!IsQdText(c)) {
          return bad();
        }
      }
      ++i;
    } else if (!token()) {
      return bad();
    }
  }
  return absl::OkStatus();
}

}  // namespace

std::optional<absl::string_view> Headers::Get(absl::string_view name) const {
  for (const Header& h : fields_) {
    if (absl::EqualsIgnoreCase(h.name, name)) return h.value;
  }
  return std::nullopt;
}

std::vector<absl::string_view> Headers::GetAll(absl::string_view name) const {
  std::vector<absl::string_view> out;
  for (const Header& h : fields_) {
    if (absl::EqualsIgnoreCase(h.name, name)) out.push_back(h.value);
  }
  return out;
}

void ResponseParser::Reset(bool head_request) {
  state_ = State::kHead;
  head_request_ = head_request;
  received_any_ = false;
  head_complete_ = false;
  head_pos_ = 0;
  field_offsets_.clear();
  reason_off_ = reason_len_ = 0;
  content_length_.reset();
  te_fields_ = te_chunked_ = 0;
  te_last_chunked_ = false;
  conn_close_ = conn_keep_alive_ = false;
  head_.version_minor = 1;
  head_.status = 0;
  head_.reason = {};
  head_.headers.fields_.clear();  // keeps its capacity for the next response
  framing_ = BodyFraming::kNone;
  keep_alive_ = false;
  other_codings_ = false;
  remaining_ = 0;
  body_seen_ = 0;
  trailer_bytes_ = 0;
  trailers_.clear();
}

std::optional<uint64_t> ResponseParser::content_length() const {
  if (framing_ != BodyFraming::kContentLength) return std::nullopt;
  return body_seen_ + remaining_;
}

absl::Status ResponseParser::Fail(absl::Status s) {
  state_ = State::kFailed;
  return s;
}

absl::Status ResponseParser::CountBody(size_t n) {
  body_seen_ += n;
  if (body_seen_ > limits_.max_body_bytes) return BodyLimitExceeded();
  return absl::OkStatus();
}

absl::Status ResponseParser::BodyLimitExceeded() {
  return Fail(absl::ResourceExhaustedError(
      absl::StrCat("http: response body exceeds ", limits_.max_body_bytes, " bytes")));
}

absl::Status ResponseParser::ParseStatusLine(absl::string_view line) {
  // HTTP/1.x SP 3DIGIT [SP reason]
  const char* p = line.data();
  if (line.size() < 12 || std::memcmp(p, "HTTP/1.", 7) != 0 || p[8] != ' ' ||
      !absl::ascii_isdigit(p[9]) || !absl::ascii_isdigit(p[10]) || !absl::ascii_isdigit(p[11])) {
    return Malformed(absl::StrCat("status line ", Shown(line)));
  }
  if (p[7] != '0' && p[7] != '1') {
    return Malformed(absl::StrCat("unsupported version ", Shown(line.substr(0, 8))));
  }
  head_.version_minor = p[7] - '0';
  head_.status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
  if (head_.status < 100) return Malformed(absl::StrCat("status code ", head_.status));
  if (line.size() > 12) {
    if (p[12] != ' ') return Malformed(absl::StrCat("status line ", Shown(line)));
    for (size_t i = 13; i < line.size(); ++i) {
      if (IsControl(static_cast<unsigned char>(p[i])) && p[i] != '\t') {
        return Malformed("control character in the reason phrase");
      }
    }
    reason_off_ = 13;
    reason_len_ = line.size() - 13;
  }
  return absl::OkStatus();
}

absl::Status ResponseParser::NoteFramingField(absl::string_view name, absl::string_view value) {
  switch (name.size()) {
    case 10:  // Connection
      if (!absl::EqualsIgnoreCase(name, "connection")) return absl::OkStatus();
      ForEachListElement(value, [&](absl::string_view token) {
        if (absl::EqualsIgnoreCase(token, "close")) conn_close_ = true;
        if (absl::EqualsIgnoreCase(token, "keep-alive")) conn_keep_alive_ = true;
      });
      return absl::OkStatus();
    case 14: {  // Content-Length
      if (!absl::EqualsIgnoreCase(name, "content-length")) return absl::OkStatus();
      absl::Status status;
      bool any = false;
      ForEachListElement(value, [&](absl::string_view e) {
        any = true;
        if (!status.ok()) return;
        if (e.size() > 19 || !std::all_of(e.begin(), e.end(), absl::ascii_isdigit)) {
          status = Malformed(absl::StrCat("Content-Length ", Shown(e)));
          return;
        }
        uint64_t n = 0;
        for (char c : e) n = n * 10 + static_cast<uint64_t>(c - '0');
        if (content_length_.has_value() && *content_length_ != n) {
          status = Malformed(
              absl::StrCat("conflicting Content-Length values ", *content_length_, " and ", n));
          return;
        }
        content_length_ = n;
      });
      if (!any) return Malformed("empty Content-Length");
      return status;
    }
    case 17: {  // Transfer-Encoding
      if (!absl::EqualsIgnoreCase(name, "transfer-encoding")) return absl::OkStatus();
      ++te_fields_;
      bool any = false;
      ForEachListElement(value, [&](absl::string_view c) {
        any = true;
        te_last_chunked_ = absl::EqualsIgnoreCase(c, "chunked");
        if (te_last_chunked_) {
          ++te_chunked_;
        } else if (!absl::EqualsIgnoreCase(c, "identity")) {
          other_codings_ = true;
        }
      });
      if (!any) return Malformed("empty Transfer-Encoding");
      return absl::OkStatus();
    }
    default:
      return absl::OkStatus();
  }
}

absl::StatusOr<size_t> ResponseParser::ParseHead(absl::string_view input) {
  const char* const base = input.data();
  const char* const end = base + input.size();
  auto incomplete = [&](const char* line_start) -> absl::StatusOr<size_t> {
    if (input.size() > limits_.max_head_bytes) {
      return TooLong("response header", limits_.max_head_bytes);
    }
    if (static_cast<size_t>(end - line_start) > limits_.max_line_bytes) {
      return TooLong("header line", limits_.max_line_bytes);
    }
    return 0;
  };
  if (head_pos_ == 0) {
    absl::StatusOr<const char*> cr = FindLineEnd(base, end);
    if (!cr.ok()) return cr.status();
    if (*cr == nullptr) return incomplete(base);
    const absl::string_view line(base, *cr - base);
    if (line.size() > limits_.max_line_bytes) {
      return TooLong("status line", limits_.max_line_bytes);
    }
    if (absl::Status s = ParseStatusLine(line); !s.ok()) return s;
    head_pos_ = line.size() + 2;
  }
  const char* p = base + head_pos_;
  for (;;) {
    if (end - p < 2) return incomplete(p);
    if (p[0] == '\r') {
      if (p[1] != '\n') return Malformed("bare CR");
      break;  // the empty line: the head is complete
    }
    if (p[0] == '\n') return Malformed("bare LF line ending");
    absl::StatusOr<FieldLine> f = ParseFieldLineAt(p, end);
    if (!f.ok()) return f.status();
    if (f->next == nullptr) return incomplete(p);
    if (static_cast<size_t>(f->next - p - 2) > limits_.max_line_bytes) {
      return TooLong("header line", limits_.max_line_bytes);
    }
    if (field_offsets_.size() == limits_.max_headers) {
      return absl::ResourceExhaustedError(
          absl::StrCat("http: more than ", limits_.max_headers, " header fields"));
    }
    const absl::string_view name(f->name, f->name_len);
    const absl::string_view value(f->value, f->value_len);
    if (absl::Status s = NoteFramingField(name, value); !s.ok()) return s;
    field_offsets_.push_back(
        FieldOffsets{static_cast<uint32_t>(f->name - base), static_cast<uint32_t>(f->name_len),
                     static_cast<uint32_t>(f->value - base), static_cast<uint32_t>(f->value_len)});
    p = f->next;
    head_pos_ = p - base;
    if (head_pos_ > limits_.max_head_bytes) return incomplete(p);
  }
  const size_t head_len = (p - base) + 2;
  if (head_len > limits_.max_head_bytes) {
    return TooLong("response header", limits_.max_head_bytes);
  }
  // Complete: make the views.
  head_.reason = absl::string_view(base + reason_off_, reason_len_);
  std::vector<Header>& fields = head_.headers.fields_;
  fields.resize(field_offsets_.size());
  for (size_t i = 0; i < field_offsets_.size(); ++i) {
    const FieldOffsets& o = field_offsets_[i];
    fields[i] = Header{absl::string_view(base + o.name, o.name_len),
                       absl::string_view(base + o.value, o.value_len)};
  }
  return head_len;
}

absl::Status ResponseParser::DecideFraming() {
  const int status = head_.status;
  // Connection management (RFC 9112 §9.3).
  keep_alive_ = head_.version_minor >= 1 ? !conn_close_ : (conn_keep_alive_ && !conn_close_);

  // 1xx: an interim response, complete without a body.
  if (status < 200) {
    if (status == 101) keep_alive_ = false;  // the connection now speaks something else
    framing_ = BodyFraming::kNone;
    state_ = State::kDone;
    return absl::OkStatus();
  }
  if (head_request_ || status == 204 || status == 304) {
    framing_ = BodyFraming::kNone;
    state_ = State::kDone;
    return absl::OkStatus();
  }
  if (te_fields_ > 0) {
    if (content_length_.has_value()) {
      return Malformed("both Content-Length and Transfer-Encoding (a desync risk)");
    }
    if (head_.version_minor == 0) return Malformed("Transfer-Encoding in an HTTP/1.0 response");
    if (te_chunked_ > 1) return Malformed("chunked transfer coding applied more than once");
    if (te_last_chunked_) {
      framing_ = BodyFraming::kChunked;
      state_ = State::kChunkSize;
      return absl::OkStatus();
    }
    // RFC 9112 §6.3(4): chunked is not the final coding: the body runs until close.
    framing_ = BodyFraming::kUntilClose;
    keep_alive_ = false;
    state_ = State::kBodyUntilClose;
    return absl::OkStatus();
  }
  if (content_length_.has_value()) {
    if (*content_length_ > limits_.max_body_bytes) {
      return absl::ResourceExhaustedError(absl::StrCat("http: response body of ", *content_length_,
                                                       " bytes exceeds ", limits_.max_body_bytes));
    }
    framing_ = BodyFraming::kContentLength;
    remaining_ = *content_length_;
    state_ = remaining_ == 0 ? State::kDone : State::kBodyLength;
    return absl::OkStatus();
  }
  framing_ = BodyFraming::kUntilClose;
  keep_alive_ = false;
  state_ = State::kBodyUntilClose;
  return absl::OkStatus();
}

absl::StatusOr<size_t> ResponseParser::ParseSlow(absl::string_view all,
                                                 absl::FunctionRef<void(absl::string_view)> on_body,
                                                 size_t already) {
  if (state_ == State::kFailed) {
    return absl::FailedPreconditionError("http: the parser failed earlier; Reset() it first");
  }
  // `all` starts `already` bytes into the caller's input; count from there.
  const absl::string_view input = all;
  size_t used = 0;
  if (state_ == State::kHead) {
    if (input.empty()) return already;
    received_any_ = true;
    // Reject what is not HTTP at once instead of buffering up to the header limit.
    const size_t check = std::min<size_t>(input.size(), 5);
    if (std::memcmp(input.data(), "HTTP/", check) != 0) {
      return Fail(Malformed(absl::StrCat("not an HTTP response: ", Shown(input))));
    }
    absl::StatusOr<size_t> head_len = ParseHead(input);
    if (!head_len.ok()) return Fail(head_len.status());
    if (*head_len == 0) return already;
    if (absl::Status s = DecideFraming(); !s.ok()) return Fail(s);
    head_complete_ = true;
    used = *head_len;
  }
  while (used < input.size()) {
    switch (state_) {
      case State::kBodyLength: {
        const size_t n = static_cast<size_t>(std::min<uint64_t>(remaining_, input.size() - used));
        if (absl::Status s = CountBody(n); !s.ok()) return Fail(s);
        on_body(input.substr(used, n));
        used += n;
        remaining_ -= n;
        if (remaining_ == 0) state_ = State::kDone;
        break;
      }
      case State::kBodyUntilClose: {
        const size_t n = input.size() - used;
        if (absl::Status s = CountBody(n); !s.ok()) return Fail(s);
        on_body(input.substr(used));
        used += n;
        break;
      }
      case State::kChunkSize:
      case State::kChunkData:
      case State::kChunkDataEnd:
      case State::kTrailers: {
        absl::StatusOr<size_t> n = ParseChunked(input.substr(used), on_body);
        if (!n.ok()) return Fail(n.status());
        used += *n;
        if (*n == 0) return already + used;  // needs more input
        break;
      }
      case State::kDone:
        return already + used;  // what follows belongs to the next response
      case State::kHead:
      case State::kFailed:
        return already + used;
    }
  }
  return already + used;
}

absl::StatusOr<size_t> ResponseParser::ParseChunked(
    absl::string_view in, absl::FunctionRef<void(absl::string_view)> on_body) {
  const char* const begin = in.data();
  const char* p = begin;
  const char* const end = begin + in.size();
  while (p < end) {
    switch (state_) {
      case State::kChunkSize: {
        // Fast path: 1*HEXDIG CRLF. Extensions and whitespace take the general path.
        const char* q = p;
        uint64_t size = 0;
        int digits = 0;
        for (; q < end; ++q) {
          const int v = kHex.v[static_cast<unsigned char>(*q)];
          if (v < 0) break;
          if (++digits > limits_.max_chunk_size_digits) {
            return absl::ResourceExhaustedError(absl::StrCat(
                "http: chunk size has more than ", limits_.max_chunk_size_digits, " hex digits"));
          }
          size = size * 16 + static_cast<uint64_t>(v);
        }
        if (q < end && digits > 0 && *q == '\r' && q + 1 < end && q[1] == '\n') {
          p = q + 2;
        } else {
          absl::StatusOr<const char*> eol = FindLineEnd(p, end);
          if (!eol.ok()) return eol.status();
          if (*eol == nullptr) {
            if (static_cast<size_t>(end - p) > limits_.max_line_bytes) {
              return TooLong("chunk-size line", limits_.max_line_bytes);
            }
            return p - begin;  // wait for the whole line
          }
          const absl::string_view line(p, *eol - p);
          if (digits == 0) return Malformed(absl::StrCat("invalid chunk size ", Shown(line)));
          if (absl::Status s = CheckChunkExtensions(line, digits); !s.ok()) return s;
          p = *eol + 2;
        }
        if (size == 0) {
          state_ = State::kTrailers;
        } else {
          if (size > limits_.max_body_bytes - body_seen_) return BodyLimitExceeded();
          remaining_ = size;
          state_ = State::kChunkData;
        }
        break;
      }
      case State::kChunkData: {
        const size_t n = static_cast<size_t>(std::min<uint64_t>(remaining_, end - p));
        absl::Status s = CountBody(n);
        if (!s.ok()) return s;
        on_body(absl::string_view(p, n));
        p += n;
        remaining_ -= n;
        if (remaining_ == 0) {
          state_ = State::kChunkDataEnd;
          remaining_ = 2;  // the CRLF after the data
        }
        break;
      }
      case State::kChunkDataEnd: {
        if (remaining_ == 2 && end - p >= 2 && p[0] == '\r' && p[1] == '\n') {
          p += 2;
          state_ = State::kChunkSize;
          break;
        }
        const char expected = remaining_ == 2 ? '\r' : '\n';
        if (*p != expected) return Malformed("missing CRLF after chunk data");
        ++p;
        if (--remaining_ == 0) state_ = State::kChunkSize;
        break;
      }
      case State::kTrailers: {
        absl::StatusOr<const char*> eol = FindLineEnd(p, end);
        if (!eol.ok()) return eol.status();
        if (*eol == nullptr) {
          if (static_cast<size_t>(end - p) > limits_.max_line_bytes) {
            return TooLong("trailer line", limits_.max_line_bytes);
          }
          return p - begin;
        }
        if (*eol == p) {  // the empty line ends the message
          state_ = State::kDone;
          return (p + 2) - begin;
        }
        trailer_bytes_ += (*eol - p) + 2;
        if (trailer_bytes_ > limits_.max_trailer_bytes) {
          return TooLong("trailer section", limits_.max_trailer_bytes);
        }
        absl::StatusOr<FieldLine> f = ParseFieldLineAt(p, *eol + 2);
        if (!f.ok()) return f.status();
        trailers_.emplace_back(std::string(f->name, f->name_len),
                               std::string(f->value, f->value_len));
        p = *eol + 2;
        break;
      }
      default:
        return p - begin;
    }
  }
  return p - begin;
}

absl::Status ResponseParser::Finish() {
  switch (state_) {
    case State::kDone:
      return absl::OkStatus();
    case State::kBodyUntilClose:
      state_ = State::kDone;
      return absl::OkStatus();
    case State::kHead:
      return Fail(absl::UnavailableError(
          "http: connection closed before the response header was complete"));
    case State::kBodyLength:
      return Fail(
          absl::UnavailableError(absl::StrCat("http: connection closed after ", body_seen_, " of ",
                                              body_seen_ + remaining_, " body bytes")));
    case State::kFailed:
      return absl::FailedPreconditionError("http: the parser failed earlier; Reset() it first");
    default:
      return Fail(absl::UnavailableError(absl::StrCat(
          "http: connection closed inside the chunked body after ", body_seen_, " bytes")));
  }
}

}  // namespace corio::http
