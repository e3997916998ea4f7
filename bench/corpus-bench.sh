#!/usr/bin/env bash
# Throughput benchmark: orchlint vs ripgrep vs jq on a large replicated corpus.
#
#   bench/corpus-bench.sh [--size-mb N] [--keep] [--bin PATH] [--runs N] [--write]
#
# See bench/README.md.  Environment: ORCHLINT_CORPUS (source corpus, default
# ../shared/corpus from the repo root), BENCH_DIR (where to build the corpus,
# default a new temp dir), TMPDIR.
set -euo pipefail

usage() {
    cat <<'EOF'
usage: bench/corpus-bench.sh [--size-mb N] [--keep] [--bin PATH] [--runs N] [--write]

  --size-mb N   build a corpus of at least N MB (MB = 2^20 bytes; default 1100)
  --keep        leave the corpus in place (reused by a later run with the same
                BENCH_DIR and --size-mb)
  --bin PATH    orchlint binary to time (default target/release/orchlint,
                built with `cargo build --release` if missing)
  --runs N      timed runs per tool, best one reported (default 3; one
                untimed warm-up run comes first)
  --write       also write the results to bench/results.md

  ORCHLINT_CORPUS  source corpus (default ../shared/corpus, from the repo root)
  BENCH_DIR        build the corpus here instead of a new temp dir
EOF
}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH="$ROOT/bench"

SIZE_MB=1100
KEEP=0
BIN=""
RUNS=3
WRITE=0
while [ $# -gt 0 ]; do
    case "$1" in
        --size-mb) SIZE_MB=${2:?--size-mb needs a value}; shift 2 ;;
        --size-mb=*) SIZE_MB=${1#*=}; shift ;;
        --keep) KEEP=1; shift ;;
        --bin) BIN=${2:?--bin needs a value}; shift 2 ;;
        --bin=*) BIN=${1#*=}; shift ;;
        --runs) RUNS=${2:?--runs needs a value}; shift 2 ;;
        --runs=*) RUNS=${1#*=}; shift ;;
        --write) WRITE=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "corpus-bench: unknown argument: $1" >&2; usage >&2; exit 2 ;;
    esac
done
[[ $SIZE_MB =~ ^[0-9]+([.][0-9]+)?$ ]] || { echo "corpus-bench: --size-mb must be a number" >&2; exit 2; }
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || { echo "corpus-bench: --runs must be a positive integer" >&2; exit 2; }

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'corpus-bench: %s\n' "$*" >&2; exit 2; }

# ---------------------------------------------------------------- tools
APT_UPDATED=0
apt_install() {
    command -v apt-get >/dev/null || die "$1 is missing and apt-get is not available"
    if [ "$APT_UPDATED" = 0 ]; then
        say "apt-get update"
        DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
        APT_UPDATED=1
    fi
    say "apt-get install -y $*"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}
command -v python3 >/dev/null || die "python3 is required"
command -v rg >/dev/null || apt_install ripgrep
command -v jq >/dev/null || apt_install jq
[ -x /usr/bin/time ] || apt_install time
TIME=/usr/bin/time

SRC=${ORCHLINT_CORPUS:-$ROOT/../shared/corpus}
[ -d "$SRC" ] || die "source corpus not found: $SRC (set ORCHLINT_CORPUS)"
SRC=$(cd "$SRC" && pwd)

if [ -z "$BIN" ]; then
    BIN="$ROOT/target/release/orchlint"
    if [ ! -x "$BIN" ]; then
        say "building orchlint (cargo build --release)"
        (cd "$ROOT" && cargo build --release) >&2
    fi
fi
[ -x "$BIN" ] || die "not an executable: $BIN"
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")

# ---------------------------------------------------------------- corpus dir
MADE_DIR=0
if [ -n "${BENCH_DIR:-}" ]; then
    OUT=$BENCH_DIR
    mkdir -p "$OUT"
    OUT=$(cd "$OUT" && pwd)
else
    OUT=$(mktemp -d "${TMPDIR:-/tmp}/orchlint-bench.XXXXXX")
    MADE_DIR=1
fi
WORK=$(mktemp -d "${TMPDIR:-/tmp}/orchlint-bench-work.XXXXXX")   # logs, timings: a few KB

