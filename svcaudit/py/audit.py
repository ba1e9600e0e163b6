"""Black-box audit of fetch_server with a stock gRPC client (Debian's python3-grpcio).

Run from the repository root, inside isolated.sh's private network namespace (only loopback
exists there, so nothing this suite does can reach another host even if the server's policy
failed; /etc/resolv.conf there points at FakeDns on 127.0.0.1:53):

  apt-get install python3-grpcio      # Debian's; no PyPI
  tools/bazel build //cmd:fetch_server //cmd:fetch
  svcaudit/py/isolated.sh /usr/bin/python3 svcaudit/py/audit.py [-v] [TestClass.test_name]

Tests named test_deviation_* check contract lines the server misses today (see
svcaudit/README.md); the rest pass and guard what works.
"""

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (FETCH_BIN, FakeDns, FetchServer, Target, dur, file_containing_symbol,  # noqa: E402
                     grpc, health_check, health_pb2, health_pb2_grpc, list_services, pb,
                     pb_grpc, wait_until)

DNS = FakeDns({
    "private.test": [["10.9.9.9"]],
    "loop.test": [["127.0.0.1"]],
    "ula.test": [["fd00:9::9"]],
    "rebind.test": [["10.9.9.9"], ["127.0.0.1"]],
    "fetch.test": [["127.0.0.1", "127.0.0.2", "127.0.0.3"]],
})


def code_of(fn):
    try:
        fn()
        return "OK", ""
    except grpc.RpcError as e:
        return e.code().name, e.details()


class Health(unittest.TestCase):
    def test_check_serving(self):
        with FetchServer() as s:
            self.assertEqual(health_check(s.channel()).status, health_pb2.HealthCheckResponse.SERVING)

    def test_deviation_check_by_service_name(self):
        with FetchServer() as s:
            code, msg = code_of(lambda: health_check(s.channel(), "corio.fetch.v1.FetchService"))
            self.assertEqual(code, "OK", msg)

    def test_watch_sees_not_serving_on_sigterm(self):
        with FetchServer("--shutdown_grace=1s") as s:
            w = health_pb2_grpc.HealthStub(s.channel()).Watch(health_pb2.HealthCheckRequest(), timeout=20)
            self.assertEqual(next(w).status, health_pb2.HealthCheckResponse.SERVING)
            s.proc.send_signal(signal.SIGTERM)
            self.assertEqual(next(w).status, health_pb2.HealthCheckResponse.NOT_SERVING)

    def test_deviation_check_not_serving_while_draining(self):
        t = Target()
        with FetchServer("--allow_private_networks", "--shutdown_grace=20s") as s:
            ch = s.channel()
            f = pb_grpc.FetchServiceStub(ch).Fetch.future(pb.FetchRequest(url=t.url("/gate")), timeout=30)
            wait_until(lambda: t.waiting == 1)
            s.proc.send_signal(signal.SIGTERM)
            serving = health_pb2.HealthCheckResponse.SERVING
            while True:  # until the server stops answering SERVING
                try:
                    r = health_check(ch, timeout=2)
                    got = ("OK", health_pb2.HealthCheckResponse.ServingStatus.Name(r.status))
                    if r.status != serving:
                        break
                except grpc.RpcError as e:
                    got = (e.code().name, e.details())
                    break
            t.release()
            f.result()
            self.assertEqual(got, ("OK", "NOT_SERVING"), "Check while draining")


class Reflection(unittest.TestCase):
    def test_lists_services(self):
        with FetchServer() as s:
            self.assertEqual(list_services(s.channel()), [
                "corio.fetch.v1.FetchService", "grpc.health.v1.Health",
                "grpc.reflection.v1alpha.ServerReflection"])

    def test_describes_fetch_service(self):
        with FetchServer() as s:
            r = file_containing_symbol(s.channel(), "corio.fetch.v1.FetchService")
            self.assertEqual(r.WhichOneof("message_response"), "file_descriptor_response")

    def test_deviation_describes_health(self):
        with FetchServer() as s:
            r = file_containing_symbol(s.channel(), "grpc.health.v1.Health")
            self.assertEqual(r.WhichOneof("message_response"), "file_descriptor_response", str(r))


