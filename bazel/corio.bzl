"""corio's cc rule wrappers: one set of copts, benchmark smoke tests, fuzz targets."""

load("@rules_cc//cc:defs.bzl", "cc_binary", "cc_library", "cc_test")

# Warnings that catch real bugs; corio's own code builds clean with them.
CORIO_COPTS = [
    "-Wall",
    "-Wextra",
    "-Wno-unused-parameter",
    "-Wno-missing-field-initializers",
    "-Wnon-virtual-dtor",
    "-Wimplicit-fallthrough",
    "-Werror",
]

def corio_cc_library(name, copts = [], **kwargs):
    cc_library(name = name, copts = CORIO_COPTS + copts, **kwargs)

def corio_cc_test(name, copts = [], deps = [], size = "small", **kwargs):
    cc_test(
        name = name,
        copts = CORIO_COPTS + copts,
        deps = deps + ["@com_google_googletest//:gtest_main"],
        size = size,
        **kwargs
    )

def corio_cc_binary(name, copts = [], **kwargs):
    cc_binary(name = name, copts = CORIO_COPTS + copts, **kwargs)

def corio_cc_benchmark(name, copts = [], deps = [], smoke_args = [], tags = [], **kwargs):
    """A Google Benchmark binary `name`, plus `name_smoke`: a test that runs every benchmark once
    with a tiny time budget so the benchmark never rots. Measure with
    `bazel run -c opt //pkg:name`."""
    cc_binary(
        name = name,
        copts = CORIO_COPTS + copts,
        deps = deps + ["@com_github_google_benchmark//:benchmark_main"],
        tags = tags,
        testonly = True,
        **kwargs
    )
    native.sh_test(
        name = name + "_smoke",
        srcs = ["//bazel:benchmark_smoke.sh"],
        args = ["$(location :%s)" % name] + smoke_args,
        data = [":" + name],
        size = "medium",
        tags = tags,
    )

def corio_cc_fuzzer(name, srcs, deps = [], corpus = None, copts = [], **kwargs):
    """A libFuzzer target (`LLVMFuzzerTestOneInput`).

    With --config=fuzz `name` is a libFuzzer binary (clang, -fsanitize=fuzzer). Otherwise it is
    linked with a replay main, and `name_corpus_test` replays every file of `corpus` through it,
    so the fuzz target builds and runs in every `bazel test //...` (and under ASan).
    """
    cc_binary(
        name = name,
        srcs = srcs,
        copts = CORIO_COPTS + copts,
        linkopts = select({
            "//bazel:fuzzing": ["-fsanitize=fuzzer"],
            "//conditions:default": [],
        }),
        deps = deps + select({
            "//bazel:fuzzing": [],
            "//conditions:default": ["//bazel:fuzz_replay_main"],
        }),
        testonly = True,
        **kwargs
    )
    if corpus:
        native.filegroup(name = name + "_corpus", srcs = native.glob([corpus + "/**"]), testonly = True)
        native.sh_test(
            name = name + "_corpus_test",
            srcs = ["//bazel:fuzz_corpus_test.sh"],
            args = ["$(location :%s)" % name, "$(locations :%s_corpus)" % name],
            data = [":" + name, ":" + name + "_corpus"],
        )
