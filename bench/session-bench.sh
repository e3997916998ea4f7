#!/usr/bin/env bash
# One large session of many workflow runs, against the many-small-sessions
# corpus, per byte: time and peak RSS of `orchlint check`.
#
#   bench/session-bench.sh [--bin PATH] [--sizes-mb "100 1024"] [--corpus DIR]
#
# The session repeats the lines of a real 2.1.39 run (fixtures/samples/
# 2.1.39-too-few-architects) with fresh uuids and ids (bench/repeat_session.py),
# so it holds one workflow run per repetition. --corpus (default
# /work/bench-corpus/projects, else built by bench/corpus-bench.sh
# --keep) is timed the same way for the per-byte comparison.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=$ROOT/target/release/orchlint
SIZES="100 1024"
CORPUS=/work/bench-corpus/projects
while [ $# -gt 0 ]; do
    case "$1" in
        --bin) BIN=$2; shift 2 ;;
        --sizes-mb) SIZES=$2; shift 2 ;;
        --corpus) CORPUS=$2; shift 2 ;;
        *) echo "session-bench: unknown argument: $1" >&2; exit 2 ;;
    esac
done
SRC=$ROOT/fixtures/samples/2.1.39-too-few-architects/-home-dev-churn-model/801217df-37c2-4273-9a93-79b6ac1c7a4a.jsonl
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT
# best of 3 after a warm-up: "wall_s user_s rss_kb"
measure() {
    "$@" >/dev/null 2>&1 || true
    best=""
    for _ in 1 2 3; do
        /usr/bin/time -f '%e %U %M' -o "$TMP/t" "$@" >/dev/null 2>/dev/null || true
        # time writes "Command exited with non-zero status" first when check finds errors
        read -r w u m < <(tail -n 1 "$TMP/t")
        if [ -z "$best" ] || awk "BEGIN{exit !($w < ${best%% *})}"; then best="$w $u $m"; fi
    done
    echo "$best"
}
printf '| input | MB | runs | wall s | user s | s per GB | peak RSS MB |\n|---|---:|---:|---:|---:|---:|---:|\n'
row() { # name bytes runs result
    read -r w u m <<< "$4"
    awk -v n="$1" -v b="$2" -v r="$3" -v w="$w" -v u="$u" -v m="$m" 'BEGIN{printf "| %s | %.0f | %s | %.2f | %.2f | %.2f | %.0f |\n", n, b/1048576, r, w, u, w/(b/1073741824), m/1024}'
}
if [ -d "$CORPUS" ]; then
    bytes=$(du -sb "$CORPUS" | cut -f1)
    row "many small sessions ($CORPUS)" "$bytes" - "$(measure "$BIN" check "$CORPUS" --format json)"
fi
for mb in $SIZES; do
    f=$TMP/session-$mb.jsonl
    python3 "$ROOT/bench/repeat_session.py" "$SRC" "$f" $((mb * 1048576)) >/dev/null
    runs=$(grep -c 'command-name>/ml-flow' "$f" || true)
    row "one session" "$(stat -c %s "$f")" "$runs" "$(measure "$BIN" check "$f" --format concise)"
    rm -f "$f"
done
