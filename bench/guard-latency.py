#!/usr/bin/env python3
"""Hook latency of `orchlint guard`, per event, median and p99.

    bench/guard-latency.py [--bin target/release/orchlint] [--sizes-kb 100,10240,102400] [--calls 200] [--shape runs|one-run]

For each size, a session file of that size is made, as Claude Code would
have written it by then: `runs` repeats a real 2.1.39 run with fresh ids
(bench/repeat_session.py), so the session holds many runs; `one-run` holds
that run once and grows it with the orchestrator's calls of ordinary tools
whose results are large (40 KB each, text and toolUseResult), so the session
is one run of that size. Then, call after call, an orchestrator message with one
tool call is appended to it (as Claude Code writes it before the hook runs)
and `orchlint guard pre-tool-use` is run on that call's hook input, timed
from process start to exit (what Claude Code waits for). Every tenth call is
a PostToolBatch, every tenth from the fifth a subagent's call (an ml-explorer's
Read, judged by its agent policy; not in the session file, as Claude Code
writes it to the agent's own), and the last a Stop. The first call of a session reads the
whole transcript into the guard's mirror; it is reported apart ("first").
"""
import argparse, json, os, statistics, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SRC = os.path.join(ROOT, "fixtures/samples/2.1.39-too-few-architects/-home-dev-churn-model/801217df-37c2-4273-9a93-79b6ac1c7a4a.jsonl")

def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]

def grow_one_run(t, sid, size):
    with open(SRC, "rb") as f:
        body = f.read()
    text = "x" * 79 + "\n"
    output = text * 256  # 20 KB
    n = 0
    with open(t, "wb") as out:
        out.write(body)
        written = len(body)
        while written < size:
            tid = f"toolu_fill_{n:06d}"
            call = {"type": "assistant", "uuid": f"fill-{n}", "sessionId": sid, "isSidechain": False,
                    "message": {"id": f"msg_fill_{n}", "type": "message", "role": "assistant",
                                "content": [{"type": "tool_use", "id": tid, "name": "Bash",
                                             "input": {"command": "python train.py --epochs 1"}}]}}
            result = {"type": "user", "uuid": f"fill-r{n}", "sessionId": sid, "isSidechain": False,
                      "message": {"role": "user", "content": [{"type": "tool_result", "tool_use_id": tid,
                                                               "content": output}]},
                      "toolUseResult": {"stdout": output, "stderr": "", "interrupted": False}}
            for entry in (call, result):
                line = (json.dumps(entry, separators=(",", ":")) + "\n").encode()
                out.write(line)
                written += len(line)
            n += 1

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(ROOT, "target/release/orchlint"))
    ap.add_argument("--sizes-kb", default="100,10240,102400")
    ap.add_argument("--calls", type=int, default=200)
    ap.add_argument("--shape", choices=["runs", "one-run"], default="runs")
    a = ap.parse_args()
    print(f"| transcript | event | calls | median ms | p99 ms | max ms |")
    print(f"|---|---|---:|---:|---:|---:|")
    for kb in [int(x) for x in a.sizes_kb.split(",")]:
        with tempfile.TemporaryDirectory() as tmp:
            t = os.path.join(tmp, "session.jsonl")
            sid = "801217df-37c2-4273-9a93-79b6ac1c7a4a"
            if a.shape == "runs":
                subprocess.run([sys.executable, os.path.join(ROOT, "bench/repeat_session.py"), SRC, t, str(kb * 1024)],
                               check=True, stdout=subprocess.DEVNULL)
            else:
                grow_one_run(t, sid, kb * 1024)
            state = os.path.join(tmp, "state")
            times = {"first": [], "PreToolUse": [], "PreToolUse (agent)": [], "PostToolBatch": [], "Stop": []}
            for i in range(a.calls):
                tid = f"toolu_bench_{i:06d}"
                line = {"type": "assistant", "uuid": f"bench-{i}", "parentUuid": None, "sessionId": sid,
                        "isSidechain": False,
                        "message": {"id": f"msg_bench_{i}", "type": "message", "role": "assistant",
                                    "content": [{"type": "tool_use", "id": tid, "name": "Bash",
                                                 "input": {"command": "git status"}}]}}
                agent = i % 10 == 4
                if not agent:
                    with open(t, "a") as f:
                        f.write(json.dumps(line, separators=(",", ":")) + "\n")
                if agent:
                    event, inp = "PreToolUse (agent)", {"hook_event_name": "PreToolUse", "tool_name": "Read",
                                                        "tool_input": {"file_path": "src/train.py"},
                                                        "tool_use_id": tid, "agent_id": "abench0000000001",
                                                        "agent_type": "ml-flow:ml-explorer"}
                elif i == a.calls - 1:
                    event, inp = "Stop", {"hook_event_name": "Stop", "stop_hook_active": False}
                elif i % 10 == 9:
                    event, inp = "PostToolBatch", {"hook_event_name": "PostToolBatch",
                                                   "tool_calls": [{"tool_name": "Bash", "tool_use_id": tid}]}
                else:
                    event, inp = "PreToolUse", {"hook_event_name": "PreToolUse", "tool_name": "Bash",
                                                "tool_input": {"command": "git status"}, "tool_use_id": tid}
                inp.update({"session_id": sid, "transcript_path": t, "cwd": tmp, "prompt_id": "bench-prompt"})
                start = time.perf_counter()
                subprocess.run([a.bin, "guard", inp["hook_event_name"], "--isolated", "--state-dir", state, "--wait-ms", "0"],
                               input=json.dumps(inp).encode(), stdout=subprocess.DEVNULL, check=True)
                ms = (time.perf_counter() - start) * 1000
                times["first" if i == 0 else event].append(ms)
                if os.environ.get("TRACE"): print(i, event, round(ms, 1), file=sys.stderr)
                if agent:
                    continue
                # the call's result, as Claude Code writes it after the tool ran
                result = {"type": "user", "uuid": f"bench-r{i}", "sessionId": sid, "isSidechain": False,
                          "message": {"role": "user", "content": [{"type": "tool_result", "tool_use_id": tid,
                                                                   "content": "On branch main"}]}}
                with open(t, "a") as f:
                    f.write(json.dumps(result, separators=(",", ":")) + "\n")
            size = f"{kb // 1024} MB" if kb >= 1024 else f"{kb} KB"
            size += " (one run)" if a.shape == "one-run" else ""
            for event, xs in times.items():
                if xs:
                    print(f"| {size} | {event} | {len(xs)} | {statistics.median(xs):.1f} | {pct(xs, 99):.1f} | {max(xs):.1f} |")
            sys.stdout.flush()

main()
