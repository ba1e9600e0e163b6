"""Test harness for auditing fetch_server from outside, with stock gRPC Python (Debian's
python3-grpcio) and stubs generated at run time from net/fetch/*.proto by the system protoc.

Everything listens on loopback only. Run with Debian's /usr/bin/python3 (python3-grpcio lives
there), from the repository root, after `tools/bazel build //cmd:fetch_server //cmd:fetch`.
"""

import os
import re
import select
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
HERE = os.path.dirname(os.path.abspath(__file__))
SERVER_BIN = os.environ.get("FETCH_SERVER", os.path.join(ROOT, "bazel-bin/cmd/fetch_server"))
FETCH_BIN = os.environ.get("FETCH_BIN", os.path.join(ROOT, "bazel-bin/cmd/fetch"))

_GEN = tempfile.mkdtemp(prefix="svcaudit-stubs-")
subprocess.run(
    ["protoc", "-I", os.path.join(ROOT, "net/fetch"), "-I", HERE, "-I", "/usr/include",
     "--python_out=" + _GEN, "--grpc_out=" + _GEN,
     "--plugin=protoc-gen-grpc=/usr/bin/grpc_python_plugin",
     os.path.join(ROOT, "net/fetch/fetch.proto"), os.path.join(ROOT, "net/fetch/health.proto"),
     os.path.join(HERE, "reflection.proto")],
    check=True)
sys.path.insert(0, _GEN)

import grpc  # noqa: E402
import fetch_pb2 as pb  # noqa: E402
import fetch_pb2_grpc as pb_grpc  # noqa: E402
import health_pb2  # noqa: E402
import health_pb2_grpc  # noqa: E402
import reflection_pb2  # noqa: E402
import reflection_pb2_grpc  # noqa: E402

from google.protobuf import duration_pb2  # noqa: E402,F401


def wait_until(pred, timeout=10.0, what="condition"):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.01)
    raise AssertionError("timed out waiting for " + what)


class FetchServer:
    """A fetch_server process on 127.0.0.1 (or --host) port 0."""

    def __init__(self, *flags, host="127.0.0.1", env=None):
        args = [SERVER_BIN, "--host=" + host, "--port=0", "--threads=2"] + list(flags)
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, env=env)
        line = self.proc.stdout.readline()
        m = re.match(r"listening on (.*):(\d+)$", line.strip())
        if not m:
            err = self.proc.stderr.read()
            raise RuntimeError("fetch_server did not start: %r %r" % (line, err))
        self.port = int(m.group(2))
        self.target = "%s:%d" % ("[::1]" if ":" in host else host, self.port)

    def channel(self, creds=None, options=None):
        if creds is not None:
            return grpc.secure_channel(self.target, creds, options=options or [])
        return grpc.insecure_channel(self.target, options=options or [])

    def stub(self, **kw):
        return pb_grpc.FetchServiceStub(self.channel(**kw))

    def terminate(self, sig=signal.SIGTERM, timeout=30):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
            return "hung", self.proc.stderr.read()
        return rc, self.proc.stderr.read()

    def __enter__(self):
        return self

    def __exit__(self, *a):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