class Requests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.t = Target()
        cls.s = FetchServer("--allow_private_networks", "--max_body_bytes=1000")
        cls.stub = cls.s.stub()

    @classmethod
    def tearDownClass(cls):
        cls.s.terminate(sig=signal.SIGKILL)

    def fetch(self, **kw):
        return code_of(lambda: self.stub.Fetch(pb.FetchRequest(**kw), timeout=10))

    def test_ok_and_metadata(self):
        r, call = self.stub.Fetch.with_call(pb.FetchRequest(url=self.t.url("/ok")), timeout=10)
        self.assertEqual((r.status, r.body, r.body_size), (200, b"hello", 5))
        self.assertIn(("corio-fetch-server", self.s.target), [tuple(m) for m in call.initial_metadata()])

    def test_invalid_argument(self):
        u = self.t.url("/ok")
        for kw in [dict(url=""), dict(url="ftp://x/"), dict(url="/rel"), dict(url="http://a b/"),
                   dict(url="http://127.0.0.1:99999/"), dict(url=u, method="get"),
                   dict(url=u, method="FOO"), dict(url=u, method="GE T"),
                   dict(url=u, timeout=dur(-1)), dict(url=u, max_body_bytes=-1),
                   dict(url=u, max_redirects=-1), dict(url=u, body_mode=7),
                   dict(url=u, headers=[pb.Header(name="a b", value=b"x")]),
                   dict(url=u, headers=[pb.Header(name="X", value=b"a\r\nY: z")]),
                   dict(url=u, headers=[pb.Header(name="X", value=b"a\0b")]),
                   dict(url=u, headers=[pb.Header(name="Host", value=b"evil")])]:
            with self.subTest(**{k: str(v) for k, v in kw.items()}):
                self.assertEqual(self.fetch(**kw)[0], "INVALID_ARGUMENT")

    def test_size_cap(self):
        self.assertEqual(self.fetch(url=self.t.url("/size/1000"))[0], "OK")
        self.assertEqual(self.fetch(url=self.t.url("/size/1001"))[0], "RESOURCE_EXHAUSTED")
        self.assertEqual(self.fetch(url=self.t.url("/chunked/1001"))[0], "RESOURCE_EXHAUSTED")
        self.assertEqual(self.fetch(url=self.t.url("/size/11"), max_body_bytes=10)[0], "RESOURCE_EXHAUSTED")

    def test_fetch_many_item_errors(self):
        reqs = [pb.FetchRequest(url=self.t.url("/ok")), pb.FetchRequest(url="bogus"),
                pb.FetchRequest(url=self.t.url("/slow/200")), pb.FetchRequest(url="http://224.0.0.1:1/"),
                pb.FetchRequest(url=self.t.url("/ok"), method="BAD")]
        got = {r.index: r for r in self.stub.FetchMany(pb.FetchManyRequest(requests=reqs), timeout=10)}
        self.assertEqual(sorted(got), [0, 1, 2, 3, 4])
        self.assertEqual([got[i].error.code for i in range(5)], [0, 3, 0, 7, 3])

    def test_fetch_many_call_errors(self):
        for req in [pb.FetchManyRequest(),
                    pb.FetchManyRequest(requests=[pb.FetchRequest(url="x")], max_concurrency=-1)]:
            self.assertEqual(code_of(lambda: list(self.stub.FetchMany(req, timeout=5)))[0], "INVALID_ARGUMENT")

    def test_deviation_non_utf8_reason_phrase(self):
        self.assertEqual(self.fetch(url=self.t.url("/badreason"))[0], "OK")
        reqs = [pb.FetchRequest(url=self.t.url(p)) for p in ["/ok", "/badreason", "/ok"]]
        code, msg = code_of(lambda: list(self.stub.FetchMany(pb.FetchManyRequest(requests=reqs), timeout=10)))
        self.assertEqual(code, "OK", msg)


