#!/usr/bin/env python3
"""What `orchlint serve` adds to a real Claude Code CLI run's wall time,
against a plain scripted server that sends the same bytes.

    bench/serve-overhead.py [--cli 2.1.332|PATH] [--runs 10] [--recording DIR]
                            [--plugin-dir DIR] [--bin target/release/orchlint]
                            [--warmup 1] [--json FILE] [--keep]

The scenario is the one the serve e2e tests drive (tests/serve.rs): the real
CLI re-executes a recorded multi-phase ml-flow run (default
tests/data/recordings/2.1.328-clean: 3 user prompts, 16 orchestrator turns,
26 agent launches), each prompt a CLI invocation (`-p`, later ones
`--resume` the session), with the environment and flags `orchlint record`
uses, HOME and the working folder fresh for each run.

Two servers answer it, each started fresh for each run:

  serve  `orchlint serve --replay RECORDING --log FILE`
  plain  this script as a server (`--plain-server`): Python's
         http.server.ThreadingHTTPServer that hands out, for each request,
         the next of the responses (status, content-type, body bytes) that
         `orchlint serve` sent for the same request in a capture run. No
         checks, no classifying, no holds; the one piece of matching is the
         lookup key, which a scripted server for a CLI that sends agents'
         requests in parallel cannot do without (see request_key).

First a capture run: the CLI against `orchlint serve` through a recording
proxy (untimed), which stores every response by key. Then --warmup pairs and
--runs pairs, interleaved (serve/plain, then plain/serve, ...). The time of a
run is the wall time of its CLI processes (from spawn to exit, summed over
the prompts); the servers' start and stop are not in it.

Every run is verified, or the script stops (exit 2): each CLI invocation
exits 0 with a `result` line that is not an error, the stream holds as many
agent launches (Agent/Task calls of the orchestrator) as the recording, one
subagent transcript per launch was written (2.1.x), `orchlint diff
RECORDING NEW_SESSION` finds the same behaviour (exit 0), and the server
refused nothing (serve's exit status; the plain server's count of requests
it had no answer for).

Standard library only.
"""
import argparse
import base64
import hashlib
import http.client
import http.server
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "orchlint/claude-code"

# --------------------------------------------------------------------------
# The key of a request, shared by the capture proxy and the plain server.
# --------------------------------------------------------------------------

REMINDER = re.compile(r"^\s*<system-reminder>.*?</system-reminder>\s*|\s*<system-reminder>.*?</system-reminder>\s*$", re.S)


def user_text(content):
    """A user message's text, without whole <system-reminder> parts at its ends."""
    if isinstance(content, str):
        text = content
    elif isinstance(content, list):
        text = "\n".join(b.get("text", "") for b in content if isinstance(b, dict) and b.get("type") == "text")
    else:
        text = ""
    stripped = text
    while True:
        s = REMINDER.sub("", stripped, count=1)
        if s == stripped:
            break
        stripped = s
    return stripped.strip() or text


