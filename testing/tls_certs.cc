#include "testing/tls_certs.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"

namespace corio::testing {
namespace {

using ::corio::tls::CertSpec;
using ::corio::tls::MakeCertificate;

absl::Status ErrnoError(absl::string_view what) {
  return absl::InternalError(absl::StrCat("tls certs: ", what, ": ", strerror(errno)));
}

std::string TempRoot() {
  for (const char* var : {"TEST_TMPDIR", "TMPDIR"}) {
    const char* v = getenv(var);
    if (v != nullptr && *v != '\0') return v;
  }
  return "/tmp";
}

std::vector<std::string> DefaultNames() { return {"localhost", "127.0.0.1", "::1"}; }

}  // namespace

absl::StatusOr<TlsCerts> TlsCerts::Create() { return Create(Options()); }

absl::StatusOr<TlsCerts> TlsCerts::Create(Options options) {
  TlsCerts certs;
  const absl::Time now = absl::Now();
  const absl::Time from = now - absl::Hours(1);
  const absl::Time until = from + options.validity;

  certs.names_ = DefaultNames();
  for (std::string& n : options.names) certs.names_.push_back(std::move(n));

  auto make = [](const CertSpec& spec, const CertAndKey* issuer, CertAndKey* out) -> absl::Status {
    absl::StatusOr<CertAndKey> made = MakeCertificate(spec, issuer);
    if (!made.ok()) return made.status();
    *out = *std::move(made);
    return absl::OkStatus();
  };
  CertAndKey unrelated_ca;
  const std::vector<std::string> local = DefaultNames();
  const absl::Time expired_from = now - absl::Hours(48), expired_until = now - absl::Hours(24);
  absl::Status s =
      make({"corio throwaway test CA", {}, from, until, /*is_ca=*/true}, nullptr, &certs.ca_);
  if (s.ok()) s = make({"localhost", certs.names_, from, until}, &certs.ca_, &certs.server_);
  if (s.ok()) s = make({"localhost", local, from, until}, nullptr, &certs.self_signed_);
  if (s.ok()) s = make({"corio unrelated test CA", {}, from, until, true}, nullptr, &unrelated_ca);
  if (s.ok()) s = make({"localhost", local, from, until}, &unrelated_ca, &certs.unrelated_);
  certs.unrelated_.cert_pem += unrelated_ca.cert_pem;  // served with its chain, as servers do
  if (s.ok()) {
    s = make({"localhost", local, expired_from, expired_until}, &certs.ca_, &certs.expired_);
  }
  if (s.ok()) {
    s = make({"wrong.example", {"wrong.example"}, from, until}, &certs.ca_, &certs.wrong_name_);
  }
  if (!s.ok()) return s;

  std::string tmpl = absl::StrCat(TempRoot(), "/corio-tls-certs-XXXXXX");
  if (mkdtemp(tmpl.data()) == nullptr) return ErrnoError(absl::StrCat("mkdtemp in ", TempRoot()));
  certs.dir_ = tmpl;
  absl::StatusOr<std::string> ca_file = certs.WriteFile("ca.pem", certs.ca_.cert_pem);
  if (!ca_file.ok()) return ca_file.status();
  certs.ca_file_ = *std::move(ca_file);
  absl::StatusOr<std::string> cert_file = certs.WriteFile("server.pem", certs.server_.cert_pem);
  if (!cert_file.ok()) return cert_file.status();
  certs.server_cert_file_ = *std::move(cert_file);
  absl::StatusOr<std::string> key_file = certs.WriteFile("server.key", certs.server_.key_pem);
  if (!key_file.ok()) return key_file.status();
  certs.server_key_file_ = *std::move(key_file);
  return certs;
}

absl::StatusOr<CertAndKey> TlsCerts::Issue(const std::vector<std::string>& names,
                                           absl::Time not_before, absl::Time not_after) const {
  return MakeCertificate({names.empty() ? std::string("corio test leaf") : names.front(), names,
                          not_before, not_after},
                         &ca_);
}

absl::StatusOr<std::string> TlsCerts::WriteFile(const std::string& name,
                                                const std::string& contents) const {
  if (dir_.empty()) return absl::FailedPreconditionError("tls certs: no directory");
  const std::string path = absl::StrCat(dir_, "/", name);
  FILE* f = fopen(path.c_str(), "w");
  if (f == nullptr) return ErrnoError(absl::StrCat("create ", path));
  const bool ok = fwrite(contents.data(), 1, contents.size(), f) == contents.size();
  if (fclose(f) != 0 || !ok) return ErrnoError(absl::StrCat("write ", path));
  return path;
}

TlsCerts::TlsCerts(TlsCerts&& other) noexcept { *this = std::move(other); }

TlsCerts& TlsCerts::operator=(TlsCerts&& other) noexcept {
  if (this != &other) {
    RemoveDir();
    dir_ = std::exchange(other.dir_, std::string());
    names_ = std::move(other.names_);
    ca_ = std::move(other.ca_);
    server_ = std::move(other.server_);
    self_signed_ = std::move(other.self_signed_);
    unrelated_ = std::move(other.unrelated_);
    expired_ = std::move(other.expired_);
    wrong_name_ = std::move(other.wrong_name_);
    ca_file_ = std::move(other.ca_file_);
    server_cert_file_ = std::move(other.server_cert_file_);
    server_key_file_ = std::move(other.server_key_file_);
  }
  return *this;
}

TlsCerts::~TlsCerts() { RemoveDir(); }

void TlsCerts::RemoveDir() {
  if (dir_.empty()) return;
  if (DIR* d = opendir(dir_.c_str())) {
    while (dirent* e = readdir(d)) {
      const std::string name = e->d_name;
      if (name != "." && name != "..") unlink(absl::StrCat(dir_, "/", name).c_str());
    }
    closedir(d);
  }
  rmdir(dir_.c_str());
  dir_.clear();
}

}  // namespace corio::testing