class Target:
    """A scriptable HTTP/1.1 server on 127.0.0.1 that counts its connections.

    Paths: /ok, /size/N (N bytes, Content-Length), /chunked/N (N bytes, chunked),
    /redirect?to=URL (302), /hang (never answers), /gate (answers when release() is called),
    /slow/MS; hostile peers: /badreason, /badheader, /badlocation (non-UTF-8 bytes), /garbage.
    """

    def __init__(self, host="127.0.0.1"):
        fam = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(fam, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, 0))
        self.sock.listen(512)
        self.port = self.sock.getsockname()[1]
        self.host = host
        self.base = "http://%s:%d" % ("[%s]" % host if ":" in host else host, self.port)
        self.lock = threading.Lock()
        self.open = 0
        self.accepted = 0
        self.requests = []
        self.waiting = 0  # requests parked in /hang or /gate
        self.gate = threading.Event()
        self.stop = False
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self, path):
        return self.base + path

    def release(self):
        self.gate.set()

    def _accept(self):
        while not self.stop:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.open += 1
                self.accepted += 1
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _wait_peer_close(self, c, until=None):
        """Blocks until the peer closes (True) or `until()` is true (False)."""
        while True:
            r, _, _ = select.select([c], [], [], 0.02)
            if r:
                try:
                    if not c.recv(65536):
                        return True
                except OSError:
                    return True
            if until is not None and until():
                return False

    def _serve(self, c):
        buf = b""
        try:
            while True:
                while b"\r\n\r\n" not in buf:
                    d = c.recv(65536)
                    if not d:
                        return
                    buf += d
                head, buf = buf.split(b"\r\n\r\n", 1)
                lines = head.decode("latin-1").split("\r\n")
                method, target, _ = lines[0].split(" ", 2)
                headers = {}
                for l in lines[1:]:
                    k, v = l.split(":", 1)
                    headers[k.strip().lower()] = v.strip()
                n = int(headers.get("content-length", "0"))
                while len(buf) < n:
                    d = c.recv(65536)
                    if not d:
                        return
                    buf += d
                body, buf = buf[:n], buf[n:]
                with self.lock:
                    self.requests.append((method, target, headers, body))
                if not self._respond(c, method, target):
                    return
        except OSError:
            pass
        finally:
            with self.lock:
                self.open -= 1
            c.close()

    def _send(self, c, status, body=b"", extra=()):
        h = ["HTTP/1.1 %d X" % status, "Content-Length: %d" % len(body)] + list(extra)
        c.sendall(("\r\n".join(h) + "\r\n\r\n").encode() + body)

    def _respond(self, c, method, target):
        u = urllib.parse.urlsplit(target)
        p = u.path
        if p == "/ok":
            self._send(c, 200, b"hello")
        elif p.startswith("/size/"):
            self._send(c, 200, b"x" * int(p[6:]))
        elif p.startswith("/chunked/"):
            n = int(p[9:])
            c.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
            step = 65536
            while n > 0:
                k = min(n, step)
                c.sendall(b"%x\r\n" % k + b"y" * k + b"\r\n")
                n -= k
            c.sendall(b"0\r\n\r\n")
        elif p == "/badreason":
            c.sendall(b"HTTP/1.1 200 \xff\xfe OK\r\nContent-Length: 2\r\n\r\nok")
        elif p == "/badheader":
            c.sendall(b"HTTP/1.1 200 OK\r\nX-Bin: a\xffb\r\nContent-Length: 2\r\n\r\nok")
        elif p == "/badlocation":
            c.sendall(b"HTTP/1.1 302 Found\r\nLocation: /ok?\xff\r\nContent-Length: 0\r\n\r\n")
        elif p.startswith("/raw/"):  # /raw/<hex>: those bytes as the whole response, then close
            c.sendall(bytes.fromhex(p[5:]))
            return False
        elif p == "/garbage":
            c.sendall(b"\xff\xfe garbage \x80\r\n\r\n")
            return False
        elif p == "/redirect":
            to = urllib.parse.parse_qs(u.query)["to"][0]
            self._send(c, 302, b"", ["Location: " + to])
        elif p.startswith("/slow/"):
            time.sleep(int(p[6:]) / 1000.0)
            self._send(c, 200, b"slow")
        elif p in ("/hang", "/gate"):
            with self.lock:
                self.waiting += 1
            try:
                until = self.gate.is_set if p == "/gate" else (lambda: self.stop)
                closed = self._wait_peer_close(c, until)
            finally:
                with self.lock:
                    self.waiting -= 1
            if closed:
                return False
            self._send(c, 200, b"released")
        else:
            self._send(c, 404, b"no")
        return True

    def close(self):
        self.stop = True
        self.sock.close()


def dur(seconds):
    d = duration_pb2.Duration()
    d.seconds = int(seconds)
    d.nanos = int(round((seconds - int(seconds)) * 1e9))
    return d


def health_check(channel, service="", timeout=5):
    return health_pb2_grpc.HealthStub(channel).Check(
        health_pb2.HealthCheckRequest(service=service), timeout=timeout)


def list_services(channel, timeout=5):
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)
    req = reflection_pb2.ServerReflectionRequest(list_services="")
    for resp in stub.ServerReflectionInfo(iter([req]), timeout=timeout):
        return sorted(s.name for s in resp.list_services_response.service)


def file_containing_symbol(channel, symbol, timeout=5):
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)
    req = reflection_pb2.ServerReflectionRequest(file_containing_symbol=symbol)
    for resp in stub.ServerReflectionInfo(iter([req]), timeout=timeout):
        return resp


class FakeDns:
    """A UDP DNS server on 127.0.0.1:53 (inside isolated.sh's namespaces: /etc/resolv.conf points
    there). records: name -> list of answers; each answer is a list of IP strings. Query k for a
    name gets answers[min(k, len-1)] (TTL 0), so [["10.9.9.9"], ["127.0.0.1"]] rebinds."""

    def __init__(self, records, port=53):
        self.records = {k.lower().rstrip("."): v for k, v in records.items()}
        self.queries = {}
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", port))
        self.lock = threading.Lock()
        threading.Thread(target=self._loop, daemon=True).start()

    def _loop(self):
        while True:
            try:
                q, addr = self.sock.recvfrom(4096)
            except OSError:
                return
            try:
                self.sock.sendto(self._answer(q), addr)
            except Exception:  # noqa: BLE001 - a malformed query gets no answer
                pass

    def _answer(self, q):
        qid = q[:2]
        i = 12
        labels = []
        while q[i] != 0:
            n = q[i]
            labels.append(q[i + 1:i + 1 + n].decode())
            i += 1 + n
        qname_end = i + 1
        qtype = int.from_bytes(q[qname_end:qname_end + 2], "big")
        question = q[12:qname_end + 4]
        name = ".".join(labels).lower()
        answers = []
        rcode = 3  # NXDOMAIN
        if name in self.records:
            rcode = 0
            with self.lock:
                k = self.queries.get((name, qtype), 0)
                self.queries[(name, qtype)] = k + 1
            seq = self.records[name]
            for ip in seq[min(k, len(seq) - 1)]:
                v6 = ":" in ip
                if (qtype == 28) != v6:
                    continue
                rdata = socket.inet_pton(socket.AF_INET6 if v6 else socket.AF_INET, ip)
                answers.append(b"\xc0\x0c" + qtype.to_bytes(2, "big") + b"\x00\x01" +
                               b"\x00\x00\x00\x00" + len(rdata).to_bytes(2, "big") + rdata)
        flags = (0x8180 | rcode).to_bytes(2, "big")
        return (qid + flags + b"\x00\x01" + len(answers).to_bytes(2, "big") + b"\x00\x00\x00\x00" +
                question + b"".join(answers))
