#!/usr/bin/env python3
"""Build (and verify) a large benchmark corpus for orchlint.

Replicates every Claude Code project folder of the shared corpus
(SRC/VERSION/SCENARIO/projects/<slug>/) into OUT/projects/<slug>-<k>/ with
fresh, deterministic session uuids and agent ids, so that no two copies share
an id and no source id survives.  Every other byte is kept as is, and the new
ids have the length of the old ones, so each copy has exactly the size of its
source folder.

    build_corpus.py build  --src SRC --out OUT --size-mb N
    build_corpus.py verify --src SRC --out OUT [--sample N]

"MB" is 2**20 bytes throughout.  Python 3 standard library only.
"""

import argparse
import hashlib
import json
import math
import os
import random
import re
import sys
import time
import uuid

MB = 1 << 20
UUID_RE = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
SESSION_FILE = re.compile(r"^(" + UUID_RE + r")\.jsonl$")
SESSION_DIR = re.compile(r"^(" + UUID_RE + r")$")
AGENT_FILE = re.compile(r"^agent-([0-9A-Za-z_-]+?)(?:\.meta\.json|\.jsonl)$")
SESSION_IN_TEXT = re.compile(rb'"(?:sessionId|session_id)":"(' + UUID_RE.encode() + rb')"')
# Agent ids as Claude Code writes them: "agentId":"…", "agent_id":"…",
# "task_id":"…" (background agents), <task-id>…</task-id>, and the
# "agentId: … (" tail of Task/Agent tool results.
AGENT_IN_TEXT = re.compile(
    rb'"(?:agentId|agent_id|task_id)":"(a[0-9a-f]{6,32})"'
    rb"|<task-id>(a[0-9a-f]{6,32})</task-id>"
    rb"|agentId: (a[0-9a-f]{6,32})\b"
)
MANIFEST = "manifest.json"


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------
# Source discovery


class SourceFolder:
    """One SRC/VERSION/SCENARIO/projects/<slug>/ folder, read once."""

    def __init__(self, root, rel):
        self.root = root  # absolute path of the folder
        self.rel = rel  # VERSION/SCENARIO/projects/<slug>
        self.slug = os.path.basename(root)
        self.files = []  # (relative path, bytes)
        self.dirs = []  # relative directories, parents first
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            d = os.path.relpath(dirpath, root)
            if d != ".":
                self.dirs.append(d)
            for name in sorted(filenames):
                path = os.path.join(dirpath, name)
                with open(path, "rb") as f:
                    self.files.append((os.path.relpath(path, root), f.read()))
        self.size = sum(len(b) for _, b in self.files)
        self.sessions = sum(
            1 for p, _ in self.files if "/" not in p and SESSION_FILE.match(p)
        )
        self._collect_ids()

    def _collect_ids(self):
        sids, aids = set(), set()
        for d in self.dirs:
            for part in d.split("/"):
                m = SESSION_DIR.match(part)
                if m:
                    sids.add(m.group(1))
        for p, data in self.files:
            name = os.path.basename(p)
            m = SESSION_FILE.match(name)
            if m:
                sids.add(m.group(1))
            m = AGENT_FILE.match(name)
            if m:
                aids.add(m.group(1))
            for m in SESSION_IN_TEXT.finditer(data):
                sids.add(m.group(1).decode())
            for m in AGENT_IN_TEXT.finditer(data):
                aids.add(next(g for g in m.groups() if g).decode())
        self.session_ids = sorted(sids)
        self.agent_ids = sorted(aids)
        ids = self.session_ids + self.agent_ids
        if not ids:
            self.pattern = None
            self.templates = [(p, [data], []) for p, data in self.files]
            return
        # Longest first; ids only match as whole tokens.
        alt = "|".join(re.escape(i) for i in sorted(ids, key=len, reverse=True))
        self.pattern = re.compile(
            "(?<![0-9A-Za-z])(" + alt + ")(?![0-9A-Za-z])"
        )
        bpattern = re.compile(self.pattern.pattern.encode())
        # A file becomes a template: literal parts with id slots between them.
        self.templates = []
        self.unbounded = 0
        for p, data in self.files:
            parts = bpattern.split(data)
            self.templates.append((p, parts[0::2], [x.decode() for x in parts[1::2]]))
            bounded = len(parts) // 2
            raw = sum(data.count(i.encode()) for i in ids)
            # An id that also occurs glued to other alnum characters would be
            # left alone; report it so it can be looked at.
            self.unbounded += raw - bounded

    def rename(self, path, mapping):
        if self.pattern is None:
            return path
        return self.pattern.sub(lambda m: mapping[m.group(1)], path)


