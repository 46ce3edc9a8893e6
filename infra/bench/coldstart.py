#!/usr/bin/env python3
"""Cold-start benchmark of the Lambda bootstraps (issue 14): each release binary
is started against a fake Lambda Runtime API and a zero-latency stub of the AWS
endpoints, both on loopback, interleaved with two hello-world `lambda_runtime`
binaries built with the same profile: `bench-hello` on `#[tokio::main]` as
lambda_runtime's examples write it (the issue's yardstick), and
`bench-hello-current-thread` on the functions' current-thread runtime. Python
standard library only.

Per binary and per run:
  init          spawn (posix_spawn) -> first GET /2018-06-01/runtime/invocation/next
  first invoke  sample event of events/ written to that request -> POST .../response
  peak RSS      VmHWM of /proc/<pid>/status once the function asks for its
                second event (the first invoke is over)
Sizes: the bootstrap as built, and a zip of it named `bootstrap` (deflate, as
`sam build` packs it). Medians over the runs; ratios to the hello-world
(`bench-hello`), whose runs are interleaved with the functions': each function
run beside one run of each hello-world, the three in a shuffled order, the
functions in a shuffled order each round.

Usage: coldstart.py --bin-dir TARGET/release [--runs 21] [--only a,b] [--json out.json]
"""

import argparse
import io
import json
import os
import random
import re
import signal
import socket
import statistics
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HELLO = "bench-hello"
HELLO_CT = "bench-hello-current-thread"
HELLOS = (HELLO, HELLO_CT)
LABELS = {HELLO: "hello-world", HELLO_CT: "hello-world, current thread"}
REGION = "eu-west-3"

# Dummy values for the variables template.yaml sets (Globals and each function).
DUMMY_ENV = {
    "TABLE_NAME": "agenda",
    "RUST_LOG": "info",
    "EVENT_BUS_NAME": "communications",
    "SENDER_EMAIL": "rdv@example.org",
    "SES_CONFIGURATION_SET": "",
    "SMS_SENDER_ID": "",
    "SMS_RATE_PER_SECOND": "10",
    "PUBLIC_BASE_URL": "https://rdv.example.org",
    "DATA_RETENTION_DAYS": "365",
}


# ---------------------------------------------------------------- template.yaml

def template_functions(template: Path):
    """{binary: {variable: dummy value}} from the Globals and each function's
    Environment.Variables (a line-based read: the template's CloudFormation
    tags are beyond the stdlib, and only names are needed)."""
    lines = template.read_text().splitlines()

    def variables_after(i, indent):
        names = []
        for line in lines[i + 1:]:
            if not line.strip() or line.strip().startswith("#"):
                continue
            ind = len(line) - len(line.lstrip())
            if ind <= indent:
                break
            m = re.match(r"\s*([A-Z_][A-Z0-9_]*):", line)
            if m and ind == indent + 2:
                names.append(m.group(1))
        return names

    globals_vars, functions, current = [], {}, None
    for i, line in enumerate(lines):
        m = re.match(r"^(\s*)Variables:\s*$", line)
        if m:
            names = variables_after(i, len(m.group(1)))
            if current is None:
                globals_vars = names
            else:
                functions[current][1].extend(names)
        m = re.match(r"^  ([A-Za-z0-9]+):\s*$", line)
        if m:
            current = None
        m = re.match(r"^\s+Binary:\s*(\S+)\s*$", line)
        if m:
            current = m.group(1)
            functions[current] = (current, [])
    out = {}
    for binary, (_, names) in functions.items():
        env = {}
        for name in globals_vars + names:
            if name not in DUMMY_ENV:
                sys.exit(f"coldstart: {name} (template.yaml, {binary}) has no dummy value in {__file__}")
            env[name] = DUMMY_ENV[name]
        out[binary] = env
    return out


def sample_event(binary: str) -> bytes:
    samples = sorted((ROOT / "events").glob(f"{binary}-*.json"))
    if not samples:
        sys.exit(f"coldstart: no events/{binary}-*.json")
    return samples[0].read_bytes()


# ---------------------------------------------------------- minimal HTTP/1.1

