#!/usr/bin/env bash
# Stand-in for orchlint when testing bench/corpus-bench.sh before the real
# binary exists: `stand-in-orchlint.sh check DIR --format json` reads every
# .jsonl file under DIR once and prints an empty JSON report.
set -euo pipefail
[ "${1:-}" = "--version" ] && { echo "stand-in-orchlint (cat)"; exit 0; }
[ "${1:-}" = "check" ] || { echo "usage: $0 check DIR [--format json]" >&2; exit 2; }
find "$2" -type f -name '*.jsonl' -exec cat {} + > /dev/null
echo '[]'