def discover(src):
    folders = []
    for version in sorted(os.listdir(src)):
        vdir = os.path.join(src, version)
        if not os.path.isdir(vdir):
            continue
        for scenario in sorted(os.listdir(vdir)):
            pdir = os.path.join(vdir, scenario, "projects")
            if not os.path.isdir(pdir):
                continue
            for slug in sorted(os.listdir(pdir)):
                root = os.path.join(pdir, slug)
                if os.path.isdir(root):
                    folders.append(
                        SourceFolder(root, os.path.join(version, scenario, "projects", slug))
                    )
    if not folders:
        sys.exit(f"build_corpus: no VERSION/SCENARIO/projects/<slug>/ folders under {src}")
    return folders


# --------------------------------------------------------------------------
# Fresh ids (deterministic: same source and size give the same corpus)


class IdMaker:
    def __init__(self, taken):
        self.taken = set(taken)  # every source id, and every id handed out

    def _digest(self, *key):
        return hashlib.sha256("\0".join(("orchlint-bench",) + key).encode()).digest()

    def session(self, k, old):
        salt = 0
        while True:
            d = self._digest("session", str(k), old, str(salt))
            new = str(uuid.UUID(bytes=d[:16], version=4))
            if new not in self.taken:
                self.taken.add(new)
                return new
            salt += 1

    def agent(self, k, old):
        # Same shape as the old id: "a" + as many hex digits.
        n = len(old) - 1
        salt = 0
        while True:
            d = self._digest("agent", str(k), old, str(salt)).hex()
            new = "a" + d[:n]
            if new not in self.taken:
                self.taken.add(new)
                return new
            salt += 1


def mapping_for(maker, folder, k):
    m = {}
    for old in folder.session_ids:
        m[old] = maker.session(k, old)
    for old in folder.agent_ids:
        if re.fullmatch(r"a[0-9a-f]+", old):
            m[old] = maker.agent(k, old)
        else:  # not seen in this corpus; keep it unique all the same
            m[old] = old + "-" + str(k)
    return m


def plan(folders, size_mb):
    src_total = sum(f.size for f in folders)
    replicas = max(1, math.ceil(size_mb * MB / src_total))
    return src_total, replicas


def all_mappings(folders, replicas):
    """[(k, folder, mapping)] in corpus order; k is the copy's global index."""
    taken = set()
    for f in folders:
        taken.update(f.session_ids)
        taken.update(f.agent_ids)
    maker = IdMaker(taken)
    out = []
    for r in range(replicas):
        for i, f in enumerate(folders):
            k = r * len(folders) + i
            out.append((k, f, mapping_for(maker, f, k)))
    return out


# --------------------------------------------------------------------------
# build


def render(parts, slots, mapping):
    if not slots:
        return parts[0]
    pieces = [None] * (len(parts) + len(slots))
    pieces[0::2] = parts
    pieces[1::2] = [mapping[s].encode() for s in slots]
    return b"".join(pieces)


def cmd_build(args):
    t0 = time.monotonic()
    folders = discover(args.src)
    src_total, replicas = plan(folders, args.size_mb)
    t_read = time.monotonic() - t0
    unbounded = sum(f.unbounded for f in folders)
    if unbounded:
        log(f"build_corpus: warning: {unbounded} id occurrence(s) glued to other "
            "letters/digits were left unchanged")
    projects = os.path.join(args.out, "projects")
    if os.path.exists(projects):
        sys.exit(f"build_corpus: {projects} already exists")
    os.makedirs(projects)
    maps = all_mappings(folders, replicas)
    nbytes = nfiles = nsessions = 0
    manifest = []
    for k, f, mapping in maps:
        dest = os.path.join(projects, f"{f.slug}-{k}")
        os.mkdir(dest)
        for d in f.dirs:
            os.mkdir(os.path.join(dest, f.rename(d, mapping)))
        for path, parts, slots in f.templates:
            data = render(parts, slots, mapping)
            with open(os.path.join(dest, f.rename(path, mapping)), "wb") as out:
                out.write(data)
            nbytes += len(data)
            nfiles += 1
        nsessions += f.sessions
        manifest.append({"copy": os.path.basename(dest), "source": f.rel})
    with open(os.path.join(args.out, MANIFEST), "w") as mf:
        json.dump(
            {
                "source": os.path.abspath(args.src),
                "size_mb": args.size_mb,
                "replicas": replicas,
                "bytes": nbytes,
                "files": nfiles,
                "sessions": nsessions,
                "copies": manifest,
            },
            mf,
            indent=0,
        )
    secs = time.monotonic() - t0
    summary = {
        "bytes": nbytes,
        "files": nfiles,
        "sessions": nsessions,
        "project_dirs": len(maps),
        "replicas": replicas,
        "source_folders": len(folders),
        "source_bytes": src_total,
        "read_seconds": round(t_read, 2),
        "build_seconds": round(secs, 2),
    }
    print(json.dumps(summary))


