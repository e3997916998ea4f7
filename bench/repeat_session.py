# Builds a ~N-byte single session by repeating the lines of a real session,
# (From ../shared/repro/robustness/R10-gen-repeated-session.py.) Usage: repeat_session.py SRC DST BYTES
# giving every uuid / tool_use id / message id a fresh value per repetition.
import re, sys
src, dst, target = sys.argv[1], sys.argv[2], int(sys.argv[3])
lines = open(src, 'rb').read().splitlines(keepends=True)
sid = re.search(rb'"sessionId":"([0-9a-f-]{36})"', b''.join(lines)).group(1)
UUID = re.compile(rb'[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}')
IDS = re.compile(rb'"((?:toolu|msg|req)_[A-Za-z0-9_]+)"')
body = b''.join(lines)
size = 0; rep = 0
with open(dst, 'wb') as out:
    while size < target:
        tag = b'%012x' % rep
        def fu(m, tag=tag):
            u = m.group(0)
            return u if u == sid else u[:24] + tag
        chunk = UUID.sub(fu, body)
        chunk = IDS.sub(lambda m: b'"' + m.group(1) + b'_r' + tag + b'"', chunk)
        out.write(chunk); size += len(chunk); rep += 1
print("reps", rep, "bytes", size)