class Bounds(unittest.TestCase):
    def test_exact_bound_and_deadlines_and_hangups(self):
        t = Target()
        with FetchServer("--allow_private_networks", "--max_concurrent_fetches=4") as s:
            st = s.stub()
            futs = [st.Fetch.future(pb.FetchRequest(url=t.url("/gate")), timeout=30) for _ in range(4)]
            wait_until(lambda: t.waiting == 4)
            self.assertEqual(code_of(lambda: st.Fetch(pb.FetchRequest(url=t.url("/ok")), timeout=5))[0],
                             "RESOURCE_EXHAUSTED")
            t.release()
            self.assertEqual([f.result().status for f in futs], [200] * 4)
            t.gate.clear()
            # Deadline: DEADLINE_EXCEEDED and the upstream connection closed.
            self.assertEqual(code_of(lambda: st.Fetch(pb.FetchRequest(url=t.url("/hang")), timeout=0.5))[0],
                             "DEADLINE_EXCEEDED")
            wait_until(lambda: t.waiting == 0, what="deadline closes the upstream connection")
            # A client cancelling mid-stream, then one killed mid-stream.
            it = st.FetchMany(pb.FetchManyRequest(requests=[pb.FetchRequest(url=t.url("/ok"))] +
                                                  [pb.FetchRequest(url=t.url("/hang"))] * 3), timeout=30)
            next(it)
            wait_until(lambda: t.waiting == 3)
            it.cancel()
            wait_until(lambda: t.waiting == 0, what="cancel closes upstream connections")
            code = ("import sys; sys.path.insert(0, %r)\nfrom harness import *\n"
                    "st = pb_grpc.FetchServiceStub(grpc.insecure_channel(sys.argv[1]))\n"
                    "it = st.FetchMany(pb.FetchManyRequest(requests=[pb.FetchRequest(url=sys.argv[2])]*3), timeout=60)\n"
                    "print('go', flush=True)\nfor r in it: pass\n") % os.path.dirname(os.path.abspath(__file__))
            p = subprocess.Popen(["/usr/bin/python3", "-c", code, s.target, t.url("/hang")],
                                 stdout=subprocess.PIPE, text=True)
            p.stdout.readline()
            wait_until(lambda: t.waiting == 3)
            p.kill()
            p.wait()
            wait_until(lambda: t.waiting == 0, timeout=15, what="hang-up closes upstream connections")
            futs = [st.Fetch.future(pb.FetchRequest(url=t.url("/gate")), timeout=30) for _ in range(4)]
            wait_until(lambda: t.waiting == 4, what="every slot back")
            t.release()
            [f.result() for f in futs]

    def test_deviation_stalled_reader_holds_slots(self):
        t = Target()
        with FetchServer("--allow_private_networks", "--max_concurrent_fetches=4") as s:
            it = s.stub().FetchMany(pb.FetchManyRequest(
                requests=[pb.FetchRequest(url=t.url("/size/2000000"))] * 100, max_concurrency=4), timeout=60)
            next(it)
            last = -1
            while len(t.requests) != last:  # until the server stops fetching (its writes are stuck)
                last = len(t.requests)
                time.sleep(1.0)
            code, msg = code_of(lambda: s.stub().Fetch(pb.FetchRequest(url=t.url("/ok")), timeout=5))
            it.cancel()
            self.assertEqual(code, "OK", "an idle server refused: " + msg)


class Policy(unittest.TestCase):
    REFUSED = ["http://127.0.0.1/", "http://localhost/", "http://169.254.169.254/", "http://[::1]/",
               "http://[::ffff:127.0.0.1]/", "http://[::ffff:a9fe:a9fe]/", "http://[64:ff9b::7f00:1]/",
               "http://[2002:7f00:1::]/", "http://[::127.0.0.1]/", "http://10.0.0.1/", "http://172.16.0.1/",
               "http://192.168.1.1/", "http://[fd00::1]/", "http://100.64.0.1/", "http://224.0.0.1/",
               "http://240.0.0.1/", "http://192.0.2.1/", "http://[fe80::1]/", "http://0.1.2.3/",
               "http://[::]/", "http://255.255.255.255/", "http://[fec0::1]/", "http://loop.test/",
               "http://private.test/", "http://ula.test/"]
    NUMERIC_SPELLINGS = ["http://2130706433/", "http://0x7f.1/", "http://0177.0.0.1/", "http://127.1/",
                         "http://017700000001/", "http://0/"]

    def test_refused_by_default(self):
        with FetchServer() as s:
            st = s.stub()
            for url in self.REFUSED:
                with self.subTest(url=url):
                    code, msg = code_of(lambda: st.Fetch(pb.FetchRequest(url=url), timeout=10))
                    self.assertEqual(code, "PERMISSION_DENIED", msg)
                    self.assertRegex(msg, r"address \S+ refused by policy")
            for url in self.NUMERIC_SPELLINGS:  # never fetched: malformed here
                with self.subTest(url=url):
                    self.assertEqual(code_of(lambda: st.Fetch(pb.FetchRequest(url=url), timeout=10))[0],
                                     "INVALID_ARGUMENT")

    def test_allow_list_redirects_and_rebinding(self):
        t = Target("0.0.0.0")
        with FetchServer("--allow_cidr=10.9.9.9/32") as s:
            st = s.stub()
            f = lambda url, **kw: code_of(lambda: st.Fetch(pb.FetchRequest(url=url, **kw), timeout=10))  # noqa: E731
            base = "http://10.9.9.9:%d" % t.port
            self.assertEqual(f(base + "/ok")[0], "OK")
            self.assertEqual(f("http://192.168.77.1:%d/ok" % t.port)[0], "PERMISSION_DENIED")
            for to in ["http://127.0.0.1:%d/ok" % t.port, "http://127.0.0.2:%d/ok" % t.port,
                       "http://169.254.169.254/latest/", "http://loop.test:%d/ok" % t.port,
                       "http://[::ffff:127.0.0.1]:%d/ok" % t.port]:
                with self.subTest(redirect=to):
                    code, msg = f(base + "/redirect?to=" + to)
                    self.assertEqual(code, "PERMISSION_DENIED", msg)
            close = [pb.Header(name="Connection", value=b"close")]
            self.assertEqual(f("http://rebind.test:%d/ok" % t.port, headers=close)[0], "OK")
            code, msg = f("http://rebind.test:%d/ok" % t.port, headers=close)
            self.assertEqual(code, "PERMISSION_DENIED", msg)
            self.assertIn("127.0.0.1", msg)

    def test_allow_private_and_deny(self):
        t = Target("0.0.0.0")
        with FetchServer("--allow_private_networks", "--deny_cidr=10.9.9.9/32") as s:
            st = s.stub()
            f = lambda url: code_of(lambda: st.Fetch(pb.FetchRequest(url=url), timeout=10))[0]  # noqa: E731
            self.assertEqual(f("http://192.168.77.1:%d/ok" % t.port), "OK")
            self.assertEqual(f("http://10.9.9.9:%d/ok" % t.port), "PERMISSION_DENIED")
            self.assertEqual(f("http://224.0.0.1:%d/ok" % t.port), "PERMISSION_DENIED")
            self.assertEqual(f("http://0.0.0.0:%d/ok" % t.port), "PERMISSION_DENIED")