def read_request(conn, buf):
    """One request from a keep-alive connection: (method, path, headers, body,
    t_head_ns, rest). t_head_ns: when the request head was complete."""
    while b"\r\n\r\n" not in buf:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        buf += chunk
    t_head = time.perf_counter_ns()
    head, _, buf = buf.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, path, _ = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    if "content-length" in headers:
        n = int(headers["content-length"])
        while len(buf) < n:
            chunk = conn.recv(65536)
            if not chunk:
                return None
            buf += chunk
        body, buf = buf[:n], buf[n:]
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        body = b""
        while True:
            while b"\r\n" not in buf:
                buf += conn.recv(65536)
            size_line, _, buf = buf.partition(b"\r\n")
            size = int(size_line.split(b";")[0], 16)
            while len(buf) < size + 2:
                buf += conn.recv(65536)
            body += buf[:size]
            buf = buf[size + 2:]
            if size == 0:
                break
    else:
        body = b""
    return method, path, headers, body, t_head, buf


def respond(conn, status, body=b"", headers=()):
    reason = {200: "OK", 202: "Accepted", 400: "Bad Request", 404: "Not Found"}.get(status, "OK")
    head = [f"HTTP/1.1 {status} {reason}", f"Content-Length: {len(body)}"]
    head += [f"{k}: {v}" for k, v in headers]
    conn.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + body)


class Server:
    """A loopback listener; one thread per connection (keep-alive)."""

    def __init__(self, handler):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.handler = handler
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            conn, _ = self.sock.accept()
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        buf = b""
        try:
            while True:
                req = read_request(conn, buf)
                if req is None:
                    return
                method, path, headers, body, t_head, buf = req
                if not self.handler(conn, method, path, headers, body, t_head):
                    return
        except OSError:
            return
        finally:
            conn.close()


# ------------------------------------------------------- fake Runtime API

class Run:
    """The state of one bootstrap run, written by the server threads."""

    def __init__(self, event: bytes):
        self.event = event
        self.t_next1 = self.t_handed = self.t_done = None
        self.outcome = None  # ("response" | "error" | "init/error", body)
        self.done = threading.Event()
        self.second_next = threading.Event()
        self.nexts = 0
        self.pid = None
        self.cpu_init_ns = self.cpu_done_ns = None
        self.aws_calls = []


class RuntimeApi:
    def __init__(self):
        self.run = None
        self.server = Server(self.handle)

    def handle(self, conn, method, path, headers, body, t_head):
        run = self.run
        base = "/2018-06-01/runtime"
        if method == "GET" and path == f"{base}/invocation/next":
            run.nexts += 1
            if run.nexts == 1:
                run.t_next1 = t_head
                run.cpu_init_ns = cpu_ns(run.pid)
                deadline = int(time.time() * 1000) + 15_000
                # Stamped before the write: the answer can come back on another
                # connection (another thread) before sendall returns.
                run.t_handed = time.perf_counter_ns()
                respond(conn, 200, run.event, [
                    ("Content-Type", "application/json"),
                    ("Lambda-Runtime-Aws-Request-Id", "bench-request-1"),
                    ("Lambda-Runtime-Deadline-Ms", str(deadline)),
                    ("Lambda-Runtime-Invoked-Function-Arn",
                     f"arn:aws:lambda:{REGION}:123456789012:function:bench"),
                    ("Lambda-Runtime-Trace-Id",
                     "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0"),
                ])
                return True
            # The next event never comes: the connection stays open (a closed
            # one would make the runtime exit) until the harness, having read
            # VmHWM, kills the process.
            run.second_next.set()
            while conn.recv(65536):
                pass
            return False
        if method == "POST" and path.startswith(f"{base}/invocation/"):
            kind = "response" if path.endswith("/response") else "error"
            run.t_done = t_head
            run.cpu_done_ns = cpu_ns(run.pid)
            run.outcome = (kind, body)
            respond(conn, 202, b'{"status":"OK"}', [("Content-Type", "application/json")])
            run.done.set()
            return True
        if method == "POST" and path == f"{base}/init/error":
            run.outcome = ("init/error", body)
            respond(conn, 202, b'{"status":"OK"}', [("Content-Type", "application/json")])
            run.done.set()
            return True
        respond(conn, 404)
        return True


# ------------------------------------------------------------ AWS stub