FOREIGN=0
cleanup() {
    rm -rf "$WORK"
    if [ "$FOREIGN" = 1 ]; then return; fi
    if [ "$KEEP" = 1 ]; then
        echo "corpus kept in $OUT/projects" >&2
        return
    fi
    rm -rf "$OUT/projects" "$OUT/manifest.json"
    if [ "$MADE_DIR" = 1 ]; then rmdir "$OUT" 2>/dev/null || true; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

REUSE=0
if [ -e "$OUT/projects" ]; then
    if [ -f "$OUT/manifest.json" ] && python3 - "$OUT/manifest.json" "$SRC" "$SIZE_MB" <<'EOF'
import json, sys
m = json.load(open(sys.argv[1]))
sys.exit(0 if m["source"] == sys.argv[2] and float(m["size_mb"]) == float(sys.argv[3]) else 1)
EOF
    then
        REUSE=1
    else
        FOREIGN=1   # never delete what we did not build
        die "$OUT/projects exists and is not a corpus of this source and size; remove it or pick another BENCH_DIR"
    fi
fi

if [ "$REUSE" = 1 ]; then
    say "reusing the corpus in $OUT/projects"
    BUILD_SECS="(reused, not built)"
else
    # The corpus itself plus slack for file-system blocks (tens of thousands
    # of small files); nothing else is written to disk beyond a few KB.
    need_kb=$(awk -v s="$SIZE_MB" 'BEGIN { printf "%d", s * 1024 * 1.15 + 256 * 1024 }')
    free_kb=$(df -Pk "$OUT" | awk 'NR == 2 { print $4 }')
    [ "$free_kb" -ge "$need_kb" ] || die "not enough disk space in $OUT: need ~$((need_kb / 1024)) MB, have $((free_kb / 1024)) MB"
    say "building a corpus of >= $SIZE_MB MB in $OUT from $SRC"
    t0=$(date +%s.%N)
    python3 "$BENCH/build_corpus.py" build --src "$SRC" --out "$OUT" --size-mb "$SIZE_MB" > "$WORK/build.json"
    t1=$(date +%s.%N)
    BUILD_SECS=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f s", b - a }')
fi

# Sanity: sampled copies equal their source but for the ids, every line is
# JSON, fresh ids unique; and no source session uuid / agent id anywhere.
say "verifying the corpus"
python3 "$BENCH/build_corpus.py" verify --src "$SRC" --out "$OUT" --ids-out "$WORK/source-ids.txt" > "$WORK/verify.json"
rc=0
rg -F -w -l -f "$WORK/source-ids.txt" "$OUT/projects" > "$WORK/leaks.txt" || rc=$?
case $rc in
    1) ;;  # no match: good
    0) die "source ids found in the corpus, e.g. in $(head -1 "$WORK/leaks.txt")" ;;
    *) die "rg failed while looking for source ids (status $rc)" ;;
esac

read -r BYTES FILES SESSIONS DIRS < <(python3 - "$OUT/manifest.json" <<'EOF'
import json, sys
m = json.load(open(sys.argv[1]))
print(m["bytes"], m["files"], m["sessions"], len(m["copies"]))
EOF
)
JSONL_FILES=$(find "$OUT/projects" -type f -name '*.jsonl' | wc -l)
CORPUS_MB=$(awk -v b="$BYTES" 'BEGIN { printf "%.1f", b / 1048576 }')
echo
echo "corpus: $OUT/projects"
echo "  bytes:    $BYTES ($CORPUS_MB MB)"
echo "  files:    $FILES ($JSONL_FILES .jsonl)"
echo "  sessions: $SESSIONS (in $DIRS project folders)"
echo "  built in: $BUILD_SECS"
echo "  checked:  $(cat "$WORK/verify.json")"
echo