# --------------------------------------------------------------------------
# verify


def cmd_verify(args):
    """Check a sample of copies byte for byte against their source.

    For each sampled copy: the file set is the source's with ids renamed;
    every line parses as JSON; mapping the fresh ids back gives the source
    bytes exactly; and no source session uuid or agent id is left in it.
    Also writes every source id to --ids-out (for a corpus-wide grep) and
    checks that the fresh ids of all copies are unique.
    """
    folders = discover(args.src)
    with open(os.path.join(args.out, MANIFEST)) as mf:
        man = json.load(mf)
    replicas = man["replicas"]
    maps = all_mappings(folders, replicas)
    if len(maps) != len(man["copies"]):
        sys.exit("verify: manifest does not match the source corpus")
    # Fresh ids unique across all copies, and disjoint from the source ids.
    source_ids = set()
    for f in folders:
        source_ids.update(f.session_ids)
        source_ids.update(f.agent_ids)
    seen = set()
    for _, _, m in maps:
        for new in m.values():
            if new in seen or new in source_ids:
                sys.exit(f"verify: id {new} handed out twice")
            seen.add(new)
    if args.ids_out:
        with open(args.ids_out, "w") as fo:
            fo.write("".join(i + "\n" for i in sorted(source_ids)))
    rng = random.Random(args.seed)
    idx = set(range(len(folders)))  # first copy of every source folder
    idx.add(len(maps) - 1)
    idx.update(rng.sample(range(len(maps)), min(args.sample, len(maps))))
    projects = os.path.join(args.out, "projects")
    lines = files = 0
    for i in sorted(idx):
        k, f, mapping = maps[i]
        dest = os.path.join(projects, f"{f.slug}-{k}")
        inverse = {v: o for o, v in mapping.items()}
        inv_re = re.compile(
            ("(" + "|".join(re.escape(v) for v in inverse) + ")").encode()
        ) if inverse else None
        expect = sorted(f.rename(p, mapping) for p, _ in f.files)
        got = sorted(
            os.path.relpath(os.path.join(dp, n), dest)
            for dp, _, ns in os.walk(dest)
            for n in ns
        )
        if expect != got:
            sys.exit(f"verify: {dest}: file set differs from {f.rel}")
        for p, data in f.files:
            with open(os.path.join(dest, f.rename(p, mapping)), "rb") as fh:
                copy = fh.read()
            files += 1
            if len(copy) != len(data):
                sys.exit(f"verify: {dest}/{p}: size differs from source")
            back = inv_re.sub(lambda m: inverse[m.group(1).decode()].encode(), copy) if inv_re else copy
            if back != data:
                sys.exit(f"verify: {dest}/{p}: differs from source beyond the ids")
            for old in f.session_ids + f.agent_ids:
                if old.encode() in copy:
                    sys.exit(f"verify: {dest}/{p}: source id {old} left in copy")
            if p.endswith(".jsonl") or p.endswith(".json"):
                body = copy.decode("utf-8")
                chunks = body.splitlines() if p.endswith(".jsonl") else [body]
                for n, line in enumerate(chunks, 1):
                    if line.strip():
                        try:
                            json.loads(line)
                        except ValueError as e:
                            sys.exit(f"verify: {dest}/{p}:{n}: not JSON: {e}")
                        lines += 1
    print(json.dumps({
        "copies_checked": len(idx),
        "files_checked": files,
        "json_lines_parsed": lines,
        "fresh_ids": len(seen),
    }))


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build")
    b.add_argument("--src", required=True)
    b.add_argument("--out", required=True)
    b.add_argument("--size-mb", type=float, default=1100)
    v = sub.add_parser("verify")
    v.add_argument("--src", required=True)
    v.add_argument("--out", required=True)
    v.add_argument("--sample", type=int, default=40,
                   help="random copies to check besides the first copy of each source folder")
    v.add_argument("--seed", type=int, default=1)
    v.add_argument("--ids-out", help="write every source id here, one a line")
    args = ap.parse_args()
    {"build": cmd_build, "verify": cmd_verify}[args.cmd](args)


if __name__ == "__main__":
    main()
