"""C++ libraries from .proto files with the system's `protoc` and `grpc_cpp_plugin`.

Bazel 4.2.3's native proto rules want to build protoc from source (a download); corio builds
offline, so this macro runs the `protoc` and `grpc_cpp_plugin` targets that
`corio_dependencies()` maps to the system binaries (or, in a workspace that declares the real
`com_google_protobuf` / `com_github_grpc_grpc` repositories, the ones built from source) in a
genrule, and wraps the outputs in `cc_library` targets.

    load("@corio//bazel:proto.bzl", "corio_proto_library")

    corio_proto_library(
        name = "fetch_proto",          # must end in _proto
        srcs = ["fetch.proto"],
        deps = [],                     # other corio_proto_library targets it imports
        grpc = True,                   # the file declares services
    )

declares
  - `fetch_proto`: the .proto files (with those of `deps`), for other protos to import;
  - `fetch_cc_proto`: the C++ messages, `#include "net/fetch/fetch.pb.h"`;
  - `fetch_cc_grpc` (with `grpc = True`): the service classes and stubs,
    `#include "net/fetch/fetch.grpc.pb.h"`.

Imports are resolved from the repository root (`import "net/fetch/fetch.proto";`), in this
repository and in the repositories of `deps`; the well-known types (`google/protobuf/*.proto`)
come with protoc. The macro works from a downstream workspace too (`@corio//...` labels).
"""

load("@rules_cc//cc:defs.bzl", "cc_library")

_PROTOC = "@com_google_protobuf//:protoc"
_GRPC_PLUGIN = "@com_github_grpc_grpc//src/compiler:grpc_cpp_plugin"

def _repo_root(repo):
    """The execroot-relative directory of repository `repo` ("@name", or "@" / "" for main)."""
    if repo in ("", "@"):
        return "."
    return "external/" + repo.lstrip("@")

def _label_repo(label):
    if label.startswith("@"):
        return label.split("//")[0]
    return native.repository_name()

def _cc_name(name, suffix):
    if not name.endswith("_proto"):
        fail("corio_proto_library: name must end in _proto, got " + name)
    return name[:-len("_proto")] + suffix

def corio_proto_library(name, srcs, deps = [], grpc = False, visibility = None, testonly = False):
    """.proto files -> `name` (protos), `<base>_cc_proto` and, with `grpc`, `<base>_cc_grpc`."""
    pkg = native.package_name()
    here = _repo_root(native.repository_name())

    # Include roots: this repository and the repository of every dependency.
    roots = [here]
    for d in deps:
        r = _repo_root(_label_repo(d))
        if r not in roots:
            roots.append(r)
    includes = " ".join(["-I" + r for r in roots])

    native.filegroup(
        name = name,
        srcs = srcs + deps,
        visibility = visibility,
        testonly = testonly,
    )

    stems = []
    for src in srcs:
        if not src.endswith(".proto") or "/" in src or ":" in src:
            fail("corio_proto_library: srcs are .proto files in this package, got " + src)
        stems.append(src[:-len(".proto")])

    # protoc writes <out>/<package path>/<stem>.pb.h; <out> is the output root of this repository.
    out_root = "$(GENDIR)" if here == "." else "$(GENDIR)/" + here
    paths = " ".join([(pkg + "/" if pkg else "") + s for s in srcs])

    msg_outs = [s + ".pb.h" for s in stems] + [s + ".pb.cc" for s in stems]
    native.genrule(
        name = name + "_cc_gen",
        srcs = [name],
        outs = msg_outs,
        tools = [_PROTOC],
        cmd = "$(location {protoc}) {includes} --cpp_out={out} {paths}".format(
            protoc = _PROTOC,
            includes = includes,
            out = out_root,
            paths = _prefixed(here, paths),
        ),
        testonly = testonly,
        visibility = ["//visibility:private"],
    )
    cc_library(
        name = _cc_name(name, "_cc_proto"),
        srcs = [s + ".pb.cc" for s in stems],
        hdrs = [s + ".pb.h" for s in stems],
        deps = [_cc_name(_strip_label(d), "_cc_proto") for d in deps] + [
            "@com_google_protobuf//:protobuf",
        ],
        visibility = visibility,
        testonly = testonly,
    )

    if not grpc:
        return
    grpc_outs = [s + ".grpc.pb.h" for s in stems] + [s + ".grpc.pb.cc" for s in stems]
    native.genrule(
        name = name + "_grpc_gen",
        srcs = [name],
        outs = grpc_outs,
        tools = [_PROTOC, _GRPC_PLUGIN],
        cmd = ("$(location {protoc}) {includes} --plugin=protoc-gen-grpc=$(location {plugin}) " +
               "--grpc_out={out} {paths}").format(
            protoc = _PROTOC,
            plugin = _GRPC_PLUGIN,
            includes = includes,
            out = out_root,
            paths = _prefixed(here, paths),
        ),
        testonly = testonly,
        visibility = ["//visibility:private"],
    )
    cc_library(
        name = _cc_name(name, "_cc_grpc"),
        srcs = [s + ".grpc.pb.cc" for s in stems],
        hdrs = [s + ".grpc.pb.h" for s in stems],
        deps = [
            ":" + _cc_name(name, "_cc_proto"),
            "@com_github_grpc_grpc//:grpc++",
        ],
        visibility = visibility,
        testonly = testonly,
    )

def _prefixed(root, paths):
    if root == ".":
        return paths
    return " ".join([root + "/" + p for p in paths.split(" ")])

def _strip_label(label):
    """"//a/b:x_proto" -> the same label (kept); ":x_proto" -> ":x_proto"; "x_proto" -> ":x_proto"."""
    if ":" in label:
        return label
    if label.startswith("//") or label.startswith("@"):
        return label + ":" + label.split("/")[-1]
    return ":" + label