# ---------------------------------------------------------------- timing
# once NAME OK_CODES RUN CMD...   one timed run (RUN 0 is the warm-up, not
# counted); keeps the best time in BEST_<NAME>, the highest RSS in RSS_<NAME>.
once() {
    local name=$1 ok=$2 i=$3; shift 3
    local rc=0 line secs kb best rss
    "$TIME" -f '%e %M' -o "$WORK/time.txt" "$@" > /dev/null 2> "$WORK/$name.err" || rc=$?
    if [[ " $ok " != *" $rc "* ]]; then
        echo "corpus-bench: $name exited with status $rc; its stderr:" >&2
        tail -n 20 "$WORK/$name.err" >&2
        exit 2
    fi
    line=$(tail -n 1 "$WORK/time.txt")
    secs=${line% *}; kb=${line#* }
    if [ "$i" = 0 ]; then
        printf '    %-9s warm-up  %6.2f s  %7.1f MB  (exit %d)\n' "$name" "$secs" "$(awk -v k="$kb" 'BEGIN { print k / 1024 }')" "$rc" >&2
        return
    fi
    printf '    %-9s run %d    %6.2f s  %7.1f MB  (exit %d)\n' "$name" "$i" "$secs" "$(awk -v k="$kb" 'BEGIN { print k / 1024 }')" "$rc" >&2
    best=BEST_$name; rss=RSS_$name
    if [ -z "${!best:-}" ] || awk -v a="$secs" -v b="${!best}" 'BEGIN { exit !(a < b) }'; then printf -v "$best" '%s' "$secs"; fi
    if [ "$kb" -gt "${!rss:-0}" ]; then printf -v "$rss" '%s' "$kb"; fi
}

# orchlint and rg interleaved, run by run, so that both see the same load;
# orchlint: 0 = clean, 1 = violations found; rg: 0 = matches, 1 = none.
say "timing orchlint and rg, interleaved (1 warm-up + $RUNS runs each)"
for i in $(seq 0 "$RUNS"); do
    once orchlint "0 1" "$i" "$BIN" check "$OUT/projects" --format json
    once rg "0 1" "$i" rg -c '"type":"assistant"' "$OUT/projects"
done
say "timing jq (1 warm-up + $RUNS runs)"
for i in $(seq 0 "$RUNS"); do
    once jq "0" "$i" find "$OUT/projects" -type f -name '*.jsonl' -exec jq -c 'select(.type=="assistant")' {} +
done

row() {  # tool-label secs rss_kb
    awk -v t="$1" -v s="$2" -v k="$3" -v mb="$CORPUS_MB" 'BEGIN {
        mbs = (s > 0) ? sprintf("%.1f", mb / s) : "n/a"
        printf "| %s | %.2f | %s | %.1f |\n", t, s, mbs, k / 1024 }'
}
RATIO=$(awk -v a="$BEST_orchlint" -v b="$BEST_rg" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }')
CPU=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
RG_V=$(rg --version | head -1)
JQ_V=$(jq --version)
BIN_V=$("$BIN" --version 2>/dev/null | head -1 || true)

RESULTS=$(cat <<EOF
### orchlint corpus benchmark

Corpus: $CORPUS_MB MB ($BYTES bytes), $FILES files ($JSONL_FILES .jsonl), $SESSIONS sessions,
$DIRS project folders, replicated from \`$(basename "$(dirname "$SRC")")/$(basename "$SRC")\`.
Machine: $(nproc) CPUs${CPU:+ ($CPU)}, $(date -u +%Y-%m-%d).
Wall time is the best of $RUNS runs after one warm-up (page cache warm),
orchlint and rg interleaved run by run;
peak RSS is the highest of those runs; MB = 2^20 bytes.

| tool | wall s | MB/s | peak RSS MB |
|---|---:|---:|---:|
$(row "orchlint check --format json" "$BEST_orchlint" "$RSS_orchlint")
$(row "rg -c '\"type\":\"assistant\"'" "$BEST_rg" "$RSS_rg")
$(row "jq -c 'select(.type==\"assistant\")'" "$BEST_jq" "$RSS_jq")

orchlint / rg time: **${RATIO}x**

Versions: orchlint ${BIN_V:-"(no --version)"} (\`$BIN\`); $RG_V; $JQ_V.
EOF
)
echo
echo "$RESULTS"
if [ "$WRITE" = 1 ]; then
    printf '%s\n' "$RESULTS" > "$BENCH/results.md"
    say "wrote bench/results.md"
fi