def make_certs():
    d = tempfile.mkdtemp()

    def sh(c):
        subprocess.run(c, shell=True, check=True, cwd=d, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    sh("openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 1 -subj /CN=audit-ca")
    sh("openssl req -newkey rsa:2048 -nodes -keyout srv.key -out srv.csr -subj /CN=localhost")
    with open(d + "/ext", "w") as f:
        f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    sh("openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out srv.pem -days 1 -extfile ext")
    return d


class Security(unittest.TestCase):
    def test_tls_and_token(self):
        d = make_certs()
        t = Target()
        with FetchServer("--allow_private_networks", "--tls_cert=%s/srv.pem" % d,
                         "--tls_key=%s/srv.key" % d, "--bearer_token=s3cret") as s:
            with open(d + "/ca.pem", "rb") as f:
                ch = s.channel(creds=grpc.ssl_channel_credentials(root_certificates=f.read()))
            self.assertEqual(health_check(ch).status, health_pb2.HealthCheckResponse.SERVING)
            st = pb_grpc.FetchServiceStub(ch)
            req = pb.FetchRequest(url=t.url("/ok"))
            for md, want in [(None, "UNAUTHENTICATED"), ([("authorization", "Bearer nope")], "UNAUTHENTICATED"),
                             ([("authorization", "Bearer s3cret ")], "UNAUTHENTICATED"),
                             ([("authorization", "Bearer s3cret")], "OK")]:
                with self.subTest(md=md):
                    self.assertEqual(code_of(lambda: st.Fetch(req, timeout=5, metadata=md))[0], want)
                    self.assertEqual(code_of(lambda: list(st.FetchMany(pb.FetchManyRequest(requests=[req]),
                                                                       timeout=5, metadata=md)))[0], want)
            self.assertEqual(code_of(lambda: health_check(s.channel(), timeout=2))[0], "UNAVAILABLE")

    def test_deviation_bearer_scheme_case_insensitive(self):
        t = Target()
        with FetchServer("--allow_private_networks", "--bearer_token=s3cret") as s:
            code, msg = code_of(lambda: s.stub().Fetch(pb.FetchRequest(url=t.url("/ok")), timeout=5,
                                                        metadata=[("authorization", "bearer s3cret")]))
            self.assertEqual(code, "OK", msg)


class Lifecycle(unittest.TestCase):
    def test_sigterm_drains_then_cancels(self):
        t = Target()
        with FetchServer("--allow_private_networks", "--shutdown_grace=1s") as s:
            st = s.stub()
            f = st.Fetch.future(pb.FetchRequest(url=t.url("/hang")), timeout=30)
            wait_until(lambda: t.waiting == 1)
            s.proc.send_signal(signal.SIGTERM)
            # Not accepting: calls racing the shutdown are CANCELLED, later ones UNAVAILABLE.
            self.assertIn(code_of(lambda: s.stub().Fetch(pb.FetchRequest(url=t.url("/ok")), timeout=3))[0],
                          ("UNAVAILABLE", "CANCELLED"))
            self.assertIn(code_of(f.result)[0], ("UNAVAILABLE", "CANCELLED"))
            rc, _ = s.terminate(sig=0)
            self.assertEqual(rc, 0)
            wait_until(lambda: t.waiting == 0, what="the cancelled fetch's connection closed")

    def test_usage_errors_exit_2(self):
        for flags in [["--port=abc"], ["--bogus"], ["positional"], ["--threads=-1"],
                      ["--max_concurrent_fetches=0"], ["--allow_cidr=10.0.0.1/8"], ["--shutdown_grace=-1s"]]:
            with self.subTest(flags=flags):
                p = subprocess.run([os.environ.get("FETCH_SERVER", "bazel-bin/cmd/fetch_server"),
                                    "--host=127.0.0.1", "--port=0"] + flags, capture_output=True, text=True, timeout=10)
                self.assertEqual(p.returncode, 2, p.stderr)

    def test_deviation_flag_mistakes_exit_2_with_one_line(self):
        for flags in [["--tls_cert=/nonexistent"], ["--host=not-an-address"]]:
            with self.subTest(flags=flags):
                p = subprocess.run([os.environ.get("FETCH_SERVER", "bazel-bin/cmd/fetch_server"),
                                    "--host=127.0.0.1", "--port=0"] + flags, capture_output=True, text=True, timeout=10)
                self.assertEqual((p.returncode, len(p.stderr.strip().splitlines())), (2, 1), p.stderr)


class FetchCommand(unittest.TestCase):
    """`fetch --server` against a local run: same outputs (time columns aside) and exit codes."""

    def run_fetch(self, extra, inp, fmt):
        p = subprocess.run([FETCH_BIN, "--input=" + inp, "--timeout=1s", "--max_body_bytes=1000",
                            "--max_redirects=1", "--output=" + fmt] + extra,
                           capture_output=True, text=True, timeout=120)
        if fmt == "jsonl":
            objs = [json.loads(line) for line in p.stdout.splitlines()]
            for o in objs:
                o.pop("elapsed_ms", None)
            return p.returncode, sorted(json.dumps(o, sort_keys=True) for o in objs)
        return p.returncode, p.stdout

    def test_parity_over_three_replicas(self):
        t = Target("0.0.0.0")
        b = "http://127.0.0.1:%d" % t.port
        urls = [b + "/ok", b + "/size/100", b + "/redirect?to=/ok", b + "/nope", b + "/hang",
                "http://127.0.0.1:1/", "http://nosuch.test/", b + "/size/2000",
                b + "/redirect?to=/redirect%3Fto%3D/ok"]
        inp = tempfile.NamedTemporaryFile("w", delete=False, suffix=".txt")
        inp.write("\n".join(urls) + "\n")
        inp.close()
        s1 = FetchServer("--allow_private_networks", host="127.0.0.1")
        servers = [s1] + [FetchServer("--allow_private_networks", "--port=%d" % s1.port, host="127.0.0.%d" % i)
                          for i in (2, 3)]
        try:
            local = self.run_fetch([], inp.name, "jsonl")
            for target in ["ipv4:127.0.0.1:%d,127.0.0.2:%d,127.0.0.3:%d" % ((s1.port,) * 3),
                           "dns:///fetch.test:%d" % s1.port]:
                with self.subTest(target=target):
                    remote = self.run_fetch(["--server=" + target], inp.name, "jsonl")
                    self.assertEqual(remote[0], local[0])
                    self.assertEqual("\n".join(remote[1]), "\n".join(local[1]))
        finally:
            for s in servers:
                s.terminate(sig=signal.SIGKILL)

    def test_deviation_invalid_url_message_parity(self):
        inp = tempfile.NamedTemporaryFile("w", delete=False, suffix=".txt")
        inp.write("ftp://x/\nnot a url\n")
        inp.close()
        with FetchServer() as s:
            self.assertEqual(self.run_fetch(["--server=" + s.target], inp.name, "jsonl"),
                             self.run_fetch([], inp.name, "jsonl"))


if __name__ == "__main__":
    if os.environ.get("SVCAUDIT_ISOLATED") != "1":
        sys.exit("run me through svcaudit/py/isolated.sh (a private network namespace)")
    result = unittest.main(exit=False, verbosity=2 if "-v" in sys.argv else 1).result
    failed = len(result.failures) + len(result.errors)
    print("%d passed, %d failed" % (result.testsRun - failed - len(result.skipped), failed))
    sys.exit(1 if failed else 0)
