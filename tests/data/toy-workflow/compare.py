#!/usr/bin/env python3
"""Run orchlint on every run and compare errors/warnings (rule@LINE) with expected.json."""
import json, subprocess, sys, os, glob
here = os.path.dirname(os.path.abspath(__file__))
exp = json.load(open(os.path.join(here, "expected.json")))
binary = os.environ.get("ORCHLINT", "/work/orchlint-toy")
ok = True
files = sorted(os.path.basename(p) for p in glob.glob(os.path.join(here, "runs", "*.jsonl")))
for f in sorted(set(files) | set(exp)):
    out = subprocess.run([binary, "check", "--isolated", "--rules", os.path.join(here, "incident-triage.toml"),
                          os.path.join(here, "runs", f), "--format", "json", "--exit-zero"], capture_output=True, text=True)
    d = json.loads(out.stdout)
    got = sorted(f'{x["rule"]}@{x["line"]}' for x in d["diagnostics"] if x["severity"] in ("error", "warning"))
    want = sorted(exp.get(f, ["<missing in expected.json>"]))
    mark = "OK  " if got == want else "DIFF"
    ok &= got == want
    print(f"{mark} {f}: expected {want} got {got}")
sys.exit(0 if ok else 1)
