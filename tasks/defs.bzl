"""Tests of //tasks, run on both pollers like //loop's conformance suites."""

load("//bazel:corio.bzl", "corio_cc_test")

def corio_tasks_test(name, **kwargs):
    """`name` on the default poller (epoll) and `name`_uring on io_uring (CORIO_LOOP_BACKEND)."""
    corio_cc_test(name = name, **kwargs)
    corio_cc_test(
        name = name + "_uring",
        env = {"CORIO_LOOP_BACKEND": "io_uring"},
        **kwargs
    )
