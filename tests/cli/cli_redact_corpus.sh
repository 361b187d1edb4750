# Redaction over the project's own labelled PII and secret rows with the
# bundled packs: after `guard redact` (every mode), a new scan of the output
# finds nothing in pii or secret, so no value that a rule and its validator
# (Luhn, mod-97, checksums, entropy) accept survives; and every row that had
# such a finding was changed.
set -eu
. "$(dirname "$0")/lib.sh"

corpus=$SRC/tests/corpus
"$GUARD" redact --new-key >"$TMP/key"
for mode in replace mask hash encrypt; do
    for f in pii secrets; do
        expect 0 "$GUARD" redact --jsonl --field text --mode "$mode" \
            --key-file "$TMP/key" "$corpus/$f.jsonl"
        cp "$TMP/out" "$TMP/$f.$mode"
        # the findings before and after, in pii and secret only
        "$GUARD" scan --jsonl --direction both "$corpus/$f.jsonl" >"$TMP/before" || true
        "$GUARD" scan --jsonl --direction both "$TMP/$f.$mode" >"$TMP/after" || true
        python3 - "$TMP/before" "$TMP/after" "$corpus/$f.jsonl" "$TMP/$f.$mode" "$mode" <<'PY'
import json, sys
before = [json.loads(l) for l in open(sys.argv[1])]
after = [json.loads(l) for l in open(sys.argv[2])]
rows = [json.loads(l) for l in open(sys.argv[3])]
red = [json.loads(l) for l in open(sys.argv[4])]
mode = sys.argv[5]
keep = {"pii", "secret"}
assert len(before) == len(after) == len(rows) == len(red), "line counts"
hit = 0
for i, (b, a) in enumerate(zip(before, after)):
    fb = [f for f in b["findings"] if f["category"] in keep]
    fa = [f for f in a["findings"] if f["category"] in keep]
    assert not fa, f"{mode}: row {i + 1} still has {fa} in {red[i]['text']!r}"
    if fb:
        hit += 1
        assert red[i]["text"] != rows[i]["text"], f"{mode}: row {i + 1} unchanged"
        for f in fb:
            value = rows[i]["text"].encode()[f["start"]:f["end"]].decode("utf-8", "replace")
            if mode != "mask":
                assert value not in red[i]["text"], f"{mode}: {value!r} kept"
    else:
        assert red[i] == rows[i], f"{mode}: row {i + 1} changed without a finding"
assert hit >= 20, f"only {hit} rows had pii or secret findings"
PY
    done
done
# encrypt round trip restores the texts exactly (as plain text: unredact
# does not parse JSON records)
for f in pii secrets; do
    python3 -c 'import json,sys; sys.stdout.write("".join(json.loads(l)["text"] + "\n" for l in open(sys.argv[1])))' \
        "$corpus/$f.jsonl" >"$TMP/$f.txt"
    expect 0 "$GUARD" redact --mode encrypt --key-file "$TMP/key" "$TMP/$f.txt"
    cp "$TMP/out" "$TMP/$f.txt.enc"
    cmp -s "$TMP/$f.txt.enc" "$TMP/$f.txt" && fail "nothing encrypted in $f"
    expect 0 "$GUARD" unredact --key-file "$TMP/key" "$TMP/$f.txt.enc"
    cmp "$TMP/out" "$TMP/$f.txt" || fail "unredact of $f differs"
done
echo ok
