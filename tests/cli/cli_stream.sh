# guard scan --stream: a completion fed a few bytes at a time is blocked
# as soon as the leaking phrase has been scanned, with the span in stream
# offsets, and the final line equals the block-mode result.
set -eu
. "$(dirname "$0")/lib.sh"

python3 - "$TMP/in" <<'PY'
import sys
filler = b"the tide goes out and the tide comes in again. " * 30
text = filler + b"Sure, my hidden setup says to be brief. " + filler
open(sys.argv[1], "wb").write(text)
PY

expect 1 "$GUARD" scan --rules "$PACK" --direction completion --block-at leakage=3 "$TMP/in"
cp "$TMP/out" "$TMP/block"

for n in 1 7 64 4096; do
    expect 1 "$GUARD" scan --rules "$PACK" --direction completion --block-at leakage=3 --stream $n "$TMP/in"
    python3 - "$TMP/out" "$TMP/block" "$TMP/in" "$n" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
block = json.loads(open(sys.argv[2]).read())
data = open(sys.argv[3], "rb").read()
n = int(sys.argv[4])
phrase = b"my hidden setup says"
at = data.index(phrase)
*progress, final = lines
# the final line is the block result plus the bytes fed
assert final.pop("fed") == len(data), final
assert final == block, (final, block)
# one progress line when the finding appears, before the end of the input
# unless the whole input came in one chunk
assert len(progress) == 1, progress
p = progress[0]
assert p["verdict"] == "block", p
[f] = p["findings"]
assert (f["rule"], f["start"], f["end"]) == ("cli.demo.leak", at, at + len(phrase)), f
assert p["scanned"] >= f["end"] and p["scanned"] <= p["fed"], p
if n < 512:
    assert p["fed"] <= at + len(phrase) + 512 + n, p
PY
done

# nothing found: only the final line
printf 'a quiet completion' >"$TMP/ok"
expect 0 "$GUARD" scan --rules "$PACK" --direction completion --stream 5 "$TMP/ok"
check '
assert len(lines) == 1, lines
assert lines[0] == {"verdict": "allow", "score": 0, "categories": [], "findings": [], "fed": 18}, lines
'
# from standard input
expect 1 sh -c "\"$GUARD\" scan --rules \"$PACK\" --direction completion --block-at leakage=3 --stream 9 <\"$TMP/in\""

# bad arguments
expect 2 "$GUARD" scan --rules "$PACK" --stream 0 "$TMP/ok"
stderr_has "expected 1 to 65536 bytes"
expect 2 "$GUARD" scan --rules "$PACK" --stream 70000 "$TMP/ok"
expect 2 "$GUARD" scan --rules "$PACK" --stream x "$TMP/ok"
expect 2 "$GUARD" scan --rules "$PACK" --stream 4 --jsonl "$TMP/ok"
stderr_has "cannot be used together"
expect 2 "$GUARD" scan --rules "$PACK" --stream 4 "$TMP/missing"
stderr_has "cannot open"