DDB_ANSWERS = {
    "GetItem": {},
    "PutItem": {},
    "UpdateItem": {},
    "DeleteItem": {},
    "Query": {"Items": [], "Count": 0, "ScannedCount": 0},
    "Scan": {"Items": [], "Count": 0, "ScannedCount": 0},
    "BatchGetItem": {"Responses": {}, "UnprocessedKeys": {}},
    "BatchWriteItem": {"UnprocessedItems": {}},
    "TransactWriteItems": {},
    "TransactGetItems": {"Responses": []},
}

SNS_PUBLISH_XML = (
    b'<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/">'
    b"<PublishResult><MessageId>bench-sns-1</MessageId></PublishResult>"
    b"<ResponseMetadata><RequestId>bench-1</RequestId></ResponseMetadata></PublishResponse>"
)


class AwsStub:
    """DynamoDB, EventBridge (JSON 1.x, by X-Amz-Target), SES v2 (REST, by
    path) and SNS (query or JSON): the smallest valid answer, at once."""

    def __init__(self, runtime: RuntimeApi):
        self.runtime = runtime
        self.server = Server(self.handle)

    def handle(self, conn, method, path, headers, body, t_head):
        target = headers.get("x-amz-target", "")
        run = self.runtime.run
        json_1_0 = [("Content-Type", "application/x-amz-json-1.0"), ("x-amzn-RequestId", "bench-1")]
        if target.startswith("DynamoDB_20120810."):
            op = target.split(".", 1)[1]
            run.aws_calls.append(f"dynamodb:{op}")
            respond(conn, 200, json.dumps(DDB_ANSWERS.get(op, {})).encode(), json_1_0)
        elif target == "AWSEvents.PutEvents":
            run.aws_calls.append("events:PutEvents")
            n = len(json.loads(body or b"{}").get("Entries", []))
            answer = {"FailedEntryCount": 0, "Entries": [{"EventId": f"bench-{i}"} for i in range(n)]}
            respond(conn, 200, json.dumps(answer).encode(),
                    [("Content-Type", "application/x-amz-json-1.1"), ("x-amzn-RequestId", "bench-1")])
        elif target.startswith("AmazonSNS."):
            run.aws_calls.append(f"sns:{target.split('.', 1)[1]}")
            respond(conn, 200, b'{"MessageId":"bench-sns-1"}', json_1_0)
        elif path.startswith("/v2/email/outbound-emails"):
            run.aws_calls.append("ses:SendEmail")
            respond(conn, 200, b'{"MessageId":"bench-ses-1"}',
                    [("Content-Type", "application/json"), ("x-amzn-RequestId", "bench-1")])
        elif b"Action=Publish" in body:
            run.aws_calls.append("sns:Publish")
            respond(conn, 200, SNS_PUBLISH_XML, [("Content-Type", "text/xml"), ("x-amzn-RequestId", "bench-1")])
        else:
            run.aws_calls.append(f"unknown:{method} {path} {target}")
            respond(conn, 400, b'{"__type":"UnknownOperationException"}', json_1_0)
        return True


# ------------------------------------------------------------- one run

def cpu_ns(pid):
    """CPU time of all the process's threads so far (ns, /proc/<pid>/task/*/schedstat):
    unlike the wall-clock times, it does not grow while the process waits for
    a core that others' builds hold."""
    if pid is None:
        return None
    total = 0
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/schedstat") as f:
                total += int(f.read().split()[0])
    except OSError:
        return None
    return total