def request_key(path, body):
    """The endpoint, the model, whether it streams, the number of assistant messages in
    the conversation and a hash of its first user message's text. The
    orchestrator's conversation is one sequence (its key moves on with each
    turn, across --resume); each agent's conversation starts with its launch
    prompt. Requests with the same key (2.0.x's three `Warmup`s) get the
    answers in the order they were captured."""
    path = path.split("?", 1)[0]
    try:
        req = json.loads(body)
    except ValueError:
        return f"{path}|unparsable|{hashlib.sha1(body).hexdigest()[:16]}"
    if not isinstance(req, dict):
        return f"{path}|not-an-object"
    msgs = req.get("messages") or []
    first = next((m for m in msgs if isinstance(m, dict) and m.get("role") == "user"), None)
    prompt = user_text(first.get("content")) if first else ""
    assistants = sum(1 for m in msgs if isinstance(m, dict) and m.get("role") == "assistant")
    digest = hashlib.sha1(prompt.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    return f"{path}|{req.get('model')}|stream={bool(req.get('stream'))}|assistants={assistants}|prompt={digest}"


def read_body(handler):
    """The request body: content-length or chunked."""
    length = handler.headers.get("content-length")
    if length is not None:
        return handler.rfile.read(int(length))
    if "chunked" in (handler.headers.get("transfer-encoding") or "").lower():
        parts = []
        while True:
            size = int(handler.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while handler.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                break
            parts.append(handler.rfile.read(size))
            handler.rfile.readline()
        return b"".join(parts)
    return b""


def response_bytes(status, content_type, cache_control, body):
    head = f"HTTP/1.1 {status} {http.HTTPStatus(status).phrase}\r\ncontent-type: {content_type}\r\n"
    if cache_control:
        head += f"cache-control: {cache_control}\r\n"
    head += f"content-length: {len(body)}\r\n\r\n"
    return head.encode("latin-1") + body


# --------------------------------------------------------------------------
# The plain scripted server (run as its own process: --plain-server SCRIPT).
# --------------------------------------------------------------------------


def plain_server(script_file, stats_file):
    with open(script_file) as f:
        script = json.load(f)
    answers = {}  # key -> list of prepared response bytes, in captured order
    for e in script:
        body = base64.b64decode(e["body"])
        answers.setdefault(e["key"], []).append(
            response_bytes(e["status"], e["content_type"], e.get("cache_control"), body))
    given = {k: 0 for k in answers}
    stats = {"requests": 0, "unknown": 0, "repeats": 0, "unknown_keys": []}
    lock = threading.Lock()
    missing = json.dumps({"type": "error", "error": {"type": "invalid_request_error",
                                                     "message": "plain server: no scripted answer"}}).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def do_POST(self):
            body = read_body(self)
            key = request_key(self.path, body)
            with lock:
                stats["requests"] += 1
                queue = answers.get(key)
                if queue is None:
                    stats["unknown"] += 1
                    stats["unknown_keys"].append(key)
                    out = response_bytes(400, "application/json", None, missing)
                else:
                    i = given[key]
                    if i >= len(queue):  # a retry: the last answer again
                        stats["repeats"] += 1
                        i = len(queue) - 1
                    given[key] = i + 1
                    out = queue[i]
            self.wfile.write(out)

        def log_message(self, *args):
            pass

    class Server(http.server.ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 256

    server = Server(("127.0.0.1", 0), Handler)
    print(f"ANTHROPIC_BASE_URL=http://127.0.0.1:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever(poll_interval=0.5)
    except KeyboardInterrupt:
        pass
    with open(stats_file, "w") as f:
        json.dump(stats, f)
    return 0


# --------------------------------------------------------------------------
# The capture proxy: the CLI -> this proxy -> orchlint serve, every response kept.
# --------------------------------------------------------------------------


class Capture:
    def __init__(self, upstream):
        self.upstream = upstream.replace("http://", "")
        self.exchanges = []
        self.lock = threading.Lock()
        capture = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def do_POST(self):
                body = read_body(self)
                headers = {k: v for k, v in self.headers.items()
                           if k.lower() not in ("host", "content-length", "connection", "transfer-encoding")}
                conn = http.client.HTTPConnection(capture.upstream, timeout=120)
                conn.request("POST", self.path, body=body, headers=headers)
                r = conn.getresponse()
                data = r.read()
                ct = r.getheader("content-type") or "application/json"
                cc = r.getheader("cache-control")
                conn.close()
                with capture.lock:
                    capture.exchanges.append({"key": request_key(self.path, body), "status": r.status,
                                              "path": self.path, "request_headers": headers,
                                              "request_body": base64.b64encode(body).decode(),
                                              "content_type": ct, "cache_control": cc,
                                              "body": base64.b64encode(data).decode(),
                                              "request_bytes": len(body), "response_bytes": len(data)})
                self.wfile.write(response_bytes(r.status, ct, cc, data))

            def log_message(self, *args):
                pass

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


# --------------------------------------------------------------------------
# Servers as processes.
# --------------------------------------------------------------------------


def cpu_seconds(pid):
    """utime + stime of a process, from /proc (None where there is no /proc)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except OSError:
        return None


class ServerProcess:
    """A server process that prints ANTHROPIC_BASE_URL=... first; stopped with SIGINT."""

    def __init__(self, argv, what):
        self.what = what
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                                     cwd=ROOT, text=True)
        line = self.proc.stdout.readline().strip()
        if not line.startswith("ANTHROPIC_BASE_URL="):
            self.proc.kill()
            raise SystemExit(f"{what} did not start: {line!r} {self.proc.stderr.read()}")
        self.url = line.split("=", 1)[1]
        self.cpu_at_start = cpu_seconds(self.proc.pid)

    def stop(self):
        """Exit status, standard error, and the CPU time the server took
        while it served (from its address line to its stop)."""
        cpu = cpu_seconds(self.proc.pid)
        if cpu is not None and self.cpu_at_start is not None:
            cpu -= self.cpu_at_start
        self.proc.send_signal(signal.SIGINT)
        try:
            out, err = self.proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, err = self.proc.communicate()
        return self.proc.returncode, err, cpu


def start_serve(args, log):
    return ServerProcess([args.bin, "serve", "--replay", str(args.recording), "--log", str(log)], "orchlint serve")


def start_plain(script_file, stats_file):
    return ServerProcess([sys.executable, os.path.abspath(__file__), "--plain-server", str(script_file),
                          "--stats", str(stats_file)], "plain server")


# --------------------------------------------------------------------------
# The CLI and the recording.
# --------------------------------------------------------------------------


def resolve_cli(spec):
    """(argv prefix, version) of a CLI version in the cache, or of a path."""
    p = Path(spec)
    if not p.exists():
        base = CACHE / spec / "node_modules/@anthropic-ai/claude-code"
        exe, js = base / "bin/claude.exe", base / "cli.js"
        p = exe if exe.exists() else js
        if not p.exists():
            raise SystemExit(f"no Claude Code CLI {spec} under {CACHE} (install it as the README says, or give a path)")
    p = p.resolve()
    argv = ["node", str(p)] if p.suffix in (".js", ".mjs", ".cjs") else [str(p)]
    version = "?"
    for d in [p.parent, p.parent.parent]:
        pkg = d / "package.json"
        if pkg.exists():
            version = json.loads(pkg.read_text()).get("version", "?")
            break
    return argv, version


def session_files(folder):
    return [p for p in Path(folder).rglob("*.jsonl") if not p.name.startswith("agent-")]


def json_lines(path):
    with open(path, "rb") as f:
        for line in f:
            try:
                d = json.loads(line)
            except ValueError:
                continue
            if isinstance(d, dict):
                yield d


def recording_facts(recording):
    """The user prompts `orchlint record` types, and the number of agent
    launches, of the session of a recording (the session file with a prompt)."""
    best = None
    files = [recording] if recording.is_file() else session_files(recording)
    for f in files:
        prompts, launches = [], set()
        for d in json_lines(f):
            if d.get("isSidechain"):
                continue
            msg = d.get("message") or {}
            content = msg.get("content")
            if d.get("type") == "user" and not d.get("isMeta"):
                text = content if isinstance(content, str) else None
                if isinstance(content, list) and all(isinstance(b, dict) and b.get("type") == "text" for b in content):
                    text = "\n".join(b.get("text", "") for b in content)
                if text is None:
                    continue
                m = re.search(r"<command-name>(.*?)</command-name>", text, re.S)
                if m:
                    name = m.group(1).strip()
                    if name == "/ml-flow":  # 1.0.x recorded the command without its plugin
                        name = "/ml-flow:ml-flow"
                    a = re.search(r"<command-args>(.*?)</command-args>", text, re.S)
                    args = a.group(1).strip() if a else ""
                    prompts.append(f"{name} {args}" if args else name)
                elif not text.startswith("<") and text.strip():
                    prompts.append(text)
            elif d.get("type") == "assistant" and isinstance(content, list):
                for b in content:
                    if isinstance(b, dict) and b.get("type") == "tool_use" and b.get("name") in ("Agent", "Task"):
                        launches.add(b.get("id"))
        if prompts and (best is None or len(launches) > best[1]):
            best = (prompts, len(launches))
    if best is None:
        raise SystemExit(f"{recording}: no session with a user prompt")
    return best


def run_cli(args, cli, base_url, work):
    """Runs the recording's prompts through the CLI once: the CLI wall
    times, and what the run left (stream files, HOME)."""
    home, cwd = work / "home", work / "work"
    for d in (home, cwd, home / "tmp"):
        d.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items()
           if k not in ("ANTHROPIC_AUTH_TOKEN", "CLAUDE_CODE_USE_BEDROCK", "CLAUDE_CODE_USE_VERTEX")}
    env.update({"HOME": str(home), "ANTHROPIC_BASE_URL": base_url, "ANTHROPIC_API_KEY": "orchlint-bench",
                "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1", "DISABLE_TELEMETRY": "1",
                "DISABLE_AUTOUPDATER": "1", "IS_SANDBOX": "1", "CLAUDE_CODE_TMPDIR": str(home / "tmp")})
    times, streams, failures, session = [], [], [], None
    for i, prompt in enumerate(args.prompts):
        argv = list(cli)
        if session:
            argv += ["--resume", session]
        argv += ["-p", prompt, "--output-format", "stream-json", "--verbose",
                 "--permission-mode", "bypassPermissions", "--plugin-dir", str(args.plugin_dir)]
        out = work / f"cli-{i + 1}.stream.jsonl"
        with open(out, "wb") as so, open(work / f"cli-{i + 1}.stderr", "wb") as se:
            t0 = time.perf_counter()
            p = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=so, stderr=se)
            try:
                rc = p.wait(timeout=args.timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
                rc = "timeout"
            times.append(time.perf_counter() - t0)
        streams.append(out)
        if rc != 0:
            failures.append(f"prompt {i + 1}: the CLI exited with {rc}: "
                            f"{(work / f'cli-{i + 1}.stderr').read_text(errors='replace')[-500:]}")
            break
        if session is None:
            session = next((d["session_id"] for d in json_lines(out) if d.get("session_id")), None)
            if session is None:
                failures.append(f"prompt {i + 1}: no session id in the stream")
                break
    return times, streams, home, failures


def verify(args, streams, home, failures):
    """What is wrong with a run (empty: it completed the workflow)."""
    problems = list(failures)
    launches = 0
    api_ms = 0
    for s in streams:
        result = None
        for d in json_lines(s):
            if d.get("type") == "result":
                result = d
            if d.get("type") == "assistant" and not d.get("parent_tool_use_id"):
                for b in (d.get("message") or {}).get("content") or []:
                    if isinstance(b, dict) and b.get("type") == "tool_use" and b.get("name") in ("Agent", "Task"):
                        launches += 1
        if result is None or result.get("is_error") is True:
            problems.append(f"{s.name}: no result line, or an error result")
        else:
            api_ms += result.get("duration_api_ms") or 0
    if len(streams) == len(args.prompts) and launches != args.launches:
        problems.append(f"{launches} agent launches in the stream, the recording has {args.launches}")
    projects = home / ".claude/projects"
    sessions = session_files(projects) if projects.is_dir() else []
    if not sessions:
        problems.append("the CLI wrote no session file")
        return problems, launches, api_ms
    if args.version.startswith("2.1"):
        agents = [p for p in projects.rglob("agent-*.jsonl") if p.parent.name == "subagents"]
        if len(agents) != args.launches:
            problems.append(f"{len(agents)} subagent transcripts written, the recording has {args.launches} launches")
    session = max(sessions, key=lambda p: p.stat().st_size)
    d = subprocess.run([args.bin, "diff", str(args.recording), str(session)], capture_output=True, text=True,
                       env={**os.environ, "NO_COLOR": "1"})
    if d.returncode != 0:
        problems.append(f"orchlint diff found another behaviour ({d.returncode}): {d.stdout[-800:]}{d.stderr[-300:]}")
    return problems, launches, api_ms


# --------------------------------------------------------------------------
# The benchmark.
# --------------------------------------------------------------------------


def one_run(args, cli, arm, tmp, label):
    work = tmp / label
    work.mkdir(parents=True)
    if arm == "serve":
        server = start_serve(args, work / "serve.log.jsonl")
    else:
        server = start_plain(args.script_file, work / "plain.stats.json")
    times, streams, home, failures = run_cli(args, cli, server.url, work)
    rc, err, cpu = server.stop()
    problems, launches, api_ms = verify(args, streams, home, failures)
    if arm == "serve":
        if rc != 0:
            problems.append(f"orchlint serve exited with {rc} (a request was refused): {err[-800:]}")
        requests = sum(1 for _ in open(work / "serve.log.jsonl"))
    else:
        stats = json.loads((work / "plain.stats.json").read_text())
        if stats["unknown"]:
            problems.append(f"the plain server had no answer for {stats['unknown']} requests: {stats['unknown_keys'][:5]}")
        requests = stats["requests"]
        if stats["repeats"]:
            print(f"  {label}: {stats['repeats']} requests got a captured answer again (retries)", file=sys.stderr)
    if problems:
        print(f"\n{label}: the run did not complete the workflow; kept in {work}", file=sys.stderr)
        for p in problems:
            print(f"  {p}", file=sys.stderr)
        sys.exit(2)
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return {"arm": arm, "label": label, "wall": sum(times), "per_prompt": times, "requests": requests,
            "launches": launches, "server_cpu": cpu, "api_ms": api_ms}


def capture(args, cli, tmp):
    """One run against orchlint serve through the recording proxy: the script."""
    work = tmp / "capture"
    work.mkdir(parents=True)
    server = start_serve(args, work / "serve.log.jsonl")
    proxy = Capture(server.url)
    times, streams, home, failures = run_cli(args, cli, proxy.url, work)
    proxy.stop()
    rc, err, _ = server.stop()
    problems, _, _ = verify(args, streams, home, failures)
    if rc != 0:
        problems.append(f"orchlint serve exited with {rc}: {err[-800:]}")
    if problems:
        print(f"capture run failed; kept in {work}", file=sys.stderr)
        for p in problems:
            print(f"  {p}", file=sys.stderr)
        sys.exit(2)
    args.script_file = tmp / "script.json"
    answer = ("key", "status", "content_type", "cache_control", "body")
    with open(args.script_file, "w") as f:
        json.dump([{k: e[k] for k in answer} for e in proxy.exchanges], f)
    args.requests_file = tmp / "requests.json"
    with open(args.requests_file, "w") as f:
        json.dump(proxy.exchanges, f)
    keys = {e["key"] for e in proxy.exchanges}
    return {"requests": len(proxy.exchanges), "keys": len(keys),
            "request_bytes": sum(e["request_bytes"] for e in proxy.exchanges),
            "response_bytes": sum(e["response_bytes"] for e in proxy.exchanges),
            "largest_request": max(e["request_bytes"] for e in proxy.exchanges)}


def latency(args, tmp, rounds):
    """The captured requests sent again, in the order they were answered, on
    one keep-alive connection, to a fresh server of each kind (`rounds`
    times, alternating): the time from sending a request to having read its
    whole answer, without the CLI. Seconds per request, per server."""
    with open(args.requests_file) as f:
        exchanges = json.load(f)
    times = {"serve": [], "plain": []}
    totals = {"serve": [], "plain": []}
    for i in range(rounds):
        for arm in (("serve", "plain") if i % 2 == 0 else ("plain", "serve")):
            work = tmp / f"latency-{i + 1}-{arm}"
            work.mkdir(parents=True)
            server = start_serve(args, work / "serve.log.jsonl") if arm == "serve" \
                else start_plain(args.script_file, work / "plain.stats.json")
            conn = http.client.HTTPConnection(server.url.replace("http://", ""), timeout=60)
            conn.connect()
            conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            total = 0.0
            for e in exchanges:
                body = base64.b64decode(e["request_body"])
                t0 = time.perf_counter()
                conn.request("POST", e["path"], body=body, headers=e["request_headers"])
                r = conn.getresponse()
                data = r.read()
                dt = time.perf_counter() - t0
                if r.status != e["status"] or len(data) != e["response_bytes"]:
                    sys.exit(f"latency: {arm} answered {e['key']} with {r.status}, {len(data)} bytes "
                             f"(captured: {e['status']}, {e['response_bytes']})")
                times[arm].append(dt)
                total += dt
            conn.close()
            rc, err, _ = server.stop()
            if arm == "serve" and rc != 0:
                sys.exit(f"latency: orchlint serve refused a request: {err[-800:]}")
            totals[arm].append(total)
    return times, totals


def pct(a, b):
    return (a / b - 1) * 100


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cli", default="2.1.332", help="a version under ~/.cache/orchlint/claude-code, or a path")
    ap.add_argument("--runs", type=int, default=10, help="timed runs per server (default 10)")
    ap.add_argument("--warmup", type=int, default=1, help="untimed run pairs after the capture (default 1)")
    ap.add_argument("--recording", help="default: tests/data/recordings/2.1.328-clean "
                                        "(fixtures/samples/2.0.77-clean for a 2.0.x CLI)")
    ap.add_argument("--plugin-dir", default=str(ROOT / "tests/data/plugin/ml-flow"))
    ap.add_argument("--bin", default=str(ROOT / "target/release/orchlint"))
    ap.add_argument("--timeout", type=float, default=300, help="seconds per CLI invocation")
    ap.add_argument("--latency-rounds", type=int, default=5,
                    help="rounds of the captured requests sent again without the CLI (default 5; 0: none)")
    ap.add_argument("--json", help="also write the runs and figures to this file")
    ap.add_argument("--keep", action="store_true", help="keep every run's folder (HOME, streams, logs)")
    ap.add_argument("--plain-server", help=argparse.SUPPRESS)
    ap.add_argument("--stats", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.plain_server:
        return plain_server(args.plain_server, args.stats)

    cli, args.version = resolve_cli(args.cli)
    if args.recording is None:
        args.recording = "fixtures/samples/2.0.77-clean" if args.version.startswith("2.0") \
            else "tests/data/recordings/2.1.328-clean"
    args.recording = (ROOT / args.recording).resolve() if not os.path.isabs(args.recording) else Path(args.recording)
    args.plugin_dir = Path(args.plugin_dir).resolve()
    args.bin = str(Path(args.bin).resolve())
    if not os.access(args.bin, os.X_OK):
        raise SystemExit(f"no orchlint binary at {args.bin}: cargo build --release, or give --bin PATH")
    args.prompts, args.launches = recording_facts(args.recording)
    tmp = Path(tempfile.mkdtemp(prefix="serve-overhead-"))
    load_before = os.getloadavg()
    print(f"Claude Code {args.version} ({' '.join(cli)})")
    print(f"recording {args.recording.relative_to(ROOT) if args.recording.is_relative_to(ROOT) else args.recording}: "
          f"{len(args.prompts)} prompts, {args.launches} agent launches; orchlint {args.bin}")
    print(f"load average {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}, {os.cpu_count()} CPUs")

    t0 = time.time()
    cap = capture(args, cli, tmp)
    print(f"capture: {cap['requests']} requests ({cap['keys']} keys), {cap['request_bytes'] / 1e6:.1f} MB sent "
          f"by the CLI (largest {cap['largest_request'] / 1e3:.0f} kB), {cap['response_bytes'] / 1e3:.0f} kB answered")

    lat, lat_totals = latency(args, tmp, args.latency_rounds) if args.latency_rounds else (None, None)
    if lat:
        for arm in ("serve", "plain"):
            print(f"latency without the CLI, {arm}: median {statistics.median(lat[arm]) * 1e3:.2f} ms per request, "
                  f"{min(lat_totals[arm]) * 1e3:.1f}-{max(lat_totals[arm]) * 1e3:.1f} ms for all {cap['requests']}")

    runs = []
    total = args.warmup + args.runs
    for i in range(total):
        order = ("serve", "plain") if i % 2 == 0 else ("plain", "serve")
        for arm in order:
            timed = i >= args.warmup
            label = f"{'run' if timed else 'warmup'}-{i + 1 - args.warmup if timed else i + 1}-{arm}"
            r = one_run(args, cli, arm, tmp, label)
            r["timed"] = timed
            runs.append(r)
            cpu = f", server CPU {r['server_cpu']:.2f} s" if r["server_cpu"] is not None else ""
            print(f"  {label:16} {r['wall']:7.3f} s  ({' + '.join(f'{t:.2f}' for t in r['per_prompt'])}; "
                  f"API {r['api_ms'] / 1e3:.2f} s; {r['requests']} requests, {r['launches']} launches{cpu})",
                  flush=True)
    load_after = os.getloadavg()
    if not args.keep:
        shutil.rmtree(tmp, ignore_errors=True)

    timed = [r for r in runs if r["timed"]]
    s = [r["wall"] for r in timed if r["arm"] == "serve"]
    p = [r["wall"] for r in timed if r["arm"] == "plain"]
    paired = [pct(a, b) for a, b in zip(s, p)]
    cpu_s = [r["server_cpu"] for r in timed if r["arm"] == "serve" and r["server_cpu"] is not None]
    cpu_p = [r["server_cpu"] for r in timed if r["arm"] == "plain" and r["server_cpu"] is not None]
    api = {a: [r["api_ms"] / 1e3 for r in timed if r["arm"] == a] for a in ("serve", "plain")}
    figures = {
        "cli_version": args.version, "runs": args.runs, "date": time.strftime("%Y-%m-%d"),
        "load_before": load_before, "load_after": load_after, "cpus": os.cpu_count(),
        "serve": {"median": statistics.median(s), "min": min(s), "max": max(s)},
        "plain": {"median": statistics.median(p), "min": min(p), "max": max(p)},
        "overhead_median_pct": pct(statistics.median(s), statistics.median(p)),
        "overhead_best_pct": pct(min(s), min(p)),
        "overhead_paired_median_pct": statistics.median(paired),
        "cli_api_s_median": {a: statistics.median(api[a]) for a in api},
        "server_cpu_median": {"serve": statistics.median(cpu_s) if cpu_s else None,
                              "plain": statistics.median(cpu_p) if cpu_p else None},
        "latency_ms_median": {a: statistics.median(lat[a]) * 1e3 for a in lat} if lat else None,
        "latency_ms_all_requests": {a: [t * 1e3 for t in lat_totals[a]] for a in lat_totals} if lat else None,
        "wall_total_s": time.time() - t0,
    }
    print()
    print(f"Claude Code {args.version}, {args.runs} runs per server, interleaved; "
          f"load {load_before[0]:.2f} before, {load_after[0]:.2f} after ({os.cpu_count()} CPUs)")
    print("| server | median s | min s | max s | CLI's API time s (median) | server CPU s (median) |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, arm, xs, cpu in (("orchlint serve", "serve", s, cpu_s), ("plain scripted (Python)", "plain", p, cpu_p)):
        c = f"{statistics.median(cpu):.2f}" if cpu else "?"
        print(f"| {name} | {statistics.median(xs):.3f} | {min(xs):.3f} | {max(xs):.3f} | "
              f"{statistics.median(api[arm]):.2f} | {c} |")
    print(f"overhead of serve: median {figures['overhead_median_pct']:+.1f} %, best {figures['overhead_best_pct']:+.1f} %, "
          f"median of pairs {figures['overhead_paired_median_pct']:+.1f} %  (target <= 5 %: "
          f"{'met' if figures['overhead_median_pct'] <= 5 else 'NOT met'} by the median)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"figures": figures, "capture": cap, "runs": runs, "prompts": args.prompts}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