def memory_kb(pid):
    """VmHWM (peak resident set), and the anonymous and file-backed parts of
    the resident set now, from /proc/<pid>/status."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmHWM", "RssAnon", "RssFile"):
            fields[name] = int(value.split()[0])
    return fields


def run_once(runtime, aws, binary_path, env, event, log_path, timeout=10.0):
    run = Run(event)
    runtime.run = run
    fa = [
        (os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0),
        (os.POSIX_SPAWN_OPEN, 1, str(log_path), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644),
        (os.POSIX_SPAWN_DUP2, 1, 2),
    ]
    t0 = time.perf_counter_ns()
    pid = os.posix_spawn(str(binary_path), [str(binary_path)], env, file_actions=fa)
    run.pid = pid
    try:
        if not run.done.wait(timeout):
            raise RuntimeError(f"no answer within {timeout} s (log: {log_path})")
        kind, body = run.outcome
        if kind != "response":
            raise RuntimeError(f"{kind}: {body[:500]!r} (log: {log_path})")
        if not run.second_next.wait(timeout):
            raise RuntimeError(f"no second /next (log: {log_path})")
        memory = memory_kb(pid)
        rss = memory.get("VmHWM")
        if rss is None:
            raise RuntimeError(f"no VmHWM: the process ended (log: {log_path})")
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    return {
        "init_ms": (run.t_next1 - t0) / 1e6,
        "invoke_ms": (run.t_done - run.t_handed) / 1e6,
        "rss_kb": rss,
        "init_cpu_ms": run.cpu_init_ns / 1e6 if run.cpu_init_ns is not None else float("nan"),
        "invoke_cpu_ms": (run.cpu_done_ns - run.cpu_init_ns) / 1e6
        if None not in (run.cpu_done_ns, run.cpu_init_ns) else float("nan"),
        "anon_kb": memory.get("RssAnon"),
        "file_kb": memory.get("RssFile"),
        "calls": run.aws_calls,
        "answer": body,
    }


def zip_size(binary_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        info = zipfile.ZipInfo("bootstrap")
        info.external_attr = 0o100755 << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        z.writestr(info, Path(binary_path).read_bytes())
    return len(buf.getvalue())


def describe(answer: bytes):
    """What the first invoke answered, in a few words (status or failures)."""
    try:
        value = json.loads(answer)
    except ValueError:
        return "?"
    if isinstance(value, dict) and "statusCode" in value:
        return f"HTTP {value['statusCode']}"
    if isinstance(value, dict) and "batchItemFailures" in value:
        return f"{len(value['batchItemFailures'])} batch failures"
    return json.dumps(value)[:40]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin-dir", required=True, type=Path)
    ap.add_argument("--runs", type=int, default=21)
    ap.add_argument("--only", default="", help="binaries, comma- or space-separated (default: every function of template.yaml)")
    ap.add_argument("--json", type=Path, help="write the raw samples and medians here")
    ap.add_argument("--seed", type=int, default=14)
    ap.add_argument("--lambda-dir", type=Path,
                    help="cargo-lambda's output of `make package` (DIR/<function>/bootstrap, arm64): "
                         "its zips are reported and held to the 4 MB target")
    ap.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                    help="one more variable for the functions (not the hello-world); repeatable")
    args = ap.parse_args()

    functions = template_functions(ROOT / "template.yaml")
    names = [n for n in re.split(r"[ ,]+", args.only) if n] or sorted(functions)
    for n in names:
        if n not in functions:
            sys.exit(f"coldstart: {n} is not a function of template.yaml")
    binaries = {n: args.bin_dir / n for n in [*HELLOS, *names]}
    for n, p in binaries.items():
        if not p.exists():
            sys.exit(f"coldstart: {p} missing: build it first (make bench-coldstart builds it)")

    runtime = RuntimeApi()
    aws = AwsStub(runtime)
    base_env = {
        "PATH": "/usr/bin:/bin",
        "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{runtime.server.port}",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/bench",
        "AWS_LAMBDA_LOG_STREAM_NAME": "2026/11/27/[$LATEST]bench",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "AKIDBENCHMARK",
        "AWS_SECRET_ACCESS_KEY": "bench-secret",
        "AWS_SESSION_TOKEN": "bench-session-token",
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{aws.server.port}",
        "_HANDLER": "bootstrap",
        "TZ": ":UTC",
        "LANG": "en_US.UTF-8",
    }
    envs = {n: dict(base_env, AWS_LAMBDA_FUNCTION_NAME=n, RUST_LOG="info") for n in HELLOS}
    events = {n: b'{"hello":"world"}' for n in HELLOS}
    for n in names:
        envs[n] = dict(base_env, AWS_LAMBDA_FUNCTION_NAME=n, **functions[n])
        envs[n].update(kv.split("=", 1) for kv in args.env)
        events[n] = sample_event(n)

    logs = Path(tempfile.mkdtemp(prefix="bench-coldstart-"))
    load_before = os.getloadavg()[0]
    samples = {n: [] for n in binaries}
    rng = random.Random(args.seed)
    # One discarded round first: the binaries into the page cache.
    for round_no in range(args.runs + 1):
        order = names[:]
        rng.shuffle(order)
        for n in order:
            trio = [*HELLOS, n]
            rng.shuffle(trio)
            for b in trio:
                s = run_once(runtime, aws, binaries[b], envs[b], events[b], logs / f"{b}.log")
                if round_no > 0:
                    samples[b].append(s)
        print(f"round {round_no}/{args.runs}", file=sys.stderr, end="\r")
    print(file=sys.stderr)

    med = {}
    for n, ss in samples.items():
        med[n] = {
            "init_ms": statistics.median(s["init_ms"] for s in ss),
            "invoke_ms": statistics.median(s["invoke_ms"] for s in ss),
            "init_min_ms": min(s["init_ms"] for s in ss),
            "init_cpu_ms": statistics.median(s["init_cpu_ms"] for s in ss),
            "invoke_cpu_ms": statistics.median(s["invoke_cpu_ms"] for s in ss),
            "rss_mb": statistics.median(s["rss_kb"] for s in ss) / 1024,
            "anon_mb": statistics.median(s["anon_kb"] for s in ss) / 1024,
            "file_mb": statistics.median(s["file_kb"] for s in ss) / 1024,
            "bin_mb": binaries[n].stat().st_size / 1e6,
            "zip_mb": zip_size(binaries[n]) / 1e6,
            "runs": len(ss),
            "calls": ss[-1]["calls"],
            "answer": describe(ss[-1]["answer"]),
        }
    h = med[HELLO]

    def cell(n, key, fmt):
        v = med[n][key]
        return f"{v:{fmt}}" if n == HELLO else f"{v:{fmt}} ({v / h[key]:.1f}×)"
    ct = med[HELLO_CT]

    print(f"{args.runs} interleaved runs per function ({h['runs']} hello-world runs), medians; "
          f"(×) = ratio to the hello-world; load average {load_before:.1f} before, "
          f"{os.getloadavg()[0]:.1f} after; logs of the last runs in {logs}\n")
    print("| binary | init ms | init ms, min | init CPU ms | first invoke ms | invoke CPU ms | "
          "peak RSS MB | RSS anon + file MB | binary MB | zip MB | first invoke |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for n in [*HELLOS, *names]:
        calls = ", ".join(f"{c}×{med[n]['calls'].count(c)}" if med[n]['calls'].count(c) > 1 else c
                          for c in dict.fromkeys(med[n]["calls"]))
        print(f"| {LABELS.get(n, n)} | {cell(n, 'init_ms', '.2f')} | "
              f"{cell(n, 'init_min_ms', '.2f')} | {cell(n, 'init_cpu_ms', '.2f')} | "
              f"{cell(n, 'invoke_ms', '.2f')} | {cell(n, 'invoke_cpu_ms', '.2f')} | {cell(n, 'rss_mb', '.1f')} | "
              f"{med[n]['anon_mb']:.1f} + {med[n]['file_mb']:.1f} | "
              f"{cell(n, 'bin_mb', '.1f')} | {cell(n, 'zip_mb', '.2f')} | "
              f"{med[n]['answer']}{'; ' + calls if calls else ''} |")

    # The issue's targets, each function against them, from this run alone.
    arm64 = {}
    if args.lambda_dir:
        for n in names:
            p = args.lambda_dir / n / "bootstrap"
            arm64[n] = zip_size(p) / 1e6 if p.exists() else None
    # The last column is not a target: the same init against a hello-world on the
    # functions' own runtime, what their code costs beyond lambda_runtime's.
    print("\n| function | init CPU ≤ 1.5× | peak RSS ≤ 16 MB | zip ≤ 4 MB | init CPU ÷ current-thread hello-world |")
    print("|---|---|---|---|---|")
    for n in names:
        m = med[n]
        zip_mb, where = (arm64[n], "arm64") if arm64.get(n) else (m["zip_mb"], "x86_64")
        verdict = lambda ok: "yes" if ok else "**no**"
        print(f"| {n} | {verdict(m['init_cpu_ms'] <= 1.5 * h['init_cpu_ms'])} "
              f"({m['init_cpu_ms'] / h['init_cpu_ms']:.2f}×) | {verdict(m['rss_mb'] <= 16)} ({m['rss_mb']:.1f}) | "
              f"{verdict(zip_mb <= 4)} ({zip_mb:.2f}, {where}) | {m['init_cpu_ms'] / ct['init_cpu_ms']:.2f}× |")
    if args.json:
        args.json.write_text(json.dumps({"medians": med, "samples": {
            n: [{k: v for k, v in s.items() if k != "answer"} for s in ss] for n, ss in samples.items()}},
            indent=1, default=str))


if __name__ == "__main__":
    main()
